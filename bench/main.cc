// keel-bench: runs one of the fixed workloads of docs/benchmarks.md and prints its result
// as one JSON line on stdout (field names fixed by the cross-engine comparison); progress
// and diagnostics go to stderr. Benchmarks are measurements: nothing is asserted. The
// hidden `--worker` subcommand is server mode's worker process (bench_env.h).
#include <cstdio>
#include <exception>
#include <iostream>
#include <string>
#include <vector>

#include "bench/bench_env.h"
#include "bench/cpu_check.h"
#include "bench/options.h"
#include "bench/workloads.h"

int main(int argc, char** argv) {
  using keel::bench::BenchOptions;
  BenchOptions options;
  bool help = false;
  if (auto error = keel::bench::ParseArgs(argc, argv, &options, &help)) {
    std::fprintf(stderr, "keel-bench: %s (see keel-bench --help)\n", error->c_str());
    return 2;
  }
  if (help) {
    keel::bench::PrintUsage(stdout);
    return 0;
  }
  if (options.worker) return keel::bench::RunWorkerProcess(options);

  using Runner = nlohmann::ordered_json (*)(const BenchOptions&);
  Runner run = nullptr;
  if (options.workload == "W1") {
    run = keel::bench::RunThroughput;
  } else if (options.workload == "W2") {
    run = keel::bench::RunLatency;
  } else if (options.workload == "W3") {
    run = keel::bench::RunTimers;
  } else if (options.workload == "W4") {
    run = keel::bench::RunSignal;
  } else if (options.workload == "W5") {
    run = keel::bench::RunReplay;
  } else {
    std::fprintf(stderr, "keel-bench: workload '%s' is not implemented (W1 to W5)\n",
                 options.workload.c_str());
    return 2;
  }

  try {
    // Before: in a child, so that the workload's peak RSS and allocator start as without.
    std::vector<double> before;
    if (options.cpu_check) before = keel::bench::CpuSpeedsInChild();
    nlohmann::ordered_json result = run(options);
    if (options.cpu_check) keel::bench::AddCpuSpeeds(before, keel::bench::CpuSpeeds(), result);
    std::cout << result.dump() << std::endl;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "keel-bench: %s failed: %s\n", options.workload.c_str(), e.what());
    return 1;
  }
  return 0;
}
