// A TCP forwarder on loopback, for tests: it accepts connections on a port of its own
// and copies bytes both ways between each and a new connection to `target`. A test can
// stop the copying on the connections open at that moment (Freeze, FreezeReplies) while
// they stay open, as a peer whose host went away without a word would (a crash, a cable,
// a NAT that dropped the connection), or end them (Cut). Later connections are copied.
#pragma once

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace keel::testing {

class TcpForwarder {
 public:
  // `target` is "127.0.0.1:PORT".
  explicit TcpForwarder(const std::string& target);
  ~TcpForwarder();  // ends every connection
  TcpForwarder(const TcpForwarder&) = delete;
  TcpForwarder& operator=(const TcpForwarder&) = delete;

  // "127.0.0.1:PORT" to connect to instead of the target.
  const std::string& address() const { return address_; }
  // Stops copying both ways on the connections open now.
  void Freeze();
  // Stops copying from the target back to the client on the connections open now: what
  // the client sends still arrives, the answers do not.
  void FreezeReplies();
  // Ends the connections open now (both ends closed, whatever was not copied is lost).
  void Cut();
  // Waits until `n` connections in all were accepted; false if `timeout` came first.
  bool AwaitAccepted(size_t n, std::chrono::milliseconds timeout);

 private:
  struct Connection;
  void AcceptLoop();
  // Copies from `from` to `to` until either ends, the direction freezes or it is cut.
  static void Pump(Connection& c, bool reply);
  // Sets what `change` says on every open connection and wakes its pumps.
  void ChangeAll(void (*change)(Connection&));

  int target_port_ = 0;
  int listen_fd_ = -1;
  int stop_pipe_[2] = {-1, -1};  // written by the destructor: the acceptor ends
  std::string address_;
  std::mutex mu_;
  std::vector<std::unique_ptr<Connection>> connections_;  // every one accepted
  std::condition_variable accepted_;                      // one more in connections_
  std::thread acceptor_;
};

}  // namespace keel::testing
