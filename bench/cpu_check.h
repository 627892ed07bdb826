// CpuCheck: how fast each CPU of the machine runs Keel's own code right now. On a shared
// host one vCPU may run at a third of the other's speed for minutes (seen on the machine
// of docs/benchmarks.md), which halves a workload's figure without any change in Keel;
// keel-bench measures this before and after each workload so that a result says which
// kind of period it came from.
#pragma once

#include <vector>

#include <nlohmann/json.hpp>

namespace keel::bench {

// For each CPU this process may run on, in order: millions of history events per second
// replayed by a thread pinned to that CPU (W5's code and history, 1,000 activities,
// about 25 ms per CPU). One CPU at a time, so that they do not compete. Empty when the
// CPUs cannot be listed or pinned to.
std::vector<double> CpuSpeeds();

// Adds cpu_speed_before and cpu_speed_after (M events/s per CPU) to `result`, and warns
// on stderr when the slowest CPU ran at under 70% of the fastest's speed.
void AddCpuSpeeds(const std::vector<double>& before, const std::vector<double>& after,
                  nlohmann::ordered_json& result);

}  // namespace keel::bench
