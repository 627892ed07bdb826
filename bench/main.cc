// keel-bench: runs one of the fixed workloads of docs/benchmarks.md and prints its result
// as one JSON line on stdout (field names fixed by the cross-engine comparison); progress
// and diagnostics go to stderr. Benchmarks are measurements: nothing is asserted.
#include <cstdio>
#include <exception>
#include <iostream>
#include <string>

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
  if (options.mode == "server") {
    std::fprintf(stderr,
                 "keel-bench: --mode server is not available yet (it needs keeld); "
                 "use --mode embedded\n");
    return 2;
  }
  if (options.mode != "embedded") {
    std::fprintf(stderr, "keel-bench: unknown mode '%s' (embedded or server)\n",
                 options.mode.c_str());
    return 2;
  }

  using Runner = nlohmann::ordered_json (*)(const BenchOptions&);
  Runner run = nullptr;
  if (options.workload == "W1") {
    run = keel::bench::RunThroughput;
  } else if (options.workload == "W2") {
    run = keel::bench::RunLatency;
  } else if (options.workload == "W3") {
    run = keel::bench::RunTimers;
  } else if (options.workload == "W5") {
    run = keel::bench::RunReplay;
  } else {
    std::fprintf(stderr, "keel-bench: workload '%s' is not implemented (W1, W2, W3, W5)\n",
                 options.workload.c_str());
    return 2;
  }

  try {
    nlohmann::ordered_json result = run(options);
    std::cout << result.dump() << std::endl;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "keel-bench: %s failed: %s\n", options.workload.c_str(), e.what());
    return 1;
  }
  return 0;
}
