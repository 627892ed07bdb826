// W1 throughput: N workflows of three sequential no-op activities, at most 64 in flight
// from the client (64 client threads, each starting a workflow and waiting for its
// result before starting the next; by default in one call, see --client-call). Timed
// from the first start to the last result (the threads exist before).
#include <algorithm>
#include <atomic>
#include <cstdio>
#include <latch>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "bench/bench_env.h"
#include "bench/client_call.h"
#include "bench/cpu_meter.h"
#include "bench/stats.h"
#include "bench/tuning.h"
#include "bench/workflows.h"
#include "bench/workloads.h"
#include "engine/client.h"

namespace keel::bench {

namespace {

constexpr int kDefaultWorkflows = 1000;
constexpr int kStepsPerWorkflow = 3;

}  // namespace

nlohmann::ordered_json RunThroughput(const BenchOptions& options) {
  const int n = options.n > 0 ? options.n : kDefaultWorkflows;
  std::unique_ptr<BenchEnv> env = OpenBenchEnv(options);
  Client& client = env->client();

  std::atomic<int> next{0};
  std::atomic<int> errors{0};
  Progress progress("W1", n, "workflows");
  std::latch go(1);  // the client threads exist before the timing starts
  std::vector<std::thread> clients;
  for (int t = 0; t < std::min(kW1InFlight, n); ++t) {
    clients.emplace_back([&] {
      go.wait();
      for (int i = next++; i < n; i = next++) {
        std::string id = WorkflowId(options, "w1", i);
        try {
          auto result = StartAndWait<int64_t>(client, options, kThreeSteps, id, int64_t{i});
          if (result != i + kStepsPerWorkflow) {
            throw std::runtime_error("returned " + std::to_string(result) + ", expected " +
                                     std::to_string(i + kStepsPerWorkflow));
          }
        } catch (const std::exception& e) {
          if (errors++ < 5) std::fprintf(stderr, "W1: workflow %s: %s\n", id.c_str(), e.what());
        }
        progress.Add();
      }
    });
  }
  Stopwatch wall;
  CpuMeter cpu(*env);
  go.count_down();
  for (auto& t : clients) t.join();
  const double seconds = wall.Seconds();
  cpu.Stop();
  Worker::Stats stats = env->StopWorker();
  if (errors > 0) {
    throw std::runtime_error(std::to_string(errors.load()) + " of " + std::to_string(n) +
                             " workflows failed or returned a wrong result");
  }

  auto j = ResultHead(options, n, seconds);
  j["workflows_per_s"] = Round(n / seconds, 1);
  j["steps_per_s"] = Round(kStepsPerWorkflow * n / seconds, 1);
  cpu.AddTo(j, n, "workflow");
  env->AddPeakRss(j);
  j["in_flight"] = std::min(kW1InFlight, n);
  j["client_call"] = options.client_call;
  AddSettings(options, j);
  j["workflow_tasks"] = stats.workflow_tasks;
  j["cache_hits"] = stats.cache_hits;  // tasks applied to a cached run (no replay)
  j["inline_workflow_tasks"] = stats.inline_workflow_tasks;
  j["eager_activities"] = stats.eager_activities;
  j["eager_workflow_tasks"] = stats.eager_workflow_tasks;
  j["workflow_tasks_on_result"] = stats.workflow_tasks_on_result;
  return j;
}

}  // namespace keel::bench
