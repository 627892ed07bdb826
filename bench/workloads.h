// The workloads of docs/benchmarks.md (shapes fixed by BENCH.md). Each runs once over its
// own fresh database (W1-W4 in embedded or server mode, bench_env.h; W5 in process) and
// returns the result line's JSON object.
// They throw std::runtime_error when the run cannot be measured (wrong results, a failed
// replay); progress goes to stderr.
#pragma once

#include <nlohmann/json.hpp>

#include "bench/options.h"

namespace keel::bench {

nlohmann::ordered_json RunThroughput(const BenchOptions& options);  // W1
nlohmann::ordered_json RunLatency(const BenchOptions& options);     // W2
nlohmann::ordered_json RunTimers(const BenchOptions& options);      // W3
nlohmann::ordered_json RunSignal(const BenchOptions& options);      // W4
nlohmann::ordered_json RunReplay(const BenchOptions& options);      // W5

}  // namespace keel::bench
