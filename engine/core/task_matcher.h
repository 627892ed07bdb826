// TaskMatcher: in-memory task queues that hand committed tasks to waiting pollers with
// no polling delay. Owned by the engine; thread-safe. Holds only references (the task
// rows are the durable truth, reloaded at startup), and may hand out a task that is no
// longer valid: the engine checks each one against the run's state and skips stale ones.
// A workflow task can also be handed to a reserved poller as it is being committed
// (Reserve, then Deliver): see EngineImpl::HandOutBeforeCommit for why that is safe.
// A poll either blocks its thread (Poll) or leaves a callback (PollAsync): a server's
// polls hold no thread while they wait.
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
#include <set>
#include <string>
#include <thread>
#include <tuple>
#include <utility>
#include <vector>

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
  void Add(const std::string& namespace_name, const std::string& task_queue, store::TaskKind kind,
           TaskRef task);

  explicit TaskMatcher(Clock& clock);
  ~TaskMatcher();  // Stop

  // Waits until a task is queued, `deadline` passes, this identity's polls are cancelled
  // or the matcher shuts down. nullopt for all but the first.
  std::optional<TaskRef> Poll(const std::string& namespace_name, const std::string& task_queue,
                              store::TaskKind kind, const std::string& identity, Time deadline);

  // A poll that leaves `done` instead of blocking. When a task is queued already it takes
  // it into `*task` and returns 0 (so does a poll of a cancelled identity, or one past its
  // deadline, with no task); otherwise it returns an id for CancelAsync, and `done` runs
  // once, later, with the task or with nullopt (deadline, CancelAsync, CancelPolls,
  // Shutdown). Where `done` runs: a task added by Add, and a deadline, on the matcher's
  // own thread, which holds no lock, so `done` may take a run's lock there; a delivery on
  // the thread calling Deliver (the task is `prepared`: nothing to lock); nullopt on the
  // thread that ended the poll, or on the matcher's thread.
  using PollDone = std::function<void(std::optional<TaskRef>)>;
  uint64_t PollAsync(const std::string& namespace_name, const std::string& task_queue, store::TaskKind kind,
                     const std::string& identity, Time deadline, PollDone done, std::optional<TaskRef>* task);
  // Ends a waiting PollAsync (its caller hung up) with nullopt, unless it has its task
  // already; a reserved one ends when its reservation is dropped undelivered. Unknown or
  // finished ids are ignored.
  void CancelAsync(uint64_t id);

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
  // Shutdown, then waits for the matcher's thread to run what it holds and end.
  void Stop();

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
  // Hands queued tasks to the queue's async pollers and wakes blocked ones, oldest
  // first (requires mu_).
  void Dispatch(Queue& q);
  // Removes a waiting async poll; returns its callback, which the caller runs after
  // releasing mu_ (requires mu_). FinishAsync also drops the queue if nothing uses it.
  PollDone EndAsync(Waiter* w);
  PollDone FinishAsync(Waiter* w);
  void DropQueueIfUnused(const Key& key, Queue& q);  // requires mu_
  // Ends the idle async polls `which` selects (returning their callbacks) and wakes the
  // blocked ones, which look for themselves (requires mu_).
  std::vector<PollDone> EndIdlePolls(const std::function<bool(const Waiter&)>& which);
  void Loop();  // the matcher's thread: async deadlines and tasks handed to async polls
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

  // Async polls: the waiters by id, their deadlines, and callbacks for the thread to run.
  uint64_t next_async_id_ = 1;
  std::map<uint64_t, std::unique_ptr<Waiter>> async_;
  std::set<std::pair<Time, uint64_t>> async_deadlines_;
  std::vector<std::pair<PollDone, std::optional<TaskRef>>> ready_;
  std::condition_variable thread_cv_;
  bool stop_ = false;
  std::thread thread_;  // started by the first PollAsync
};

}  // namespace keel::core
