#include "bench/child_process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "bench/exit_cleanup.h"

namespace keel::bench {

namespace {

std::runtime_error SystemError(const std::string& what, int err) {
  return std::runtime_error(what + ": " + std::strerror(err));
}

}  // namespace

ChildProcess::ChildProcess(const std::vector<std::string>& argv) : name_(argv.at(0)) {
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) throw SystemError("pipe2", errno);
  const pid_t parent = getpid();
  // fork rather than posix_spawn: the child must set its death signal before exec. Only
  // async-signal-safe calls between fork and exec (the parent has threads).
  pid_t pid = fork();
  if (pid < 0) {
    int err = errno;
    close(fds[0]);
    close(fds[1]);
    throw SystemError("fork", err);
  }
  if (pid == 0) {
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != parent) _exit(127);
    int null_fd = open("/dev/null", O_RDONLY);
    if (null_fd < 0 || dup2(null_fd, STDIN_FILENO) < 0 || dup2(fds[1], STDOUT_FILENO) < 0)
      _exit(127);
    // The parent blocks no signals the child needs, but a sigmask survives exec.
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    execv(args[0], args.data());
    _exit(127);
  }
  close(fds[1]);  // so that the read end sees end of file once the child is gone
  pid_ = pid;
  stdout_fd_ = fds[0];
  TrackChild(pid_);
}

ChildProcess::~ChildProcess() {
  if (pid_ > 0) {
    kill(pid_, SIGKILL);
    Reap();
  }
}

std::optional<std::string> ChildProcess::ReadLine(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    size_t newline = buffer_.find('\n');
    if (newline != std::string::npos) {
      std::string line = buffer_.substr(0, newline);
      buffer_.erase(0, newline + 1);
      return line;
    }
    if (stdout_fd_ < 0) return std::nullopt;
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      throw std::runtime_error(name_ + " printed no line within " +
                               std::to_string(timeout.count()) + " ms");
    }
    pollfd p{.fd = stdout_fd_, .events = POLLIN};
    int ready = poll(&p, 1, static_cast<int>(left.count()));
    if (ready < 0 && errno == EINTR) continue;
    if (ready < 0) throw SystemError("poll on " + name_ + "'s stdout", errno);
    if (ready == 0) continue;  // the deadline check above throws
    char chunk[4096];
    ssize_t n = read(stdout_fd_, chunk, sizeof(chunk));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw SystemError("read from " + name_ + "'s stdout", errno);
    if (n == 0) {
      close(stdout_fd_);
      stdout_fd_ = -1;
      if (buffer_.empty()) return std::nullopt;
      std::string line = std::move(buffer_);  // a last line without "\n"
      buffer_.clear();
      return line;
    }
    buffer_.append(chunk, static_cast<size_t>(n));
  }
}

std::vector<std::string> ChildProcess::Stop(int sig, std::chrono::milliseconds grace,
                                            std::string* how) {
  std::vector<std::string> lines;
  if (pid_ <= 0) return lines;
  kill(pid_, sig);
  const auto deadline = std::chrono::steady_clock::now() + grace;
  try {
    while (true) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      auto line = ReadLine(std::max(left, std::chrono::milliseconds(1)));
      if (!line) break;
      lines.push_back(std::move(*line));
    }
  } catch (const std::runtime_error&) {
    kill(pid_, SIGKILL);  // it did not exit within the grace period
  }
  std::string ended = Reap();
  if (how) *how = ended;
  return lines;
}

std::string ChildProcess::Reap() {
  if (stdout_fd_ >= 0) {
    close(stdout_fd_);
    stdout_fd_ = -1;
  }
  int status = 0;
  while (waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
  UntrackChild(pid_);
  pid_ = -1;
  if (WIFEXITED(status)) return "exited with code " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return std::string("killed by ") + strsignal(WTERMSIG(status));
  return "ended";
}

}  // namespace keel::bench
