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
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "engine/clock.h"
#include "engine/frontend.h"
#include "engine/registry.h"

namespace keel {

namespace internal {
class RunDriver;
}

struct WorkerOptions {
  std::string namespace_name = "default";
  std::string task_queue = "default";
  // Shown in histories and describe. Default "<pid>@<host>"; a unique suffix is added.
  std::string identity;
  // Threads that run workflow tasks.
  int workflow_task_pollers = 2;
  // Threads that run activities (the most activities running at once).
  int max_concurrent_activities = 16;
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
    uint64_t cache_hits = 0;   // tasks applied to a cached run
    uint64_t replays = 0;      // tasks that replayed the run from its first event
    uint64_t activities = 0;
    uint64_t activity_failures = 0;
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
  void WorkflowLoop();
  void ActivityLoop();
  void ProcessWorkflowTask(const v1::PollWorkflowTaskQueueResponse& task);
  void AnswerQuery(const v1::PollWorkflowTaskQueueResponse& task);
  // A fresh driver with the run's whole recorded history applied (for queries).
  std::unique_ptr<internal::RunDriver> ReplayRun(const v1::WorkflowExecution& execution,
                                                 const std::string& workflow_type, Status* status);
  void RunActivity(const v1::PollActivityTaskQueueResponse& task);
  // Waits before polling again after an error; false when stopping.
  bool Backoff(int& failures);

  Frontend& frontend_;
  const Registry& registry_;
  WorkerOptions options_;
  Clock& clock_;
  std::string identity_;
  std::unique_ptr<RunCache> cache_;
  std::vector<std::thread> threads_;
  std::atomic<bool> stopping_{false};
  bool started_ = false;
  std::mutex stop_mu_;
  std::condition_variable stop_cv_;

  std::atomic<uint64_t> workflow_tasks_{0}, workflow_task_failures_{0}, cache_hits_{0}, replays_{0},
      activities_{0}, activity_failures_{0};
};

}  // namespace keel
