#include "engine/core/task_matcher.h"

#include <algorithm>

namespace keel::core {

TaskMatcher::Queue& TaskMatcher::QueueFor(const Key& key) {
  auto& q = queues_[key];
  if (!q) q = std::make_unique<Queue>();
  return *q;
}

void TaskMatcher::Add(const std::string& namespace_name, const std::string& task_queue,
                      store::TaskKind kind, TaskRef task) {
  std::lock_guard<std::mutex> g(mu_);
  Queue& q = QueueFor({namespace_name, task_queue, static_cast<int>(kind)});
  q.tasks.push_back(task);
  if (q.waiting > 0) q.cv.notify_one();
}

std::optional<TaskRef> TaskMatcher::Poll(const std::string& namespace_name,
                                         const std::string& task_queue, store::TaskKind kind,
                                         const std::string& identity, Time deadline,
                                         const std::function<bool()>& caller_gone) {
  std::unique_lock<std::mutex> lock(mu_);
  const Key key{namespace_name, task_queue, static_cast<int>(kind)};
  Queue& q = QueueFor(key);
  auto cancelled = [&] { return shutdown_ || shut_down_.count(identity) > 0; };
  auto ready = [&] { return !q.tasks.empty() || cancelled(); };
  ++q.waiting;
  while (true) {
    const Time until = caller_gone ? std::min(deadline, clock_.Now() + kGoneCheck) : deadline;
    if (clock_.WaitUntil(lock, q.cv, until, ready)) break;
    if (clock_.Now() >= deadline || (caller_gone && caller_gone())) break;
  }
  --q.waiting;
  std::optional<TaskRef> t;
  if (!cancelled() && !q.tasks.empty()) {
    t = q.tasks.front();
    q.tasks.pop_front();
  }
  // Pass on a wake-up we may have consumed (or one more task) to another poller.
  if (!q.tasks.empty() && q.waiting > 0) q.cv.notify_one();
  if (q.tasks.empty() && q.waiting == 0) queues_.erase(key);
  return t;
}

void TaskMatcher::CancelPolls(const std::string& identity) {
  std::lock_guard<std::mutex> g(mu_);
  const Time now = clock_.Now();
  std::erase_if(shut_down_, [&](const auto& entry) { return now - entry.second > kCancelMemory; });
  shut_down_[identity] = now;
  for (auto& [key, q] : queues_) q->cv.notify_all();
}

void TaskMatcher::Shutdown() {
  std::lock_guard<std::mutex> g(mu_);
  shutdown_ = true;
  for (auto& [key, q] : queues_) q->cv.notify_all();
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
