#include "tests/cli/process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <stdexcept>

#include "engine/clock.h"

extern char** environ;

namespace keel::testing {

namespace {

// The child's environment: ours with `changes` applied. Built before fork (no allocation
// between fork and exec).
std::vector<std::string> Environment(const EnvChanges& changes) {
  std::vector<std::string> out;
  for (char** e = environ; *e != nullptr; ++e) {
    std::string entry = *e;
    if (changes.count(entry.substr(0, entry.find('='))) == 0) out.push_back(entry);
  }
  for (const auto& [name, value] : changes) {
    if (value) out.push_back(name + "=" + *value);
  }
  return out;
}

std::vector<char*> Pointers(std::vector<std::string>& strings) {
  std::vector<char*> out;
  for (auto& s : strings) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

// Forks and execs argv with stdout (and stderr, when err_fd >= 0) redirected. Returns the pid.
pid_t Spawn(const std::vector<std::string>& argv, const EnvChanges& env, int out_fd, int err_fd) {
  std::vector<std::string> args = argv;
  std::vector<std::string> envs = Environment(env);
  std::vector<char*> arg_ptrs = Pointers(args);
  std::vector<char*> env_ptrs = Pointers(envs);
  pid_t parent = getpid();
  pid_t pid = fork();
  if (pid < 0) throw std::runtime_error(std::string("fork: ") + std::strerror(errno));
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);  // die with the test, whatever ends it
    if (getppid() != parent) _exit(127);
    int null = open("/dev/null", O_RDONLY);
    dup2(null, 0);
    dup2(out_fd, 1);
    if (err_fd >= 0) dup2(err_fd, 2);
    execve(arg_ptrs[0], arg_ptrs.data(), env_ptrs.data());
    _exit(127);
  }
  return pid;
}

Time Deadline(int seconds) { return Clock::System().Now() + std::chrono::seconds(seconds); }

// Milliseconds left until `deadline` for poll(), at least 0.
int MillisLeft(Time deadline) {
  auto left =
      std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::System().Now())
          .count();
  return left < 0 ? 0 : static_cast<int>(std::min<long long>(left, 1000000));
}

int ExitCode(int status) { return WIFEXITED(status) ? WEXITSTATUS(status) : -1; }

}  // namespace

std::string CommandResult::Describe() const {
  return "exit " + std::to_string(exit_code) + "\n--- stdout:\n" + out + "--- stderr:\n" + err;
}

CommandResult RunCommand(const std::vector<std::string>& argv, const EnvChanges& env,
                         int limit_seconds) {
  int out_pipe[2];
  int err_pipe[2];
  if (pipe2(out_pipe, O_CLOEXEC) != 0 || pipe2(err_pipe, O_CLOEXEC) != 0)
    throw std::runtime_error("pipe failed");
  pid_t pid = Spawn(argv, env, out_pipe[1], err_pipe[1]);
  close(out_pipe[1]);
  close(err_pipe[1]);

  CommandResult result;
  Time deadline = Deadline(limit_seconds);
  bool killed = false;
  pollfd fds[2] = {{out_pipe[0], POLLIN, 0}, {err_pipe[0], POLLIN, 0}};
  std::string* sinks[2] = {&result.out, &result.err};
  int open_fds = 2;
  while (open_fds > 0) {
    int n = poll(fds, 2, killed ? -1 : MillisLeft(deadline));
    if (n < 0 && errno == EINTR) continue;
    if (n == 0 && !killed) {
      kill(pid, SIGKILL);  // hanging: end it, then read what it wrote
      killed = true;
      continue;
    }
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || fds[i].revents == 0) continue;
      char buf[4096];
      ssize_t got = read(fds[i].fd, buf, sizeof buf);
      if (got > 0) {
        sinks[i]->append(buf, static_cast<size_t>(got));
      } else if (got == 0 || errno != EINTR) {
        close(fds[i].fd);
        fds[i].fd = -1;
        --open_fds;
      }
    }
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  result.exit_code = killed ? -1 : ExitCode(status);
  return result;
}

Process::Process(const std::vector<std::string>& argv, const std::string& stderr_path,
                 const EnvChanges& env) {
  int out_pipe[2];
  if (pipe2(out_pipe, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");
  int err_fd = open(stderr_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (err_fd < 0) throw std::runtime_error("cannot open " + stderr_path);
  pid_ = Spawn(argv, env, out_pipe[1], err_fd);
  close(out_pipe[1]);
  close(err_fd);
  stdout_fd_ = out_pipe[0];
}

Process::~Process() { KillAndReap(); }

void Process::Signal(int sig) {
  if (pid_ > 0) kill(pid_, sig);
}

void Process::KillAndReap() {
  if (pid_ > 0) {
    kill(pid_, SIGKILL);
    int status = 0;
    while (waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
    pid_ = -1;
  }
  if (stdout_fd_ >= 0) {
    close(stdout_fd_);
    stdout_fd_ = -1;
  }
}

bool Process::ReadLine(std::string* line, int limit_seconds) {
  Time deadline = Deadline(limit_seconds);
  while (true) {
    if (auto nl = buffer_.find('\n'); nl != std::string::npos) {
      *line = buffer_.substr(0, nl);
      buffer_.erase(0, nl + 1);
      return true;
    }
    if (stdout_fd_ < 0) return false;
    pollfd fd = {stdout_fd_, POLLIN, 0};
    int n = poll(&fd, 1, MillisLeft(deadline));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    char buf[4096];
    ssize_t got = read(stdout_fd_, buf, sizeof buf);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) {
      close(stdout_fd_);
      stdout_fd_ = -1;
      continue;  // a last line without "\n" stays in buffer_ for Wait
    }
    buffer_.append(buf, static_cast<size_t>(got));
  }
}

bool Process::WaitForLine(const std::string& text, std::string* line, int limit_seconds) {
  Time deadline = Deadline(limit_seconds);
  std::string l;
  while (Clock::System().Now() < deadline) {
    if (!ReadLine(&l, std::max(1, MillisLeft(deadline) / 1000))) return false;
    if (l.find(text) != std::string::npos) {
      if (line) *line = l;
      return true;
    }
  }
  return false;
}

int Process::Wait(std::string* rest, int limit_seconds) {
  Time deadline = Deadline(limit_seconds);
  std::string line;
  rest->clear();
  while (ReadLine(&line, std::max(1, MillisLeft(deadline) / 1000))) *rest += line + "\n";
  *rest += buffer_;
  buffer_.clear();
  if (stdout_fd_ >= 0) {  // still open after the limit: the process hangs
    KillAndReap();
    return -1;
  }
  int status = 0;
  while (waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
  pid_ = -1;
  return ExitCode(status);
}

}  // namespace keel::testing
