#include "engine/core/task_matcher.h"

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
                                         const std::string& identity, Time deadline) {
  std::unique_lock<std::mutex> lock(mu_);
  Queue& q = QueueFor({namespace_name, task_queue, static_cast<int>(kind)});
  auto cancelled = [&] { return shutdown_ || shut_down_.count(identity) > 0; };
  ++q.waiting;
  clock_.WaitUntil(lock, q.cv, deadline, [&] { return !q.tasks.empty() || cancelled(); });
  --q.waiting;
  if (cancelled() || q.tasks.empty()) {
    // Pass a wake-up we may have consumed on to another poller.
    if (!q.tasks.empty() && q.waiting > 0) q.cv.notify_one();
    return std::nullopt;
  }
  TaskRef t = q.tasks.front();
  q.tasks.pop_front();
  if (!q.tasks.empty() && q.waiting > 0) q.cv.notify_one();
  return t;
}

void TaskMatcher::CancelPolls(const std::string& identity) {
  std::lock_guard<std::mutex> g(mu_);
  shut_down_.insert(identity);
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

size_t TaskMatcher::Backlog(const std::string& namespace_name, const std::string& task_queue,
                            store::TaskKind kind) {
  std::lock_guard<std::mutex> g(mu_);
  return QueueFor({namespace_name, task_queue, static_cast<int>(kind)}).tasks.size();
}

}  // namespace keel::core
