// W2 latency: sequential runs of a one-activity workflow; each latency is from the
// client's StartWorkflow call to GetResult returning. A few warm-up runs (not measured)
// come first so that the figure is the steady state, not thread and cache start-up.
#include <memory>
#include <stdexcept>
#include <string>

#include "bench/bench_env.h"
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
    client.StartWorkflow(kOneStep, {.id = id}, x);
    auto result = client.GetResult<int64_t>(id);
    if (result != x + 1) {
      throw std::runtime_error("W2: workflow " + id + " returned " + std::to_string(result) +
                               ", expected " + std::to_string(x + 1));
    }
  };
  return TimeSequentialRuns(options, *env, "W2", "w2", n, run_one);
}

}  // namespace keel::bench
