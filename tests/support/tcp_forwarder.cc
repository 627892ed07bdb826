#include "tests/support/tcp_forwarder.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fcntl.h>

#include <atomic>
#include <cerrno>
#include <stdexcept>

namespace keel::testing {

namespace {

sockaddr_in Loopback(int port) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  return addr;
}

// Waits until `fd` (if not -1) or `wake` is readable; true when `wake` is.
bool WaitFor(int fd, int wake) {
  pollfd fds[2] = {{wake, POLLIN, 0}, {fd, POLLIN, 0}};
  while (poll(fds, fd < 0 ? 1 : 2, -1) < 0 && errno == EINTR) {
  }
  return (fds[0].revents & POLLIN) != 0;
}

// MSG_NOSIGNAL: a socket Cut (or reset by its peer) fails the write instead of raising
// SIGPIPE, which would end the test process.
bool WriteAll(int fd, const char* data, ssize_t n) {
  while (n > 0) {
    ssize_t w = send(fd, data, n, MSG_NOSIGNAL);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    data += w;
    n -= w;
  }
  return true;
}

}  // namespace

// One forwarded connection: the client's end, the target's end, and a wake-up pipe per
// direction, written whenever a flag changes.
struct TcpForwarder::Connection {
  int client = -1, target = -1;
  int wake[2][2] = {{-1, -1}, {-1, -1}};  // [reply][read end, write end]
  std::atomic<bool> frozen[2] = {false, false};
  std::atomic<bool> cut{false};
  std::thread pumps[2];
  void Wake() {
    char c = 1;
    for (auto& pipe : wake) (void)write(pipe[1], &c, 1);
  }
};

TcpForwarder::TcpForwarder(const std::string& target) {
  target_port_ = std::stoi(target.substr(target.rfind(':') + 1));
  if (pipe(stop_pipe_) != 0) throw std::runtime_error("pipe failed");
  listen_fd_ = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr = Loopback(0);
  socklen_t len = sizeof(addr);
  if (bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 || listen(listen_fd_, 16) != 0 ||
      getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    throw std::runtime_error("cannot listen on loopback");
  }
  address_ = "127.0.0.1:" + std::to_string(ntohs(addr.sin_port));
  acceptor_ = std::thread([this] { AcceptLoop(); });
}

TcpForwarder::~TcpForwarder() {
  char c = 1;
  (void)write(stop_pipe_[1], &c, 1);
  acceptor_.join();
  Cut();
  for (auto& c : connections_) {
    for (auto& t : c->pumps) t.join();
    close(c->client);
    close(c->target);
    for (auto& pipe : c->wake) {
      close(pipe[0]);
      close(pipe[1]);
    }
  }
  close(listen_fd_);
  close(stop_pipe_[0]);
  close(stop_pipe_[1]);
}

void TcpForwarder::ChangeAll(void (*change)(Connection&)) {
  std::lock_guard<std::mutex> g(mu_);
  for (auto& c : connections_) {
    change(*c);
    c->Wake();
  }
}

void TcpForwarder::Freeze() {
  ChangeAll([](Connection& c) { c.frozen[0] = c.frozen[1] = true; });
}

void TcpForwarder::FreezeReplies() {
  ChangeAll([](Connection& c) { c.frozen[1] = true; });
}

void TcpForwarder::Cut() {
  ChangeAll([](Connection& c) {
    c.cut = true;
    shutdown(c.client, SHUT_RDWR);
    shutdown(c.target, SHUT_RDWR);
  });
}

void TcpForwarder::AcceptLoop() {
  while (!WaitFor(listen_fd_, stop_pipe_[0])) {
    int client = accept(listen_fd_, nullptr, nullptr);
    if (client < 0) continue;
    auto c = std::make_unique<Connection>();
    c->client = client;
    c->target = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr = Loopback(target_port_);
    // Non-blocking wake pipes: a change never blocks on a pipe nobody reads any more.
    if (c->target < 0 || connect(c->target, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
        pipe2(c->wake[0], O_NONBLOCK) != 0 || pipe2(c->wake[1], O_NONBLOCK) != 0) {
      for (int fd : {c->client, c->target, c->wake[0][0], c->wake[0][1], c->wake[1][0], c->wake[1][1]}) {
        if (fd >= 0) close(fd);
      }
      continue;
    }
    int one = 1;
    setsockopt(c->client, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    setsockopt(c->target, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    Connection& ref = *c;
    std::lock_guard<std::mutex> g(mu_);
    ref.pumps[0] = std::thread([&ref] { Pump(ref, false); });
    ref.pumps[1] = std::thread([&ref] { Pump(ref, true); });
    connections_.push_back(std::move(c));
    accepted_.notify_all();
  }
}

bool TcpForwarder::AwaitAccepted(size_t n, std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  return accepted_.wait_for(lock, timeout, [&] { return connections_.size() >= n; });
}

void TcpForwarder::Pump(Connection& c, bool reply) {
  const int from = reply ? c.target : c.client;
  const int to = reply ? c.client : c.target;
  const int wake = c.wake[reply][0];
  char buf[16384];
  while (!c.cut) {
    const bool frozen = c.frozen[reply];
    if (WaitFor(frozen ? -1 : from, wake) || c.frozen[reply] || c.cut) {
      (void)read(wake, buf, sizeof(buf));  // a flag changed: look again
      continue;
    }
    ssize_t n = read(from, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0 || !WriteAll(to, buf, n)) {
      shutdown(to, SHUT_WR);
      return;
    }
  }
}

}  // namespace keel::testing
