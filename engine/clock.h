// Clock: the only source of time in Keel. SystemClock reads the host clock; ManualClock
// moves only when a test advances it, which is how tests run 30-day timers without
// waiting. Injected through every options struct; no other file reads the host clock.
// Thread-safe.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <vector>

namespace keel {

using Time = std::chrono::system_clock::time_point;
using Duration = std::chrono::system_clock::duration;

// Microseconds since the Unix epoch: how times are persisted.
inline int64_t ToMicros(Time t) {
  return std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count();
}
inline Time FromMicros(int64_t us) { return Time(std::chrono::microseconds(us)); }

class Clock {
 public:
  virtual ~Clock() = default;
  virtual Time Now() const = 0;

  // Like cv.wait_until(lock, deadline, done), but with this clock's notion of time:
  // returns when done() is true or Now() >= deadline. `lock` must hold the mutex that
  // guards done()'s state; callers notify `cv` when that state changes. Returns done().
  virtual bool WaitUntil(std::unique_lock<std::mutex>& lock, std::condition_variable& cv,
                         Time deadline, const std::function<bool()>& done) = 0;

  // The process-wide SystemClock.
  static Clock& System();
};

class SystemClock final : public Clock {
 public:
  Time Now() const override;
  bool WaitUntil(std::unique_lock<std::mutex>& lock, std::condition_variable& cv, Time deadline,
                 const std::function<bool()>& done) override;
};

// Time that moves only when told. Advance() wakes every WaitUntil whose deadline it
// passes. Do not call Advance() while holding a mutex that a waiter passes to WaitUntil.
class ManualClock final : public Clock {
 public:
  // Starts at 2026-01-01T00:00:00Z unless told otherwise, so histories are reproducible.
  explicit ManualClock(Time start = DefaultStart());

  Time Now() const override;
  bool WaitUntil(std::unique_lock<std::mutex>& lock, std::condition_variable& cv, Time deadline,
                 const std::function<bool()>& done) override;

  void Advance(Duration d);
  // Moves to `t`; never backwards (an earlier t is ignored).
  void AdvanceTo(Time t);
  // How many threads are inside WaitUntil right now (for tests that step time).
  int Waiters() const;

  static Time DefaultStart();

 private:
  struct Waiter {
    std::mutex* mutex;
    std::condition_variable* cv;
  };
  void WakeAll();

  mutable std::mutex mu_;
  std::condition_variable wake_done_;
  Time now_;
  std::vector<Waiter> waiters_;
  int waking_ = 0;  // WakeAll calls using a copy of waiters_; a waiter leaves only at 0
};

}  // namespace keel
