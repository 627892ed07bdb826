// Engine: Keel's durable core, embedded in the process. Owns the SQLite store, the task
// queues and the timers; applies every state transition (a start, a signal, a workflow
// task completion, an activity result, a timer firing) as one store transaction that is
// durable before the call returns. Implements Frontend, so a Client and a Worker in the
// same process use it directly. Thread-safe. Closing it (destruction) ends all polls.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "engine/clock.h"
#include "engine/frontend.h"
#include "engine/inline_workflow_tasks.h"
#include "engine/poll_cancel.h"
#include "engine/random.h"
#include "engine/status.h"

namespace keel {

namespace store {
class Store;
}

enum class Durability {
  kFull,    // SQLite synchronous=FULL: a completed transition survives power loss (default)
  kNormal,  // synchronous=NORMAL: survives a process crash, may lose the last commits on power loss
  kOff,     // no fsync at all (benchmarks of the engine's own overhead only)
};

struct EngineOptions {
  // The SQLite database file; created (with its directory) when missing.
  std::string db_path = "keel-data/keel.db";
  Durability durability = Durability::kFull;
  // Commit many concurrent transitions in one SQLite transaction (one fsync).
  bool group_commit = true;
  // Time source for timers, timeouts and event times. Default: Clock::System().
  Clock* clock = nullptr;
  // Source of run ids and lease ids. Default: Random::System().
  Random* random = nullptr;
  // How long a poll (or a waiting result/history request) waits before returning empty.
  Duration poll_timeout = std::chrono::seconds(60);
  // Workflow task start-to-close timeout when a start request does not set one.
  Duration default_workflow_task_timeout = std::chrono::seconds(10);
  // Largest payload (input, result, signal, details) accepted, in bytes.
  size_t max_payload_bytes = 2 * 1024 * 1024;
  // A warning is logged when a run's history grows past this many events.
  int history_warn_events = 10000;
  // Runs kept in memory between transitions (others are read from the store).
  size_t max_cached_runs = 10000;
  // Threads that apply due timers (more lets many timers firing together commit together).
  int timer_threads = 4;
  // After a restart, how long the activity tasks left pending are held back before they
  // are handed out. Some may still be running on workers that outlived the engine (keeld
  // restarted, its workers did not). Until then, a worker's heartbeat or result for the
  // attempt it runs is accepted and the attempt goes on, instead of the activity running
  // a second time; after it, the task is handed out, and once a worker has polled it that
  // attempt's result is refused.
  // After a clean close only the tasks whose attempts ran on workers then are held (the
  // close records them); after a crash, every pending one. 0 (embedded: the workers
  // restart with the engine) hands them out at once; keeld's default is 10 s
  // (--recovery-hold).
  Duration recovered_activity_hold = Duration::zero();
  // A running attempt's heartbeat details are written to the database at most this often
  // (each write is a commit with an fsync): the first at once, later ones when this long
  // has passed since. The latest are kept in memory meanwhile: describe shows them, and
  // they are written with the attempt's failure or timeout, so the next attempt sees
  // them; a clean close writes them too. Only a crash while the attempt runs loses them;
  // the next attempt then sees those written last. 0 writes every heartbeat's details.
  Duration heartbeat_save_interval = std::chrono::seconds(10);
};

class Engine : public Frontend {
 public:
  // Opens (creating or migrating) the database and resumes every pending task and timer.
  static Result<std::unique_ptr<Engine>> Open(EngineOptions options);
  // Same, on a given store (tests, other backends).
  static Result<std::unique_ptr<Engine>> Open(EngineOptions options,
                                              std::unique_ptr<store::Store> store);

  virtual Clock& clock() = 0;
  // The earliest pending timer or deadline, if any (for time skipping).
  virtual std::optional<Time> NextTimerTime() = 0;
  // True when no timer is being applied.
  virtual bool TimersIdle() = 0;
  // True when nothing is under way: no task waits for a worker that is polling for it or
  // runs on one, no timer is being applied, no commit is in progress. A test that moves
  // time forward whenever this holds (time skipping) sees every workflow blocked.
  virtual bool Quiescent() = 0;
  // `fn` runs (on an engine thread, briefly) whenever the engine may have become
  // quiescent. One listener; nullptr removes it.
  virtual void SetActivityListener(std::function<void()> fn) = 0;
  // Ends every poll and waiting request now (they return UNAVAILABLE) and refuses new
  // ones, so a server can drain its calls before the engine is destroyed.
  virtual void BeginShutdown() = 0;

  // Workflow tasks of `task_queue` may run inline (see inline_workflow_tasks.h) on
  // `tasks`; several may be added (each is asked in turn). Remove waits until no call
  // into `tasks` is under way; call it before `tasks` goes away.
  virtual void AddInlineWorkflowTasks(const std::string& namespace_name, const std::string& task_queue,
                                      InlineWorkflowTasks* tasks) = 0;
  virtual void RemoveInlineWorkflowTasks(InlineWorkflowTasks* tasks) = 0;

  template <typename T>
  using Callback = std::function<void(Result<T>)>;

  // Polls that hold no thread while they wait. `done` gets the task, or an empty response
  // once `max_wait` (at most the poll timeout) has passed or soon after `cancel` is
  // cancelled (a server's caller hung up; a task handed over but not yet leased goes back
  // to the queue); UNAVAILABLE when the engine closes. It runs on the calling thread, on
  // the engine's poll thread, or on the thread that commits the task, which holds that
  // run's lock: `done` must not call the engine (a server only sends the answer).
  // `cancel` may be null.
  using Frontend::PollActivityTaskQueue;
  using Frontend::PollWorkflowTaskQueue;
  virtual void PollWorkflowTaskQueue(const v1::PollWorkflowTaskQueueRequest& request, Duration max_wait,
                                     std::shared_ptr<PollCancel> cancel,
                                     Callback<v1::PollWorkflowTaskQueueResponse> done) = 0;
  virtual void PollActivityTaskQueue(const v1::PollActivityTaskQueueRequest& request, Duration max_wait,
                                     std::shared_ptr<PollCancel> cancel,
                                     Callback<v1::PollActivityTaskQueueResponse> done) = 0;

  // The waiting client calls, ending as their long poll ends (nothing new yet) after at
  // most `max_wait` when that is shorter than the poll timeout: a server passes what is
  // left of its caller's deadline, so that no wait outlives the caller.
  // The start and the two completions a worker sends most, answered without holding the caller's
  // thread: `done` gets the result once the call's transition is durable, on the store's
  // writer thread (a server answers its gRPC call from there), or at once on the calling
  // thread when the call fails before it commits. Rare outcomes (a continue-as-new, a
  // task that must run again, commands that cannot be applied) and engines running inline
  // workflow tasks commit in the calling thread. `request` must live until `done` runs.
  using Frontend::RespondActivityTaskCompleted;
  using Frontend::RespondWorkflowTaskCompleted;
  // A start (and its wait for the result, when asked, at most `max_wait`): the wait holds
  // no thread either. `done` runs when the run closes, on the thread that commits the
  // close (holding the run's lock) or on the engine's waits thread: like every callback
  // here, it must not call the engine about that run.
  virtual void StartWorkflowExecution(const v1::StartWorkflowExecutionRequest& request, Duration max_wait,
                                      Callback<v1::StartWorkflowExecutionResponse> done) = 0;
  // A result read; one that waits (`wait`) holds no thread while it waits either, and is
  // answered as a start's wait is.
  virtual void GetWorkflowExecutionResult(const v1::GetWorkflowExecutionResultRequest& request, Duration max_wait,
                                          Callback<v1::GetWorkflowExecutionResultResponse> done) = 0;
  virtual void RespondWorkflowTaskCompleted(const v1::RespondWorkflowTaskCompletedRequest& request,
                                            Callback<v1::RespondWorkflowTaskCompletedResponse> done) = 0;
  virtual void RespondActivityTaskCompleted(const v1::RespondActivityTaskCompletedRequest& request,
                                            Callback<v1::RespondActivityTaskCompletedResponse> done) = 0;

  using Frontend::GetWorkflowExecutionHistory;
  using Frontend::GetWorkflowExecutionResult;
  using Frontend::StartWorkflowExecution;
  virtual Result<v1::StartWorkflowExecutionResponse> StartWorkflowExecution(
      const v1::StartWorkflowExecutionRequest& request, Duration max_wait) = 0;
  virtual Result<v1::GetWorkflowExecutionResultResponse> GetWorkflowExecutionResult(
      const v1::GetWorkflowExecutionResultRequest& request, Duration max_wait) = 0;
  virtual Result<v1::GetWorkflowExecutionHistoryResponse> GetWorkflowExecutionHistory(
      const v1::GetWorkflowExecutionHistoryRequest& request, Duration max_wait) = 0;
};

}  // namespace keel
