#include "tools/mcp/subprocess.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace keel::tools::mcp {

namespace {

struct Pipe {
  internal::UniqueFd read;
  internal::UniqueFd write;
};

Result<Pipe> MakePipe() {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0)
    return Unavailable(std::string("pipe: ") + std::strerror(errno));
  return Pipe{internal::UniqueFd(fds[0]), internal::UniqueFd(fds[1])};
}

void SetNonBlocking(int fd) { ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK); }

// The spawn attributes and file actions, released in one place whatever happens.
struct SpawnSetup {
  posix_spawn_file_actions_t actions;
  posix_spawnattr_t attr;
  SpawnSetup() {
    posix_spawn_file_actions_init(&actions);
    posix_spawnattr_init(&attr);
  }
  ~SpawnSetup() {
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
  }
};

}  // namespace

Result<std::unique_ptr<Subprocess>> Subprocess::Spawn(const std::vector<std::string>& argv,
                                                      const std::vector<std::string>& env,
                                                      const std::string& working_directory) {
  if (argv.empty() || argv[0].empty()) return InvalidArgument("no command to run");
  KEEL_ASSIGN_OR_RETURN(Pipe in, MakePipe());
  KEEL_ASSIGN_OR_RETURN(Pipe out, MakePipe());
  KEEL_ASSIGN_OR_RETURN(Pipe err, MakePipe());

  SpawnSetup setup;
  posix_spawn_file_actions_adddup2(&setup.actions, in.read.get(), STDIN_FILENO);
  posix_spawn_file_actions_adddup2(&setup.actions, out.write.get(), STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&setup.actions, err.write.get(), STDERR_FILENO);
  // Nothing else of Keel's (database files, sockets) leaks into third-party code.
  posix_spawn_file_actions_addclosefrom_np(&setup.actions, STDERR_FILENO + 1);
  if (!working_directory.empty()) {
    posix_spawn_file_actions_addchdir_np(&setup.actions, working_directory.c_str());
  }
  // Its own process group (so the whole group can be signalled, and a Ctrl-C meant for
  // Keel reaches the server only through its closed stdin), no blocked signals, and the
  // default disposition for signals Keel may ignore or block (SIGPIPE around writes).
  sigset_t empty;
  sigemptyset(&empty);
  sigset_t defaults;
  sigemptyset(&defaults);
  for (int s : {SIGPIPE, SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGCHLD}) sigaddset(&defaults, s);
  posix_spawnattr_setflags(&setup.attr,
                           POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  posix_spawnattr_setpgroup(&setup.attr, 0);
  posix_spawnattr_setsigmask(&setup.attr, &empty);
  posix_spawnattr_setsigdefault(&setup.attr, &defaults);

  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  std::vector<char*> envp;
  for (const auto& e : env) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);

  pid_t pid = -1;
  int rc =
      ::posix_spawnp(&pid, argv[0].c_str(), &setup.actions, &setup.attr, args.data(), envp.data());
  if (rc == ENOENT) return NotFound("'" + argv[0] + "': command not found");
  if (rc != 0) return Unavailable("cannot start '" + argv[0] + "': " + std::strerror(rc));

  std::unique_ptr<Subprocess> p(new Subprocess());
  p->pid_ = pid;
  // Without a pidfd (kernels before 5.3) waits fall back to polling waitpid.
  p->pidfd_.Reset(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
  p->stdin_ = std::move(in.write);
  p->stdout_ = std::move(out.read);
  p->stderr_ = std::move(err.read);
  SetNonBlocking(p->stdin_.get());
  SetNonBlocking(p->stdout_.get());
  SetNonBlocking(p->stderr_.get());
  return p;
}

Subprocess::~Subprocess() {
  if (pid_ <= 0) return;
  if (!TryReap()) {
    Signal(SIGKILL);
    WaitUntil(Time::max(), Clock::System());
  }
}

bool Subprocess::TryReap() {
  std::lock_guard<std::mutex> lock(mu_);
  if (exit_status_) return true;
  int status = 0;
  pid_t r = ::waitpid(pid_, &status, WNOHANG);
  if (r == pid_) {
    exit_status_ = status;
    return true;
  }
  if (r < 0 && errno == ECHILD) {  // reaped elsewhere (a SIGCHLD handler of the application)
    exit_status_ = 0;
    return true;
  }
  return false;
}

bool Subprocess::WaitUntil(Time deadline, Clock& clock) {
  for (;;) {
    if (TryReap()) return true;
    Time now = clock.Now();
    if (now >= deadline) return false;
    // Short slices so that the deadline is judged by `clock`, not by poll's own timer.
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now).count();
    int slice = static_cast<int>(std::clamp<int64_t>(left, 1, 100));
    pollfd p{pidfd_.get(), POLLIN, 0};
    ::poll(&p, pidfd_.valid() ? 1 : 0, slice);
  }
}

std::optional<int> Subprocess::ExitStatus() const {
  std::lock_guard<std::mutex> lock(mu_);
  return exit_status_;
}

void Subprocess::Signal(int signal) {
  std::lock_guard<std::mutex> lock(mu_);
  // After reaping, the pid (and so the group id) may belong to someone else.
  if (exit_status_) return;
  ::kill(-pid_, signal);
}

std::string Subprocess::DescribeExit(int wait_status) {
  if (WIFEXITED(wait_status))
    return "exited with status " + std::to_string(WEXITSTATUS(wait_status));
  if (WIFSIGNALED(wait_status)) {
    int sig = WTERMSIG(wait_status);
    return "was killed by signal " + std::to_string(sig) + " (" + ::strsignal(sig) + ")";
  }
  return "stopped";
}

}  // namespace keel::tools::mcp
