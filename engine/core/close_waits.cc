#include "engine/core/close_waits.h"

#include <pthread.h>

namespace keel::core {

CloseWaits::CloseWaits(Clock& clock) : clock_(clock) {
  thread_ = std::thread([this] {
    pthread_setname_np(pthread_self(), "keel-waits");
    Loop();
  });
}

CloseWaits::~CloseWaits() { Stop(); }

void CloseWaits::Stop() {
  Shutdown();
  if (thread_.joinable()) thread_.join();
}

void CloseWaits::Add(int64_t exec_id, Time deadline, std::function<void(bool)> fn) {
  Insert(exec_id, deadline, [fn = std::move(fn)](bool closed, const RunResult*) { fn(closed); }, false);
}

void CloseWaits::AddForResult(int64_t exec_id, Time deadline, ResultFn fn) {
  Insert(exec_id, deadline, std::move(fn), true);
}

void CloseWaits::Insert(int64_t exec_id, Time deadline, ResultFn fn, bool for_result) {
  std::unique_lock<std::mutex> lock(mu_);
  if (shutdown_) {
    lock.unlock();
    fn(false, nullptr);
    return;
  }
  const uint64_t id = next_id_++;
  waiters_[id] = Waiter{exec_id, deadline, std::move(fn), for_result};
  const bool earliest = by_deadline_.empty() || deadline < by_deadline_.begin()->first;
  by_deadline_.emplace(deadline, id);
  by_run_.emplace(exec_id, id);
  if (earliest) cv_.notify_one();  // the thread sleeps until the earliest deadline
}

void CloseWaits::Closed(int64_t exec_id, const std::function<std::optional<RunResult>()>& result) {
  std::vector<ResultFn> now;  // result waiters, answered here
  std::optional<RunResult> r;
  {
    std::lock_guard<std::mutex> g(mu_);
    auto [first, last] = by_run_.equal_range(exec_id);
    if (first == last) return;
    bool asked = false, posted = false;
    for (auto it = first; it != last; ++it) {
      Waiter& w = waiters_.at(it->second);
      auto [d_first, d_last] = by_deadline_.equal_range(w.deadline);
      for (auto d = d_first; d != d_last; ++d) {
        if (d->second == it->second) {
          by_deadline_.erase(d);
          break;
        }
      }
      if (w.for_result && result && !asked) {
        r = result();
        asked = true;
      }
      if (w.for_result && r) {
        now.push_back(std::move(w.fn));
      } else {
        ready_.emplace_back(std::move(w.fn), true);
        posted = true;
      }
      waiters_.erase(it->second);
    }
    by_run_.erase(first, last);
    // For callbacks to run, or to leave the clock's wait when no deadline is left (tests
    // on a ManualClock count its waiters). Another deadline that went away needs no
    // wake-up: at worst the thread wakes at it, finds nothing due and sleeps on.
    if (posted || by_deadline_.empty()) cv_.notify_one();
  }
  for (auto& fn : now) fn(true, &*r);
}

void CloseWaits::Post(std::function<void(bool)> fn) {
  std::unique_lock<std::mutex> lock(mu_);
  if (shutdown_) {
    lock.unlock();
    fn(false);
    return;
  }
  ready_.emplace_back([fn = std::move(fn)](bool running, const RunResult*) { fn(running); }, true);
  cv_.notify_one();
}

void CloseWaits::Shutdown() {
  std::lock_guard<std::mutex> g(mu_);
  shutdown_ = true;
  cv_.notify_one();
}

void CloseWaits::Loop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    auto woken = [&] { return shutdown_ || !ready_.empty(); };
    if (by_deadline_.empty()) {
      // No deadline to watch: not inside the clock's WaitUntil, which tests that step a
      // ManualClock count (ManualClock::Waiters).
      cv_.wait(lock, [&] { return woken() || !by_deadline_.empty(); });
    } else {
      const Time until = by_deadline_.begin()->first;
      clock_.WaitUntil(lock, cv_, until, [&] {
        return woken() || by_deadline_.empty() || by_deadline_.begin()->first < until;  // an earlier one came
      });
    }
    const Time now = clock_.Now();
    while (!by_deadline_.empty() && (shutdown_ || by_deadline_.begin()->first <= now)) {
      const uint64_t id = by_deadline_.begin()->second;
      by_deadline_.erase(by_deadline_.begin());
      Waiter& w = waiters_.at(id);
      auto [first, last] = by_run_.equal_range(w.exec_id);
      for (auto it = first; it != last; ++it) {
        if (it->second == id) {
          by_run_.erase(it);
          break;
        }
      }
      ready_.emplace_back(std::move(w.fn), false);
      waiters_.erase(id);
    }
    auto ready = std::move(ready_);
    ready_.clear();
    const bool done = shutdown_ && waiters_.empty();
    lock.unlock();
    for (auto& [fn, closed] : ready) fn(closed, nullptr);
    ready.clear();
    lock.lock();
    if (done && ready_.empty()) return;
  }
}

}  // namespace keel::core
