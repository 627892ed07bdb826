// A TCP forwarder on loopback, for tests: it accepts connections on a port of its own
// and copies bytes both ways between each and a new connection to `target`, until
// Freeze(). Then it stops copying but keeps every connection open, as a peer whose host
// went away without a word (a crash, a cable, a NAT that dropped the connection).
#pragma once

#include <atomic>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace keel::testing {

class TcpForwarder {
 public:
  // `target` is "127.0.0.1:PORT".
  explicit TcpForwarder(const std::string& target);
  ~TcpForwarder();  // closes every connection
  TcpForwarder(const TcpForwarder&) = delete;
  TcpForwarder& operator=(const TcpForwarder&) = delete;

  // "127.0.0.1:PORT" to connect to instead of the target.
  const std::string& address() const { return address_; }
  // Stops copying, on every connection, now and later.
  void Freeze();

 private:
  void AcceptLoop();
  // Copies from `from` to `to` until either ends, Freeze or the destructor.
  void Pump(int from, int to);

  int target_port_ = 0;
  int listen_fd_ = -1;
  int freeze_pipe_[2] = {-1, -1};  // written once by Freeze: stays readable
  int stop_pipe_[2] = {-1, -1};    // written once by the destructor
  std::string address_;
  std::mutex mu_;
  std::vector<int> fds_;  // every connection's two ends, closed by the destructor
  std::vector<std::thread> threads_;
  std::thread acceptor_;
};

}  // namespace keel::testing
