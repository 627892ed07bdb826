// W2 latency: sequential runs of a one-activity workflow; each latency is from the
// client's StartWorkflow call to GetResult returning. A few warm-up runs (not measured)
// come first so that the figure is the steady state, not thread and cache start-up.
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

constexpr int kDefaultRuns = 200;
constexpr int kWarmupRuns = 10;

}  // namespace

nlohmann::ordered_json RunLatency(const BenchOptions& options) {
  const int n = options.n > 0 ? options.n : kDefaultRuns;
  std::unique_ptr<BenchEnv> env = OpenBenchEnv(options);
  Client& client = env->client();

  auto run_one = [&](const std::string& id, int64_t x) {
    client.StartWorkflow(kOneStep, {.id = id}, x);
    auto result = client.GetResult<int64_t>(id);
    if (result != x + 1) {
      throw std::runtime_error("W2: workflow " + id + " returned " + std::to_string(result) +
                               ", expected " + std::to_string(x + 1));
    }
  };
  for (int i = 0; i < kWarmupRuns; ++i) run_one(WorkflowId(options, "w2-warmup", i), i);

  std::vector<double> latencies_ms;
  latencies_ms.reserve(n);
  Progress progress("W2", n, "runs");
  Stopwatch wall;
  for (int i = 0; i < n; ++i) {
    Stopwatch one;
    run_one(WorkflowId(options, "w2", i), i);
    latencies_ms.push_back(one.Millis());
    progress.Add();
  }
  const double seconds = wall.Seconds();
  env->StopWorker();

  auto j = ResultHead(options, n, seconds);
  j["p50_ms"] = Round(Percentile(latencies_ms, 50), 3);
  j["p99_ms"] = Round(Percentile(latencies_ms, 99), 3);
  j["mean_ms"] = Round(Mean(latencies_ms), 3);
  j["max_ms"] = Round(Percentile(latencies_ms, 100), 3);
  env->AddPeakRss(j);
  j["warmup_runs"] = kWarmupRuns;
  AddSettings(options, j);
  return j;
}

}  // namespace keel::bench
