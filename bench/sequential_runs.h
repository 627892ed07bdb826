// The timing loop W2 and W4 share: warm-up runs (not measured), then `n` sequential runs
// each timed from start to result, reported as p50/p99/mean/max with the usual head,
// peak RSS and settings.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include <nlohmann/json.hpp>

#include "bench/bench_env.h"
#include "bench/options.h"

namespace keel::bench {

inline constexpr int kWarmupRuns = 10;

// `run_one(workflow_id, x)` runs one workflow to its checked result. `workload` ("W2")
// names the progress line; `id_prefix` ("w2") the workflow ids. Stops the worker.
nlohmann::ordered_json TimeSequentialRuns(const BenchOptions& options, BenchEnv& env, const char* workload,
                                          const char* id_prefix, int n,
                                          const std::function<void(const std::string&, int64_t)>& run_one);

}  // namespace keel::bench
