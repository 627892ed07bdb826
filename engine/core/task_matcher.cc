#include "engine/core/task_matcher.h"

#include <pthread.h>

#include <algorithm>

namespace keel::core {

// One poll in progress. A blocking poll waits on its own condition variable, so that a
// task (or a delivery) wakes exactly one poller; an async one (`done` set) is handed its
// task instead.
struct TaskMatcher::Waiter {
  explicit Waiter(std::string id) : identity(std::move(id)) {}
  std::string identity;
  std::condition_variable cv;
  Key key;
  Queue* queue = nullptr;
  bool reserved = false;
  std::optional<TaskRef> delivered;
  // Async polls only.
  PollDone done;
  uint64_t id = 0;
  Time deadline;
  bool ended = false;  // cancelled or past its deadline while reserved: a release ends it
};

TaskMatcher::TaskMatcher(Clock& clock) : clock_(clock) {}

TaskMatcher::~TaskMatcher() { Stop(); }

TaskMatcher::Queue& TaskMatcher::QueueFor(const Key& key) {
  auto& q = queues_[key];
  if (!q) q = std::make_unique<Queue>();
  return *q;
}

void TaskMatcher::DropQueueIfUnused(const Key& key, Queue& q) {
  if (q.tasks.empty() && q.waiting == 0) queues_.erase(key);
}

void TaskMatcher::Dispatch(Queue& q) {
  size_t woken = 0;  // blocked pollers woken here, each about to take a task
  for (auto it = q.idle.begin(); it != q.idle.end() && q.tasks.size() > woken;) {
    Waiter* w = *it;
    if (!w->done) {
      w->cv.notify_one();
      ++woken;
      ++it;
      continue;
    }
    ++it;  // EndAsync takes `w` out of the list
    TaskRef task = std::move(q.tasks.front());
    q.tasks.pop_front();
    // Run on the matcher's thread: the caller may hold a run's lock (Add after a commit),
    // and `done` takes the task's.
    ready_.emplace_back(EndAsync(w), std::move(task));
    thread_cv_.notify_one();
  }
}

TaskMatcher::PollDone TaskMatcher::EndAsync(Waiter* w) {
  if (!w->reserved) w->queue->idle.remove(w);
  --w->queue->waiting;
  async_deadlines_.erase({w->deadline, w->id});
  PollDone done = std::move(w->done);
  async_.erase(w->id);  // destroys w
  return done;
}

TaskMatcher::PollDone TaskMatcher::FinishAsync(Waiter* w) {
  const Key key = w->key;
  Queue& q = *w->queue;
  PollDone done = EndAsync(w);
  DropQueueIfUnused(key, q);
  return done;
}

void TaskMatcher::Add(const std::string& namespace_name, const std::string& task_queue,
                      store::TaskKind kind, TaskRef task) {
  std::lock_guard<std::mutex> g(mu_);
  Queue& q = QueueFor({namespace_name, task_queue, static_cast<int>(kind)});
  q.tasks.push_back(std::move(task));
  Dispatch(q);
  DropQueueIfUnused({namespace_name, task_queue, static_cast<int>(kind)}, q);
}

std::optional<TaskRef> TaskMatcher::Poll(const std::string& namespace_name,
                                         const std::string& task_queue, store::TaskKind kind,
                                         const std::string& identity, Time deadline) {
  std::unique_lock<std::mutex> lock(mu_);
  const Key key{namespace_name, task_queue, static_cast<int>(kind)};
  Queue& q = QueueFor(key);
  Waiter w(identity);
  w.key = key;
  w.queue = &q;
  q.idle.push_back(&w);
  ++q.waiting;
  auto cancelled = [&] { return shutdown_ || shut_down_.count(identity) > 0; };
  auto ready = [&] { return w.delivered || (!w.reserved && (!q.tasks.empty() || cancelled())); };
  if (!clock_.WaitUntil(lock, w.cv, deadline, ready) || !ready()) {
    // A reserved poll waits for its delivery (or release), which follows at once.
    w.cv.wait(lock, [&] { return w.delivered || !w.reserved; });
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
  Dispatch(q);
  DropQueueIfUnused(key, q);
  return t;
}

uint64_t TaskMatcher::PollAsync(const std::string& namespace_name, const std::string& task_queue,
                                store::TaskKind kind, const std::string& identity, Time deadline, PollDone done,
                                std::optional<TaskRef>* task) {
  std::lock_guard<std::mutex> g(mu_);
  task->reset();
  if (shutdown_ || shut_down_.count(identity) > 0) return 0;
  const Key key{namespace_name, task_queue, static_cast<int>(kind)};
  auto it = queues_.find(key);
  if (it != queues_.end() && it->second->tasks.size() > it->second->idle.size()) {
    // More tasks than pollers already waiting for them: take one (the blocked pollers
    // woken for the others take those).
    *task = std::move(it->second->tasks.front());
    it->second->tasks.pop_front();
    DropQueueIfUnused(key, *it->second);
    return 0;
  }
  if (deadline <= clock_.Now()) return 0;
  if (!thread_.joinable()) {
    thread_ = std::thread([this] {
      pthread_setname_np(pthread_self(), "keel-polls");
      Loop();
    });
  }
  Queue& q = QueueFor(key);
  const uint64_t id = next_async_id_++;
  auto w = std::make_unique<Waiter>(identity);
  w->key = key;
  w->queue = &q;
  w->done = std::move(done);
  w->id = id;
  w->deadline = deadline;
  q.idle.push_back(w.get());
  ++q.waiting;
  const bool earliest = async_deadlines_.empty() || deadline < async_deadlines_.begin()->first;
  async_deadlines_.emplace(deadline, id);
  async_.emplace(id, std::move(w));
  if (earliest) thread_cv_.notify_one();  // the thread sleeps until the earliest deadline
  return id;
}

void TaskMatcher::CancelAsync(uint64_t id) {
  PollDone done;
  {
    std::lock_guard<std::mutex> g(mu_);
    auto it = async_.find(id);
    if (it == async_.end()) return;
    Waiter* w = it->second.get();
    if (w->reserved) {
      w->ended = true;
      return;
    }
    done = FinishAsync(w);
  }
  done(std::nullopt);
}

void TaskMatcher::Loop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    auto woken = [&] { return stop_ || !ready_.empty(); };
    if (async_deadlines_.empty()) {
      // No deadline to watch: not inside the clock's WaitUntil, which tests that step a
      // ManualClock count (ManualClock::Waiters).
      thread_cv_.wait(lock, [&] { return woken() || !async_deadlines_.empty(); });
    } else {
      const Time until = async_deadlines_.begin()->first;
      clock_.WaitUntil(lock, thread_cv_, until, [&] {
        return woken() || async_deadlines_.empty() || async_deadlines_.begin()->first < until;
      });
    }
    const Time now = clock_.Now();
    for (auto it = async_deadlines_.begin(); it != async_deadlines_.end() && it->first <= now;) {
      Waiter* w = async_.at(it->second).get();
      it = async_deadlines_.erase(it);
      if (w->reserved) {
        w->ended = true;  // its delivery (or release) follows at once
        continue;
      }
      ready_.emplace_back(FinishAsync(w), std::nullopt);
    }
    auto ready = std::move(ready_);
    ready_.clear();
    const bool stop = stop_;
    lock.unlock();
    for (auto& [done, task] : ready) done(std::move(task));
    ready.clear();  // the callbacks' captures go before the lock is taken again
    lock.lock();
    if (stop && ready_.empty()) return;
  }
}

void TaskMatcher::Stop() {
  Shutdown();
  {
    std::lock_guard<std::mutex> g(mu_);
    stop_ = true;
    thread_cv_.notify_one();
  }
  if (thread_.joinable()) thread_.join();
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
  PollDone done;
  {
    std::lock_guard<std::mutex> g(mu_);
    if (!w->done) {
      w->delivered = std::move(task);
      w->cv.notify_one();
      return;
    }
    done = FinishAsync(w);
  }
  done(std::move(task));
}

void TaskMatcher::Release(Waiter* w) {
  PollDone done;
  {
    std::lock_guard<std::mutex> g(mu_);
    w->reserved = false;
    if (w->done && (w->ended || shutdown_ || shut_down_.count(w->identity) > 0)) {
      done = FinishAsync(w);
    } else {
      const Key key = w->key;
      Queue& q = *w->queue;
      q.idle.push_back(w);
      w->cv.notify_one();
      Dispatch(q);  // may hand `w` a task queued meanwhile (and destroy it)
      DropQueueIfUnused(key, q);
      return;
    }
  }
  done(std::nullopt);
}

TaskMatcher::Reservation::~Reservation() {
  if (waiter_) matcher_->Release(waiter_);
}

const std::string& TaskMatcher::Reservation::identity() const { return waiter_->identity; }

void TaskMatcher::CancelPolls(const std::string& identity) {
  std::vector<PollDone> ended;
  {
    std::lock_guard<std::mutex> g(mu_);
    const Time now = clock_.Now();
    std::erase_if(shut_down_, [&](const auto& entry) { return now - entry.second > kCancelMemory; });
    shut_down_[identity] = now;
    ended = EndIdlePolls([&](const Waiter& w) { return w.identity == identity; });
  }
  for (auto& done : ended) done(std::nullopt);
}

void TaskMatcher::Shutdown() {
  std::vector<PollDone> ended;
  {
    std::lock_guard<std::mutex> g(mu_);
    shutdown_ = true;
    ended = EndIdlePolls([](const Waiter&) { return true; });
  }
  for (auto& done : ended) done(std::nullopt);
}

std::vector<TaskMatcher::PollDone> TaskMatcher::EndIdlePolls(const std::function<bool(const Waiter&)>& which) {
  std::vector<PollDone> ended;
  std::vector<Waiter*> async;
  for (auto& [key, q] : queues_) {
    for (Waiter* w : q->idle) {
      if (!which(*w)) continue;
      if (w->done) {
        async.push_back(w);
      } else {
        w->cv.notify_one();
      }
    }
  }
  for (Waiter* w : async) ended.push_back(FinishAsync(w));  // may drop queues: not while iterating them
  return ended;
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
