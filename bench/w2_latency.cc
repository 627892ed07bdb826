// W2 latency: sequential runs of a one-activity workflow; each latency is from the
// client's call to the result (one ExecuteWorkflow call, or StartWorkflow then GetResult
// with --client-call start-then-result). A few warm-up runs (not measured)
// come first so that the figure is the steady state, not thread and cache start-up.
#include <memory>
#include <stdexcept>
#include <string>

#include "bench/bench_env.h"
#include "bench/client_call.h"
#include "bench/sequential_runs.h"
#include "bench/workflows.h"
#include "bench/workloads.h"
#include "engine/client.h"

namespace keel::bench {

namespace {

constexpr int kDefaultRuns = 200;

}  // namespace

nlohmann::ordered_json RunLatency(const BenchOptions& options) {
  const int n = options.n > 0 ? options.n : kDefaultRuns;
  std::unique_ptr<BenchEnv> env = OpenBenchEnv(options);
  Client& client = env->client();

  auto run_one = [&](const std::string& id, int64_t x) {
    auto result = StartAndWait<int64_t>(client, options, kOneStep, id, x);
    if (result != x + 1) {
      throw std::runtime_error("W2: workflow " + id + " returned " + std::to_string(result) +
                               ", expected " + std::to_string(x + 1));
    }
  };
  auto j = TimeSequentialRuns(options, *env, "W2", "w2", n, run_one);
  j["client_call"] = options.client_call;
  return j;
}

}  // namespace keel::bench
