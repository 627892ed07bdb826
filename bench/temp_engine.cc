#include "bench/temp_engine.h"

#include <stdlib.h>
#include <unistd.h>

#include <csignal>
#include <filesystem>
#include <stdexcept>
#include <system_error>

#include "bench/tuning.h"

namespace keel::bench {

namespace {

// The files of the live TempEngine, removed by OnSignal when keel-bench is interrupted
// (Ctrl-C) so no database is left behind. unlink and rmdir are async-signal-safe; the
// paths are fixed before the handler is installed.
constexpr const char* kDbFileSuffixes[] = {"", "-wal", "-shm", "-journal", ".lock"};
constexpr int kDbFiles = sizeof(kDbFileSuffixes) / sizeof(kDbFileSuffixes[0]);
std::string g_cleanup_paths[kDbFiles + 1];  // the database files, then the directory
volatile std::sig_atomic_t g_cleanup_armed = 0;

extern "C" void OnSignal(int sig) {
  if (g_cleanup_armed) {
    for (int i = 0; i < kDbFiles; ++i) unlink(g_cleanup_paths[i].c_str());
    rmdir(g_cleanup_paths[kDbFiles].c_str());
  }
  signal(sig, SIG_DFL);
  raise(sig);
}

void ArmCleanup(const std::string& dir, const std::string& db_path) {
  for (int i = 0; i < kDbFiles; ++i) g_cleanup_paths[i] = db_path + kDbFileSuffixes[i];
  g_cleanup_paths[kDbFiles] = dir;
  g_cleanup_armed = 1;
  std::signal(SIGINT, OnSignal);
  std::signal(SIGTERM, OnSignal);
}

}  // namespace

TempEngine::TempEngine(const BenchOptions& options,
                       const std::function<void(EngineOptions&)>& tweak) {
  std::filesystem::path parent = options.dir.empty() ? std::filesystem::temp_directory_path()
                                                     : std::filesystem::path(options.dir);
  std::filesystem::create_directories(parent);
  std::string tmpl = (parent / "keel-bench-XXXXXX").string();
  if (!mkdtemp(tmpl.data())) {
    throw std::runtime_error("cannot create a temporary directory under " + parent.string());
  }
  dir_ = tmpl;
  db_path_ = dir_ + "/keel.db";
  ArmCleanup(dir_, db_path_);

  EngineOptions engine_options;
  engine_options.db_path = db_path_;
  engine_options.durability = options.durability;
  engine_options.group_commit = options.group_commit;
  engine_options.timer_threads = BenchTimerThreads(options);
  if (tweak) tweak(engine_options);
  auto engine = Engine::Open(engine_options);
  if (!engine.ok()) {
    g_cleanup_armed = 0;
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
    throw std::runtime_error("cannot open the engine: " + engine.status().ToString());
  }
  engine_ = std::move(*engine);
}

TempEngine::~TempEngine() {
  engine_.reset();
  g_cleanup_armed = 0;
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

}  // namespace keel::bench
