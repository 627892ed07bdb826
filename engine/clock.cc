#include "engine/clock.h"

#include <algorithm>

namespace keel {

Clock& Clock::System() {
  static SystemClock clock;
  return clock;
}

Time SystemClock::Now() const { return std::chrono::system_clock::now(); }

bool SystemClock::WaitUntil(std::unique_lock<std::mutex>& lock, std::condition_variable& cv,
                            Time deadline, const std::function<bool()>& done) {
  // Wait in bounded slices: condition_variable::wait_until overflows on far deadlines.
  constexpr auto kSlice = std::chrono::hours(1);
  while (!done()) {
    Time now = Now();
    if (now >= deadline) return false;
    cv.wait_until(lock, std::min(deadline, now + kSlice));
  }
  return true;
}

ManualClock::ManualClock(Time start) : now_(start) {}

Time ManualClock::DefaultStart() {
  // 2026-01-01T00:00:00Z
  return Time(std::chrono::seconds(1767225600));
}

Time ManualClock::Now() const {
  std::lock_guard<std::mutex> g(mu_);
  return now_;
}

bool ManualClock::WaitUntil(std::unique_lock<std::mutex>& lock, std::condition_variable& cv,
                            Time deadline, const std::function<bool()>& done) {
  {
    std::lock_guard<std::mutex> g(mu_);
    waiters_.push_back({lock.mutex(), &cv});
  }
  cv.wait(lock, [&] { return done() || Now() >= deadline; });
  // Leave only when no WakeAll still holds a pointer to our cv (it may be destroyed once
  // we return). Unlock first: WakeAll takes our mutex.
  lock.unlock();
  {
    std::unique_lock<std::mutex> g(mu_);
    wake_done_.wait(g, [&] { return waking_ == 0; });
    auto it = std::find_if(waiters_.begin(), waiters_.end(),
                           [&](const Waiter& w) { return w.cv == &cv && w.mutex == lock.mutex(); });
    if (it != waiters_.end()) waiters_.erase(it);
  }
  lock.lock();
  return done();  // again: others may have run while the lock was released
}

void ManualClock::Advance(Duration d) { AdvanceTo(Now() + d); }

void ManualClock::AdvanceTo(Time t) {
  {
    std::lock_guard<std::mutex> g(mu_);
    if (t <= now_) return;
    now_ = t;
  }
  WakeAll();
}

int ManualClock::Waiters() const {
  std::lock_guard<std::mutex> g(mu_);
  return static_cast<int>(waiters_.size());
}

void ManualClock::WakeAll() {
  std::vector<Waiter> waiters;
  {
    std::lock_guard<std::mutex> g(mu_);
    waiters = waiters_;
    ++waking_;
  }
  // Taking each waiter's mutex orders this wake-up after its predicate check, so the
  // new time is never missed.
  for (const Waiter& w : waiters) {
    { std::lock_guard<std::mutex> g(*w.mutex); }
    w.cv->notify_all();
  }
  {
    std::lock_guard<std::mutex> g(mu_);
    --waking_;
  }
  wake_done_.notify_all();
}

}  // namespace keel
