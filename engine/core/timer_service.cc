#include "engine/core/timer_service.h"

#include "engine/log.h"

namespace keel::core {

TimerService::TimerService(Clock& clock, store::Store& store, FireFn fire, Options options)
    : clock_(clock), store_(store), fire_(std::move(fire)), options_(options) {}

TimerService::~TimerService() { Stop(); }

Status TimerService::Start() {
  std::unique_lock<std::mutex> lock(mu_);
  horizon_ = FromMicros(0);
  KEEL_RETURN_IF_ERROR(LoadWindow(clock_.Now()));
  started_ = true;
  runner_ = std::thread([this] { Run(); });
  for (int i = 0; i < options_.fire_threads; ++i) pool_.emplace_back([this] { FireLoop(); });
  return Status::Ok();
}

void TimerService::Stop() {
  {
    std::lock_guard<std::mutex> g(mu_);
    if (!started_ || stop_) {
      stop_ = true;
      return;
    }
    stop_ = true;
  }
  cv_.notify_all();
  fire_cv_.notify_all();
  if (runner_.joinable()) runner_.join();
  for (auto& t : pool_) t.join();
  pool_.clear();
}

void TimerService::Insert(const TimerEntryKey& key, Time when) {
  auto it = by_key_.find(key);
  if (it != by_key_.end()) {
    entries_.erase({it->second, key});
    it->second = when;
  } else {
    by_key_.emplace(key, when);
  }
  entries_.insert({when, key});
}

void TimerService::Erase(const TimerEntryKey& key) {
  auto it = by_key_.find(key);
  if (it == by_key_.end()) return;
  entries_.erase({it->second, key});
  by_key_.erase(it);
}

Status TimerService::LoadWindow(Time now) {
  Time until = now + options_.window;
  if (until <= horizon_) return Status::Ok();
  auto rows = store_.LoadTimers(ToMicros(horizon_), ToMicros(until));
  if (!rows.ok()) return rows.status();
  for (const auto& row : *rows) {
    TimerEntryKey key{row.key.exec_id, static_cast<int>(row.key.kind), row.key.ref};
    if (firing_.count(key)) continue;  // its firing transition has not committed yet
    Insert(key, FromMicros(row.fire_time_us));
  }
  horizon_ = until;
  auto next = store_.NextTimerAfter(ToMicros(horizon_));
  if (!next.ok()) return next.status();
  next_in_store_ = next->has_value() ? std::optional<Time>(FromMicros(**next)) : std::nullopt;
  return Status::Ok();
}

void TimerService::OnCommitted(const std::vector<store::TimerRow>& added,
                               const std::vector<store::TimerKey>& removed) {
  if (added.empty() && removed.empty()) return;
  bool wake = false;
  {
    std::lock_guard<std::mutex> g(mu_);
    for (const auto& k : removed) Erase({k.exec_id, static_cast<int>(k.kind), k.ref});
    for (const auto& row : added) {
      Time when = FromMicros(row.fire_time_us);
      if (when <= horizon_) {
        Insert({row.key.exec_id, static_cast<int>(row.key.kind), row.key.ref}, when);
        wake |= when < wake_at_;
      } else if (!next_in_store_ || when < *next_in_store_) {
        next_in_store_ = when;
        wake |= when - options_.window < wake_at_;
      }
    }
  }
  // Waking the runner costs a context switch: only when it must wake earlier than planned.
  if (wake) cv_.notify_all();
}

void TimerService::SetDeadline(DeadlineKind kind, int64_t exec_id, int64_t ref, Time when) {
  bool wake;
  {
    std::lock_guard<std::mutex> g(mu_);
    Insert({exec_id, static_cast<int>(kind), ref}, when);
    wake = when < wake_at_;
  }
  if (wake) cv_.notify_all();
}

void TimerService::ClearDeadline(DeadlineKind kind, int64_t exec_id, int64_t ref) {
  std::lock_guard<std::mutex> g(mu_);
  Erase({exec_id, static_cast<int>(kind), ref});
}

std::optional<Time> TimerService::NextFireTime() {
  std::lock_guard<std::mutex> g(mu_);
  std::optional<Time> t;
  if (!entries_.empty()) t = entries_.begin()->first;
  if (next_in_store_ && (!t || *next_in_store_ < *t)) t = next_in_store_;
  return t;
}

bool TimerService::Idle() {
  std::lock_guard<std::mutex> g(mu_);
  if (!due_.empty() || !firing_.empty()) return false;
  // Due but not yet picked up by the runner counts as busy too.
  Time now = clock_.Now();
  if (!entries_.empty() && entries_.begin()->first <= now) return false;
  return !(next_in_store_ && *next_in_store_ <= now);
}

size_t TimerService::InMemory() {
  std::lock_guard<std::mutex> g(mu_);
  return entries_.size();
}

void TimerService::Run() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stop_) {
    Time now = clock_.Now();
    if (next_in_store_ && *next_in_store_ <= now + options_.window) {
      Status st = LoadWindow(now);
      if (!st.ok()) {
        Log().error("timer service: loading timers failed: {}", st.ToString());
        // Try again after a pause rather than spinning on a broken store.
        clock_.WaitUntil(lock, cv_, now + std::chrono::seconds(1), [&] { return stop_; });
        continue;
      }
    }
    bool handed = false;
    while (!entries_.empty() && entries_.begin()->first <= now) {
      auto [when, key] = *entries_.begin();
      entries_.erase(entries_.begin());
      by_key_.erase(key);
      firing_.insert(key);
      due_.emplace_back(key, when);
      handed = true;
    }
    if (handed) {
      fire_cv_.notify_all();
    } else if (options_.on_activity) {
      lock.unlock();
      options_.on_activity();
      lock.lock();
      if (stop_) break;
    }
    Time wake = Time::max();
    if (!entries_.empty()) wake = entries_.begin()->first;
    if (next_in_store_) wake = std::min(wake, *next_in_store_ - options_.window);
    // Wake at `wake`, or earlier when a nearer timer arrives (OnCommitted/SetDeadline
    // notify when they add one before wake_at_) or on stop.
    wake_at_ = wake;
    clock_.WaitUntil(lock, cv_, wake, [&] {
      if (stop_) return true;
      Time first = entries_.empty() ? Time::max() : entries_.begin()->first;
      return first < wake_at_ || (next_in_store_ && *next_in_store_ - options_.window < wake_at_);
    });
    wake_at_ = Time::min();  // running: every change may matter until it sleeps again
  }
}

void TimerService::FireLoop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    fire_cv_.wait(lock, [&] { return stop_ || !due_.empty(); });
    if (stop_) return;
    auto [key, when] = due_.front();
    due_.pop_front();
    lock.unlock();
    fire_(key, when);
    lock.lock();
    firing_.erase(key);
    if (options_.on_activity) {
      lock.unlock();
      options_.on_activity();
      lock.lock();
    }
  }
}

}  // namespace keel::core
