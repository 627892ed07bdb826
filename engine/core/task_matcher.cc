#include "engine/core/task_matcher.h"

#include <algorithm>

namespace keel::core {

// One poll in progress: it waits on its own condition variable, so that a task (or a
// delivery) wakes exactly one poller.
struct TaskMatcher::Waiter {
  explicit Waiter(const std::string& id) : identity(id) {}
  const std::string& identity;
  std::condition_variable cv;
  Queue* queue = nullptr;
  bool reserved = false;
  std::optional<TaskRef> delivered;
};

TaskMatcher::Queue& TaskMatcher::QueueFor(const Key& key) {
  auto& q = queues_[key];
  if (!q) q = std::make_unique<Queue>();
  return *q;
}

void TaskMatcher::Add(const std::string& namespace_name, const std::string& task_queue,
                      store::TaskKind kind, TaskRef task) {
  std::lock_guard<std::mutex> g(mu_);
  Queue& q = QueueFor({namespace_name, task_queue, static_cast<int>(kind)});
  q.tasks.push_back(std::move(task));
  if (!q.idle.empty()) q.idle.front()->cv.notify_one();
}

std::optional<TaskRef> TaskMatcher::Poll(const std::string& namespace_name,
                                         const std::string& task_queue, store::TaskKind kind,
                                         const std::string& identity, Time deadline,
                                         const std::function<bool()>& caller_gone) {
  std::unique_lock<std::mutex> lock(mu_);
  const Key key{namespace_name, task_queue, static_cast<int>(kind)};
  Queue& q = QueueFor(key);
  Waiter w(identity);
  w.queue = &q;
  q.idle.push_back(&w);
  ++q.waiting;
  auto cancelled = [&] { return shutdown_ || shut_down_.count(identity) > 0; };
  auto ready = [&] { return w.delivered || (!w.reserved && (!q.tasks.empty() || cancelled())); };
  while (true) {
    const Time until = caller_gone ? std::min(deadline, clock_.Now() + kGoneCheck) : deadline;
    if (clock_.WaitUntil(lock, w.cv, until, ready) && ready()) break;
    if (clock_.Now() >= deadline || (caller_gone && caller_gone())) {
      // A reserved poll waits for its delivery (or release), which follows at once.
      while (w.reserved && !w.delivered) {
        clock_.WaitUntil(lock, w.cv, clock_.Now() + kGoneCheck, [&] { return w.delivered || !w.reserved; });
      }
      break;
    }
  }
  if (!w.reserved) q.idle.remove(&w);
  --q.waiting;
  std::optional<TaskRef> t;
  if (w.delivered) {
    t = std::move(w.delivered);
  } else if (!cancelled() && !q.tasks.empty()) {
    t = std::move(q.tasks.front());
    q.tasks.pop_front();
  }
  // Pass on a wake-up we may have consumed (or one more task) to another poller.
  if (!q.tasks.empty() && !q.idle.empty()) q.idle.front()->cv.notify_one();
  if (q.tasks.empty() && q.waiting == 0) queues_.erase(key);
  return t;
}

std::optional<TaskMatcher::Reservation> TaskMatcher::Reserve(const std::string& namespace_name,
                                                             const std::string& task_queue,
                                                             store::TaskKind kind) {
  std::lock_guard<std::mutex> g(mu_);
  auto it = queues_.find({namespace_name, task_queue, static_cast<int>(kind)});
  if (it == queues_.end() || shutdown_) return std::nullopt;
  Queue& q = *it->second;
  // The newest idle poller: the oldest ones are the ones queued tasks have woken.
  if (q.idle.size() <= q.tasks.size()) return std::nullopt;
  Waiter* w = q.idle.back();
  if (shut_down_.count(w->identity) > 0) return std::nullopt;
  q.idle.pop_back();
  w->reserved = true;
  return Reservation(this, w);
}

void TaskMatcher::Deliver(Reservation reservation, TaskRef task) {
  Waiter* w = std::exchange(reservation.waiter_, nullptr);
  std::lock_guard<std::mutex> g(mu_);
  w->delivered = std::move(task);
  w->cv.notify_one();
}

void TaskMatcher::Release(Waiter* w) {
  std::lock_guard<std::mutex> g(mu_);
  w->reserved = false;
  w->queue->idle.push_back(w);
  w->cv.notify_one();
}

TaskMatcher::Reservation::~Reservation() {
  if (waiter_) matcher_->Release(waiter_);
}

const std::string& TaskMatcher::Reservation::identity() const { return waiter_->identity; }

void TaskMatcher::CancelPolls(const std::string& identity) {
  std::lock_guard<std::mutex> g(mu_);
  const Time now = clock_.Now();
  std::erase_if(shut_down_, [&](const auto& entry) { return now - entry.second > kCancelMemory; });
  shut_down_[identity] = now;
  for (auto& [key, q] : queues_) {
    for (Waiter* w : q->idle) w->cv.notify_one();
  }
}

void TaskMatcher::Shutdown() {
  std::lock_guard<std::mutex> g(mu_);
  shutdown_ = true;
  for (auto& [key, q] : queues_) {
    for (Waiter* w : q->idle) w->cv.notify_one();
  }
}

bool TaskMatcher::Idle() {
  std::lock_guard<std::mutex> g(mu_);
  for (const auto& [key, q] : queues_) {
    if (!q->tasks.empty() && q->waiting > 0) return false;
  }
  return true;
}

size_t TaskMatcher::QueueCount() {
  std::lock_guard<std::mutex> g(mu_);
  return queues_.size();
}

size_t TaskMatcher::Backlog(const std::string& namespace_name, const std::string& task_queue,
                            store::TaskKind kind) {
  std::lock_guard<std::mutex> g(mu_);
  auto it = queues_.find({namespace_name, task_queue, static_cast<int>(kind)});
  return it == queues_.end() ? 0 : it->second->tasks.size();
}

}  // namespace keel::core
