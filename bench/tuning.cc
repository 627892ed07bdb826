#include "bench/tuning.h"

namespace keel::bench {

WorkerOptions BenchWorkerOptions(const BenchOptions& options) {
  WorkerOptions w;
  w.workflow_task_pollers =
      options.workflow_pollers > 0 ? options.workflow_pollers : kDefaultWorkflowPollers;
  w.max_concurrent_activities =
      options.activity_threads > 0 ? options.activity_threads : kDefaultActivityThreads;
  w.identity = "keel-bench";
  return w;
}

int BenchTimerThreads(const BenchOptions& options) {
  return options.timer_threads > 0 ? options.timer_threads : kDefaultTimerThreads;
}

void AddSettings(const BenchOptions& options, nlohmann::ordered_json& result) {
  WorkerOptions w = BenchWorkerOptions(options);
  result["workflow_task_pollers"] = w.workflow_task_pollers;
  result["max_concurrent_activities"] = w.max_concurrent_activities;
  if (options.mode != "server") {
    result["timer_threads"] = BenchTimerThreads(options);
  } else if (options.server.empty()) {
    result["timer_threads"] = EngineOptions{}.timer_threads;  // keeld runs its default
  }                                                           // an external keeld's are unknown
}

}  // namespace keel::bench
