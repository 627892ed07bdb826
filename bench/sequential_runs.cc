#include "bench/sequential_runs.h"

#include <vector>

#include "bench/cpu_meter.h"
#include "bench/stats.h"
#include "bench/tuning.h"
#include "bench/workloads.h"

namespace keel::bench {

nlohmann::ordered_json TimeSequentialRuns(const BenchOptions& options, BenchEnv& env, const char* workload,
                                          const char* id_prefix, int n,
                                          const std::function<void(const std::string&, int64_t)>& run_one) {
  const std::string prefix = id_prefix;
  for (int i = 0; i < kWarmupRuns; ++i) run_one(WorkflowId(options, prefix + "-warmup", i), i);

  std::vector<double> runs_ms;
  runs_ms.reserve(n);
  Progress progress(workload, n, "runs");
  Stopwatch wall;
  CpuMeter cpu(env);
  for (int i = 0; i < n; ++i) {
    Stopwatch one;
    run_one(WorkflowId(options, prefix, i), i);
    runs_ms.push_back(one.Millis());
    progress.Add();
  }
  const double seconds = wall.Seconds();
  cpu.Stop();
  env.StopWorker();

  auto j = ResultHead(options, n, seconds);
  j["p50_ms"] = Round(Percentile(runs_ms, 50), 3);
  j["p99_ms"] = Round(Percentile(runs_ms, 99), 3);
  j["mean_ms"] = Round(Mean(runs_ms), 3);
  j["max_ms"] = Round(Percentile(runs_ms, 100), 3);
  cpu.AddTo(j, n, "run");
  env.AddPeakRss(j);
  j["warmup_runs"] = kWarmupRuns;
  AddSettings(options, j);
  return j;
}

}  // namespace keel::bench
