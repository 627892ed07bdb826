// W4 signal round trip: sequential runs of a workflow that waits for a signal; the client
// sends it right after the start. Each round trip is from the client's StartWorkflow call
// to GetResult returning, so it holds the start, the signal and the result's way back
// (two workflow tasks: the first may already see the signal, else the signal schedules
// the second). A few warm-up runs (not measured) come first, as in W2.
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

constexpr int kDefaultRuns = 100;
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
  return TimeSequentialRuns(options, *env, "W4", "w4", n, run_one);
}

}  // namespace keel::bench
