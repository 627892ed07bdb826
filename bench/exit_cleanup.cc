#include "bench/exit_cleanup.h"

#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <stdexcept>

namespace keel::bench {

namespace {

// Everything the handler reads is fixed before it is armed; unlink, rmdir, kill and
// waitpid are async-signal-safe.
constexpr const char* kDbFileSuffixes[] = {"", "-wal", "-shm", "-journal", ".lock"};
constexpr int kDbFiles = sizeof(kDbFileSuffixes) / sizeof(kDbFileSuffixes[0]);
std::string g_paths[kDbFiles + 1];  // the database files, then the directory
volatile std::sig_atomic_t g_dir_armed = 0;

constexpr int kMaxChildren = 4;
std::atomic<pid_t> g_children[kMaxChildren];

constexpr int kSignals[] = {SIGINT, SIGTERM, SIGHUP, SIGABRT};

extern "C" void OnSignal(int sig) {
  for (auto& slot : g_children) {
    pid_t pid = slot.exchange(0);
    if (pid <= 0) continue;
    kill(pid, SIGKILL);
    waitpid(pid, nullptr, 0);
  }
  if (g_dir_armed) {
    for (int i = 0; i < kDbFiles; ++i) unlink(g_paths[i].c_str());
    rmdir(g_paths[kDbFiles].c_str());
  }
  signal(sig, SIG_DFL);
  raise(sig);
}

void InstallHandler() {
  static bool installed = false;
  if (installed) return;
  for (int sig : kSignals) std::signal(sig, OnSignal);
  installed = true;
}

}  // namespace

void ArmDirCleanup(const std::string& dir, const std::string& db_path) {
  g_dir_armed = 0;
  for (int i = 0; i < kDbFiles; ++i) g_paths[i] = db_path + kDbFileSuffixes[i];
  g_paths[kDbFiles] = dir;
  InstallHandler();
  g_dir_armed = 1;
}

void DisarmDirCleanup() { g_dir_armed = 0; }

void TrackChild(pid_t pid) {
  InstallHandler();
  for (auto& slot : g_children) {
    pid_t empty = 0;
    if (slot.compare_exchange_strong(empty, pid)) return;
  }
  throw std::logic_error("keel-bench tracks at most 4 child processes");
}

void UntrackChild(pid_t pid) {
  for (auto& slot : g_children) {
    pid_t expected = pid;
    if (slot.compare_exchange_strong(expected, 0)) return;
  }
}

}  // namespace keel::bench
