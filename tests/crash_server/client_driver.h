// ClientDriver: the crash_server test's client, on its own threads, through keel::Client
// on ConnectToServer. One thread starts every workflow and then waits for their results
// in order (each result becomes an Event::Kind::kResult); two threads send the signals
// the test asks for. keeld is killed under it, so a call that fails with UNAVAILABLE or
// DEADLINE_EXCEEDED is retried after a short backoff with the same request id: a start
// or a signal whose first attempt was recorded is not recorded again. A call that fails
// otherwise becomes an Event::Kind::kError and ends its thread. Thread-safe.
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "engine/client.h"
#include "engine/frontend.h"
#include "tests/crash_server/event_queue.h"

namespace keel::testing::crash_server {

class ClientDriver {
 public:
  // `address`: keeld's HOST:PORT (it may be down now and then).
  ClientDriver(const std::string& address, EventQueue& events);
  // Stop() and join the threads.
  ~ClientDriver();
  ClientDriver(const ClientDriver&) = delete;
  ClientDriver& operator=(const ClientDriver&) = delete;

  void Start();
  // Queues signal k of workflow i (sent once, retried as needed).
  void Signal(int i, int k);
  // Ends the threads at their next retry or call; returns at once.
  void Stop();

  // Calls that failed with a retryable code and were sent again.
  int retries() const { return retries_; }
  // Signals whose retry found the workflow closed (its first attempt had been recorded).
  int signals_after_close() const { return signals_after_close_; }

 private:
  void StartAndAwait();
  void SendSignals();
  // Calls `call(attempt)` until it returns; false when stopping first. Throws what
  // `call` throws other than a retryable ClientError.
  bool Retry(const std::function<void(int attempt)>& call);
  bool Stopping();

  EventQueue& events_;
  std::unique_ptr<Frontend> frontend_;
  std::unique_ptr<Client> client_;
  std::vector<std::thread> threads_;

  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::deque<std::pair<int, int>> signals_;  // (workflow, k) to send

  std::atomic<int> retries_{0};
  std::atomic<int> signals_after_close_{0};
};

}  // namespace keel::testing::crash_server
