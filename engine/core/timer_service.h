// TimerService: fires durable timers (the `timers` table) and volatile deadlines (task
// leases, heartbeats) when the clock reaches them. Only the nearest durable timers are in
// memory: those due within `window` of now; the rest stay in the store until the clock
// approaches them. Due timers are handed to a small pool of threads so that many firing
// at once commit together. Owned by the engine; thread-safe.
//
// The service never decides whether a timer is still meaningful: the engine's fire
// handler checks the run's state, so a timer that was cancelled after it was loaded is
// harmless.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <thread>
#include <vector>

#include "engine/clock.h"
#include "engine/store/store.h"

namespace keel::core {

// Kinds of volatile deadlines; numbered apart from store::TimerKind.
enum class DeadlineKind : int {
  kWorkflowTaskLease = 100,   // ref 0
  kActivityLease = 101,       // ref: scheduled event id (start-to-close)
  kActivityHeartbeat = 102,   // ref: scheduled event id
  kRecoveredActivity = 103,   // ref: scheduled event id (held after a restart)
};

struct TimerEntryKey {
  int64_t exec_id = 0;
  int kind = 0;  // store::TimerKind or DeadlineKind
  int64_t ref = 0;
  auto operator<=>(const TimerEntryKey&) const = default;
};

class TimerService {
 public:
  // Called on a pool thread for each due timer. Durable keys have a store::TimerKind kind.
  using FireFn = std::function<void(const TimerEntryKey& key, Time fire_time)>;

  struct Options {
    Duration window = std::chrono::seconds(60);
    int fire_threads = 4;
    // Called after each fire handler returns, and when the runner woke and found nothing
    // due (its view of the store may have changed): lets time skipping look again.
    std::function<void()> on_activity;
  };

  TimerService(Clock& clock, store::Store& store, FireFn fire, Options options);
  ~TimerService();

  // Loads the first window and starts the threads.
  Status Start();
  // Stops the threads; timers not yet fired stay in the store.
  void Stop();

  // After a commit: timers the transition added and removed.
  void OnCommitted(const std::vector<store::TimerRow>& added,
                   const std::vector<store::TimerKey>& removed);
  // A volatile deadline (replaces an earlier one with the same key).
  void SetDeadline(DeadlineKind kind, int64_t exec_id, int64_t ref, Time when);
  void ClearDeadline(DeadlineKind kind, int64_t exec_id, int64_t ref);

  // The earliest known fire time (memory or store), for time skipping.
  std::optional<Time> NextFireTime();
  // True when no timer is due or being fired right now.
  bool Idle();
  // How many timers and deadlines are held in memory (the rest wait in the store).
  size_t InMemory();

 private:
  void Insert(const TimerEntryKey& key, Time when);  // requires mu_
  void Erase(const TimerEntryKey& key);                 // requires mu_
  Status LoadWindow(Time now);                          // requires mu_
  void Run();
  void FireLoop();

  Clock& clock_;
  store::Store& store_;
  FireFn fire_;
  Options options_;

  std::mutex mu_;
  std::condition_variable cv_;       // wakes Run: new nearer timer, stop
  std::condition_variable fire_cv_;  // wakes FireLoop
  std::set<std::pair<Time, TimerEntryKey>> entries_;
  std::map<TimerEntryKey, Time> by_key_;
  Time horizon_;                     // every durable timer with fire_time <= horizon_ is loaded
  std::optional<Time> next_in_store_;  // earliest durable fire time > horizon_
  std::deque<std::pair<TimerEntryKey, Time>> due_;
  std::set<TimerEntryKey> firing_;     // handed to the pool, not yet done
  Time wake_at_ = Time::max();      // when Run plans to wake; only earlier entries wake it
  bool stop_ = false;
  bool started_ = false;
  std::thread runner_;
  std::vector<std::thread> pool_;
};

}  // namespace keel::core
