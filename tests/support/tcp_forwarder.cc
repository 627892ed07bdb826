#include "tests/support/tcp_forwarder.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

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

// Whether `fd` is readable, or the pipe is (then false); waits for either.
bool Readable(int fd, int pipe_fd) {
  pollfd fds[2] = {{fd, POLLIN, 0}, {pipe_fd, POLLIN, 0}};
  while (poll(fds, 2, -1) < 0) {
  }
  return (fds[1].revents & POLLIN) == 0;
}

bool WriteAll(int fd, const char* data, ssize_t n) {
  while (n > 0) {
    ssize_t w = write(fd, data, n);
    if (w <= 0) return false;
    data += w;
    n -= w;
  }
  return true;
}

}  // namespace

TcpForwarder::TcpForwarder(const std::string& target) {
  target_port_ = std::stoi(target.substr(target.rfind(':') + 1));
  if (pipe(freeze_pipe_) != 0 || pipe(stop_pipe_) != 0) throw std::runtime_error("pipe failed");
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
  {
    std::lock_guard<std::mutex> g(mu_);
    for (int fd : fds_) shutdown(fd, SHUT_RDWR);
  }
  for (auto& t : threads_) t.join();
  for (int fd : fds_) close(fd);
  close(listen_fd_);
  for (int fd : {freeze_pipe_[0], freeze_pipe_[1], stop_pipe_[0], stop_pipe_[1]}) close(fd);
}

void TcpForwarder::Freeze() {
  char c = 1;
  (void)write(freeze_pipe_[1], &c, 1);
}

void TcpForwarder::AcceptLoop() {
  while (Readable(listen_fd_, stop_pipe_[0])) {
    int in = accept(listen_fd_, nullptr, nullptr);
    if (in < 0) continue;
    int out = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr = Loopback(target_port_);
    if (connect(out, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
      close(in);
      close(out);
      continue;
    }
    int one = 1;
    setsockopt(in, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    setsockopt(out, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    std::lock_guard<std::mutex> g(mu_);
    fds_.push_back(in);
    fds_.push_back(out);
    threads_.emplace_back([this, in, out] { Pump(in, out); });
    threads_.emplace_back([this, in, out] { Pump(out, in); });
  }
}

void TcpForwarder::Pump(int from, int to) {
  char buf[16384];
  while (Readable(from, freeze_pipe_[0])) {
    ssize_t n = read(from, buf, sizeof(buf));
    if (n <= 0 || !WriteAll(to, buf, n)) {
      shutdown(to, SHUT_WR);
      return;
    }
  }
  // Frozen: nothing more is copied, and the connection stays open until the destructor.
  pollfd stop = {stop_pipe_[0], POLLIN, 0};
  while (poll(&stop, 1, -1) < 0) {
  }
}

}  // namespace keel::testing
