// The worker process of server mode (`keel-bench --worker --server ADDR`): the same
// Registry and WorkerOptions as embedded mode, polling keeld over gRPC. keel-bench starts
// it and reads its stdout: kWorkerReady once it polls, its counters as one JSON line
// after SIGTERM.
#include <signal.h>

#include <cstdio>
#include <nlohmann/json.hpp>

#include "bench/bench_env.h"
#include "bench/stats.h"
#include "bench/tuning.h"
#include "bench/workflows.h"
#include "engine/client.h"
#include "engine/grpc_frontend.h"

namespace keel::bench {

int RunWorkerProcess(const BenchOptions& options) {
  // Blocked before any thread starts, so only sigwait below takes them.
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGTERM);
  sigaddset(&stop, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop, nullptr);

  ConnectOptions connect;
  connect.address = options.server;
  auto frontend = ConnectToServer(connect);
  if (!frontend.ok()) {
    std::fprintf(stderr, "keel-bench worker: %s\n", frontend.status().ToString().c_str());
    return 1;
  }
  try {
    Client(**frontend).ListWorkflows({.limit = 1});  // connected before it says ready
  } catch (const std::exception& e) {
    std::fprintf(stderr, "keel-bench worker: keeld at %s does not answer: %s\n",
                 options.server.c_str(), e.what());
    return 1;
  }
  Registry registry = BenchRegistry();
  Worker worker(**frontend, registry, BenchWorkerOptions(options));
  worker.Start();
  std::printf("%s\n", kWorkerReady);
  std::fflush(stdout);

  int sig = 0;
  sigwait(&stop, &sig);
  worker.Stop();
  Worker::Stats s = worker.stats();
  nlohmann::ordered_json j;
  j["workflow_tasks"] = s.workflow_tasks;
  j["workflow_task_failures"] = s.workflow_task_failures;
  j["cache_hits"] = s.cache_hits;
  j["inline_workflow_tasks"] = s.inline_workflow_tasks;
  j["eager_activities"] = s.eager_activities;
  j["eager_workflow_tasks"] = s.eager_workflow_tasks;
  j["workflow_tasks_on_result"] = s.workflow_tasks_on_result;
  j["replays"] = s.replays;
  j["activities"] = s.activities;
  j["activity_failures"] = s.activity_failures;
  j["peak_rss_mb"] = PeakRssMb();
  std::printf("%s\n", j.dump().c_str());
  std::fflush(stdout);
  return 0;
}

}  // namespace keel::bench
