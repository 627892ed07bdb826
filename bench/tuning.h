// The engine and worker settings every workload runs with: tuned for W1 (and W3's timer
// burst) on the 2-core reference machine of docs/benchmarks.md, overridable from the
// command line. Reported in each result line so a figure always names its settings.
#pragma once

#include <nlohmann/json.hpp>

#include "bench/options.h"
#include "engine/worker.h"

namespace keel::bench {

// W1's workflows in flight: its client threads, each starting one workflow at a time.
inline constexpr int kW1InFlight = 64;

// As many workflow-task pollers and activity threads as W1 has workflows in flight (64):
// each poller and activity thread waits for its transition's commit, so fewer threads
// mean smaller commit groups (docs/benchmarks.md, "Settings").
inline constexpr int kDefaultWorkflowPollers = 64;
inline constexpr int kDefaultActivityThreads = 64;
// Threads that fire due timers (EngineOptions::timer_threads, engine default 4): W3 fires
// 200 timers at once and each firing thread waits for its commit.
inline constexpr int kDefaultTimerThreads = 64;

WorkerOptions BenchWorkerOptions(const BenchOptions& options);
int BenchTimerThreads(const BenchOptions& options);

// Adds the settings above to a result line (workflow_task_pollers,
// max_concurrent_activities, timer_threads). In server mode the pollers and threads are
// the worker process's, and timer_threads is keeld's (the engine's default).
void AddSettings(const BenchOptions& options, nlohmann::ordered_json& result);

}  // namespace keel::bench
