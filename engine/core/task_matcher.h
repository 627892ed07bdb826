// TaskMatcher: in-memory task queues that hand committed tasks to waiting pollers with
// no polling delay. Owned by the engine; thread-safe. Holds only references (the task
// rows are the durable truth, reloaded at startup), and may hand out a task that is no
// longer valid: the engine checks each one against the run's state and skips stale ones.
// A workflow task can also be handed to a reserved poller as it is being committed
// (Reserve, then Deliver): see EngineImpl::HandOutBeforeCommit for why that is safe.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <tuple>
#include <utility>

#include "engine/clock.h"
#include "engine/store/store.h"
#include "keel/v1/workflow_service.pb.h"

namespace keel::core {

struct TaskRef {
  int64_t exec_id = 0;
  int64_t ref = 0;  // activity: scheduled event id; workflow task: 0
  // Delivered to a reserved poller: the workflow task as the poll returns it, already
  // leased to that poller.
  std::shared_ptr<v1::PollWorkflowTaskQueueResponse> prepared;
};

class TaskMatcher {
 public:
  explicit TaskMatcher(Clock& clock) : clock_(clock) {}

  void Add(const std::string& namespace_name, const std::string& task_queue, store::TaskKind kind,
           TaskRef task);

  // Waits until a task is queued, `deadline` passes, this identity's polls are cancelled,
  // `caller_gone` (checked every kGoneCheck) turns true or the matcher shuts down. nullopt
  // for all but the first. `caller_gone` lets a server end the poll of a worker that hung
  // up, so no task is handed to it.
  std::optional<TaskRef> Poll(const std::string& namespace_name, const std::string& task_queue,
                              store::TaskKind kind, const std::string& identity, Time deadline,
                              const std::function<bool()>& caller_gone = {});
  static constexpr Duration kGoneCheck = std::chrono::seconds(1);

  struct Waiter;
  // A waiting poller set aside for one task the holder is about to build. Deliver hands
  // it the task; dropping the reservation undelivered returns the poller to the queue.
  // Either must follow at once: a reserved poll waits for it, past its deadline.
  class Reservation {
   public:
    Reservation(TaskMatcher* matcher, Waiter* waiter) : matcher_(matcher), waiter_(waiter) {}
    Reservation(Reservation&& other) noexcept
        : matcher_(other.matcher_), waiter_(std::exchange(other.waiter_, nullptr)) {}
    Reservation& operator=(Reservation&&) = delete;
    ~Reservation();
    // The identity the reserved poller polls with.
    const std::string& identity() const;

   private:
    friend class TaskMatcher;
    TaskMatcher* matcher_;
    Waiter* waiter_;  // null once delivered (or moved from)
  };
  // A poller of this queue that waits with no task to take (more pollers wait than tasks
  // are queued); nullopt when there is none.
  std::optional<Reservation> Reserve(const std::string& namespace_name, const std::string& task_queue,
                                     store::TaskKind kind);
  void Deliver(Reservation reservation, TaskRef task);

  // Ends every poll of `identity`, now and for kCancelMemory after (a worker shutting down,
  // whose last polls may still be on the way; identities are unique per worker instance).
  void CancelPolls(const std::string& identity);
  // Ends every poll, now and later.
  void Shutdown();

  size_t Backlog(const std::string& namespace_name, const std::string& task_queue,
                 store::TaskKind kind);
  // True when no queue has both tasks and pollers waiting for them (tasks on a queue
  // nobody polls do not count: nothing will happen to them).
  bool Idle();
  // Queues held in memory (for tests and metrics).
  size_t QueueCount();

 private:
  using Key = std::tuple<std::string, std::string, int>;
  struct Queue {
    std::deque<TaskRef> tasks;
    std::list<Waiter*> idle;  // polls not reserved, oldest first; Add wakes the first
    int waiting = 0;          // every poll of this queue, reserved or not
  };
  Queue& QueueFor(const Key& key);  // requires mu_
  void Release(Waiter* waiter);
  // Cancelled identities are forgotten after this long, so callers cannot grow the set
  // without bound; a poll outlives none of them (long polls end after at most minutes).
  static constexpr Duration kCancelMemory = std::chrono::minutes(10);

  Clock& clock_;
  std::mutex mu_;
  // Only queues with tasks or pollers: a queue is dropped when its last poller leaves it
  // empty, so polls of made-up queue names leave nothing behind.
  std::map<Key, std::unique_ptr<Queue>> queues_;
  std::map<std::string, Time> shut_down_;  // identity -> when its polls were cancelled
  bool shutdown_ = false;
};

}  // namespace keel::core
