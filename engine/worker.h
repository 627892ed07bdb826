// Worker: runs the workflows and activities of a Registry by polling one task queue of
// an engine (embedded or remote, through Frontend). Workflow tasks run on a few poller
// threads with a cache of live runs, so a running workflow is not replayed from its
// first event on every task (only after eviction or a restart). Activities run on a
// pool of threads. Stop() stops polling and waits for running tasks to finish.
// Thread-safe.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "engine/clock.h"
#include "engine/frontend.h"
#include "engine/registry.h"

namespace keel {

namespace internal {
class ActivitySlots;
class RunDriver;
}  // namespace internal
class Engine;

struct WorkerOptions {
  std::string namespace_name = "default";
  std::string task_queue = "default";
  // Shown in histories and describe. Default "<pid>@<host>"; a unique suffix is added.
  std::string identity;
  // Threads that run workflow tasks.
  int workflow_task_pollers = 2;
  // Threads that run activities (the most activities running at once).
  int max_concurrent_activities = 16;
  // How many of those threads poll for activity tasks at a time; the others wait for an
  // activity handed over by a workflow task this worker completed (no poll needed), or
  // for their turn to poll. 0: 2 when this worker runs workflow tasks on its own poller
  // threads (against keeld, or with inline_workflow_tasks off), so that those tasks can
  // hand their activities over; every activity thread otherwise.
  int activity_task_pollers = 0;
  // Embedded engine only: let the engine run this worker's workflow tasks inline, on the
  // thread of the start, signal or activity result that schedules them, committing both
  // together (docs/embedded-engine.md). Turn off to run every workflow task on this
  // worker's own poller threads (for workflow code that may be slow).
  bool inline_workflow_tasks = true;
  // Runs kept in memory between their workflow tasks.
  size_t max_cached_workflows = 1000;
  // For backoff after errors. Default: Clock::System().
  Clock* clock = nullptr;
};

class Worker {
 public:
  struct Stats {
    uint64_t workflow_tasks = 0;
    uint64_t workflow_task_failures = 0;
    uint64_t cache_hits = 0;  // tasks applied to a cached run
    uint64_t replays = 0;     // tasks that replayed the run from its first event
    uint64_t activities = 0;
    uint64_t activity_failures = 0;
    uint64_t eager_workflow_tasks = 0;      // handed over with an activity's outcome
    uint64_t eager_activities = 0;          // handed over with a workflow task's completion
    uint64_t inline_workflow_tasks = 0;     // run inside the transition that scheduled them
    uint64_t workflow_tasks_on_result = 0;  // run on an activity's result, reported with it
  };

  Worker(Frontend& frontend, const Registry& registry, WorkerOptions options = {});
  ~Worker();
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  // Starts the polling threads. Throws std::invalid_argument when the registry is empty.
  void Start();
  // Stops polling and waits until every running task has finished. Idempotent.
  void Stop();

  const std::string& identity() const { return identity_; }
  Stats stats() const;

 private:
  class RunCache;
  class InlineRunner;
  // Inline workflow tasks on an embedded engine (inline_workflow_tasks.h).
  bool RunInline(const v1::PollWorkflowTaskQueueResponse& task,
                 v1::RespondWorkflowTaskCompletedRequest* completion);
  void InlineDone(const std::string& run_id, bool committed,
                  v1::PollActivityTaskQueueResponse* eager_activity);
  void WorkflowLoop();
  void ActivityLoop();
  // Runs a workflow task and reports its outcome. An activity thread (`run_activity`)
  // asks to run one activity the task schedules itself (eager dispatch) and gets its
  // task back; a workflow poller never does, so long activities cannot hold it.
  std::optional<v1::PollActivityTaskQueueResponse> ProcessWorkflowTask(
      const v1::PollWorkflowTaskQueueResponse& task, bool run_activity = false);
  void AnswerQuery(const v1::PollWorkflowTaskQueueResponse& task);
  // A fresh driver with the run's whole recorded history applied (for queries).
  std::unique_ptr<internal::RunDriver> ReplayRun(const v1::WorkflowExecution& execution,
                                                 const std::string& workflow_type, Status* status);
  // Runs an activity and reports its outcome. When this worker holds the run in its
  // cache it asks for the run's next workflow task (eager dispatch) and returns it.
  std::optional<v1::PollWorkflowTaskQueueResponse> RunActivity(
      const v1::PollActivityTaskQueueResponse& task);
  // Server mode: runs the run's next workflow task on an activity's result before
  // reporting it (WorkflowTaskOnResult), when this worker holds the run's state; returns
  // the advanced driver (null: not done). FinishOnResult keeps it when the engine applied
  // the task, and takes the eager activity.
  std::unique_ptr<internal::RunDriver> RunOnResult(const v1::PollActivityTaskQueueResponse& task,
                                                   const v1::Payloads& result,
                                                   v1::RespondActivityTaskCompletedRequest* req);
  void FinishOnResult(const std::string& run_id, std::unique_ptr<internal::RunDriver> driver,
                      Result<v1::RespondActivityTaskCompletedResponse>& resp);
  // The 1-based index of a command whose activity this worker can run itself, or 0.
  int EagerActivityCommand(const std::vector<v1::Command>& commands) const;
  // Waits before polling again after an error; false when stopping.
  bool Backoff(int& failures);
  // keeld is back after it was lost: reports every activity still running here (a
  // heartbeat each), so that a restarted keeld, which holds their tasks for a while,
  // lets them go on instead of handing them out again. One keeld no longer knows is
  // marked cancelled. A report keeld answers with UNAVAILABLE or not in time is sent
  // again after a backoff, a few times within 8 s, then given up with a warning.
  void ReportRunningActivities();
  struct RunningActivity;
  // Logs a failed poll: as a warning when it is news (an error not warned about in the
  // last minute), else at debug level, so that every polling thread failing the same
  // way while keeld is away or refuses the worker logs one line.
  void LogPollFailure(const char* what, const Status& status);

  Frontend& frontend_;
  const Registry& registry_;
  WorkerOptions options_;
  Clock& clock_;
  std::string identity_;
  std::unique_ptr<RunCache> cache_;
  std::unique_ptr<internal::ActivitySlots>
      activity_slots_;  // set by Start when there are activities
  std::unique_ptr<InlineRunner> inline_runner_;
  Engine* inline_engine_ = nullptr;  // where inline_runner_ is registered
  std::vector<std::thread> threads_;
  std::atomic<bool> stopping_{false};
  bool started_ = false;
  std::mutex stop_mu_;
  std::condition_variable stop_cv_;
  std::mutex running_mu_;
  std::set<std::shared_ptr<RunningActivity>> running_;  // guarded by running_mu_
  int reconnect_listener_ = 0;
  std::mutex poll_log_mu_;
  std::map<std::string, Time> poll_warnings_;  // when each error was last warned about; guarded by poll_log_mu_

  std::atomic<uint64_t> workflow_tasks_{0}, workflow_task_failures_{0}, cache_hits_{0}, replays_{0},
      activities_{0}, activity_failures_{0}, eager_workflow_tasks_{0}, eager_activities_{0},
      inline_workflow_tasks_{0}, workflow_tasks_on_result_{0};
};

}  // namespace keel
