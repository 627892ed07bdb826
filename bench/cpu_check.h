// How fast each CPU of the machine runs Keel's own code right now. On a shared host one
// vCPU may run at a third to half of the other's speed for minutes (seen on the machine
// of docs/benchmarks.md), which lowers a workload's figure without any change in Keel;
// keel-bench measures this before and after each workload so that a result says which
// kind of period it came from. Free functions; call them from one thread at a time.
#pragma once

#include <vector>

#include <nlohmann/json.hpp>

namespace keel::bench {

// For each CPU this process may run on, in order: millions of history events per second
// replayed by a thread pinned to that CPU (W5's code and history, 1,000 activities). The
// CPUs take turns, three rounds of about 8 ms each (so that they do not compete, and a
// moment's contention does not decide), and each CPU's median round counts. Empty when
// the CPUs cannot be listed or pinned to, or the replay fails.
std::vector<double> CpuSpeeds();

// The same, measured in a child process (fork), so that this process's memory (its peak
// RSS, its allocator's caches) is left as it was. Call it before any thread is started.
std::vector<double> CpuSpeedsInChild();

// Adds cpu_speed_before and cpu_speed_after (M events/s per CPU) to `result`, and warns
// on stderr when the slowest CPU ran at under 70% of the fastest's speed.
void AddCpuSpeeds(const std::vector<double>& before, const std::vector<double>& after,
                  nlohmann::ordered_json& result);

}  // namespace keel::bench
