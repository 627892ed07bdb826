// W4 signal round trip: sequential runs of a workflow that waits for a signal; the client
// sends it right after the start. Each round trip is from the client's StartWorkflow call
// to GetResult returning, so it holds the start, the signal and the result's way back
// (two workflow tasks: the first may already see the signal, else the signal schedules
// the second). A few warm-up runs (not measured) come first, as in W2.
#include <cstdio>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "bench/bench_env.h"
#include "bench/stats.h"
#include "bench/tuning.h"
#include "bench/workflows.h"
#include "bench/workloads.h"
#include "engine/client.h"

namespace keel::bench {

namespace {

constexpr int kDefaultRuns = 100;
constexpr int kWarmupRuns = 10;
constexpr int64_t kSignalValue = 1;

}  // namespace

nlohmann::ordered_json RunSignal(const BenchOptions& options) {
  const int n = options.n > 0 ? options.n : kDefaultRuns;
  std::unique_ptr<BenchEnv> env = OpenBenchEnv(options);
  Client& client = env->client();

  auto run_one = [&](const std::string& id, int64_t x) {
    client.StartWorkflow(kWaitSignal, {.id = id}, x);
    client.SignalWorkflow(id, kGo, kSignalValue);
    auto result = client.GetResult<int64_t>(id);
    if (result != x + kSignalValue) {
      throw std::runtime_error("W4: workflow " + id + " returned " + std::to_string(result) +
                               ", expected " + std::to_string(x + kSignalValue));
    }
  };
  for (int i = 0; i < kWarmupRuns; ++i) run_one(WorkflowId(options, "w4-warmup", i), i);

  std::vector<double> round_trips_ms;
  round_trips_ms.reserve(n);
  Progress progress("W4", n, "runs");
  Stopwatch wall;
  for (int i = 0; i < n; ++i) {
    Stopwatch one;
    run_one(WorkflowId(options, "w4", i), i);
    round_trips_ms.push_back(one.Millis());
    progress.Add();
  }
  const double seconds = wall.Seconds();
  env->StopWorker();

  auto j = ResultHead(options, n, seconds);
  j["p50_ms"] = Round(Percentile(round_trips_ms, 50), 3);
  j["p99_ms"] = Round(Percentile(round_trips_ms, 99), 3);
  j["mean_ms"] = Round(Mean(round_trips_ms), 3);
  j["max_ms"] = Round(Percentile(round_trips_ms, 100), 3);
  env->AddPeakRss(j);
  j["warmup_runs"] = kWarmupRuns;
  AddSettings(options, j);
  return j;
}

}  // namespace keel::bench
