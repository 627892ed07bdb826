// CloseWaits: callbacks waiting for a run to close, for callers that must not hold a
// thread while they wait (keeld's start-and-wait). Each gets `fn(true)` once the engine
// reports the run closed, or `fn(false)` at its deadline or when the waits shut down.
// Callbacks run on the waits' own thread, never under the lock of the run that closed
// (the engine reports a close while it holds that lock), except a result waiter's when
// the close comes with the result: it needs no lock, so it runs at once. Thread-safe.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>
#include <vector>

#include "engine/clock.h"
#include "keel/v1/workflow_service.pb.h"

namespace keel::core {

class CloseWaits {
 public:
  explicit CloseWaits(Clock& clock);
  ~CloseWaits();  // Stop

  // Shutdown, then waits until the callbacks have run and the thread has ended. A
  // callback may still call Add or Post meanwhile (they answer at once).
  void Stop();

  void Add(int64_t exec_id, Time deadline, std::function<void(bool closed)> fn);
  // A waiter for the run's result: when Closed is given it, `fn(true, &result)` runs at
  // once on the thread reporting the close, which holds the run's lock (so `fn` must not
  // call the engine); otherwise as Add's, with a null result.
  using RunResult = v1::GetWorkflowExecutionResultResponse;
  using ResultFn = std::function<void(bool closed, const RunResult* result)>;
  void AddForResult(int64_t exec_id, Time deadline, ResultFn fn);
  // The run closed: its waiters' callbacks run soon (with true). `result` gives the run's
  // result if the caller has it at hand (asked only when a result waiter waits).
  void Closed(int64_t exec_id, const std::function<std::optional<RunResult>()>& result = {});
  // Runs `fn` soon on the waits' thread (true, or false after Shutdown). For work that
  // takes a run's lock, which a commit's callback must not: the call holding that lock
  // may be waiting for the very thread that runs the callback.
  void Post(std::function<void(bool running)> fn);
  // Every waiter gets false now, and so does every later Add, at once.
  void Shutdown();

 private:
  struct Waiter {
    int64_t exec_id = 0;
    Time deadline;
    ResultFn fn;
    bool for_result = false;
  };
  void Insert(int64_t exec_id, Time deadline, ResultFn fn, bool for_result);
  void Loop();

  Clock& clock_;
  std::mutex mu_;
  std::condition_variable cv_;
  uint64_t next_id_ = 1;
  std::map<uint64_t, Waiter> waiters_;                         // by id
  std::multimap<Time, uint64_t> by_deadline_;                  // id by deadline
  std::unordered_multimap<int64_t, uint64_t> by_run_;         // id by exec id
  std::vector<std::pair<ResultFn, bool>> ready_;  // to run, with their outcome
  bool shutdown_ = false;
  std::thread thread_;
};

}  // namespace keel::core
