#include "tools/mcp/pipe_io.h"

#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace keel::tools::mcp {

namespace {

// Blocks SIGPIPE in this thread for its lifetime; a SIGPIPE raised meanwhile by our own
// write is consumed, so it is never delivered (the classic technique; no global
// disposition is changed).
class SigpipeGuard {
 public:
  SigpipeGuard() {
    sigemptyset(&pipe_);
    sigaddset(&pipe_, SIGPIPE);
    sigset_t pending;
    sigpending(&pending);
    was_pending_ = sigismember(&pending, SIGPIPE) == 1;
    pthread_sigmask(SIG_BLOCK, &pipe_, &old_);
  }
  ~SigpipeGuard() {
    if (raised_ && !was_pending_) {
      timespec zero{0, 0};
      while (sigtimedwait(&pipe_, nullptr, &zero) < 0 && errno == EINTR) {
      }
    }
    pthread_sigmask(SIG_SETMASK, &old_, nullptr);
  }
  void Raised() { raised_ = true; }

 private:
  sigset_t pipe_;
  sigset_t old_;
  bool was_pending_ = false;
  bool raised_ = false;
};

}  // namespace

Status WriteAll(int fd, std::string_view data, Time deadline, Clock& clock) {
  if (fd < 0) return Unavailable("the pipe is closed");
  SigpipeGuard guard;
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n > 0) {
      done += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EPIPE) {
      guard.Raised();
      return Unavailable("the reader closed the pipe");
    }
    if (n < 0 && errno != EAGAIN) return Unavailable(std::string("write: ") + std::strerror(errno));
    Time now = clock.Now();
    if (now >= deadline) return DeadlineExceeded("the reader stopped reading");
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now).count();
    pollfd p{fd, POLLOUT, 0};
    ::poll(&p, 1, static_cast<int>(std::clamp<int64_t>(left, 1, 100)));
  }
  return Status::Ok();
}

}  // namespace keel::tools::mcp
