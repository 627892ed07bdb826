// BenchEnv: where a workload's workflows run. Embedded: an engine, a worker and the
// client in this process. Server: keeld, one worker process (keel-bench --worker) and
// this process as the client, over gRPC on loopback. Workloads see only a Client, so each
// is written once for both modes. Create and destroy it on the main thread (child
// processes are tied to it); client() is thread-safe.
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "bench/options.h"
#include "engine/client.h"
#include "engine/worker.h"

namespace keel::bench {

class BenchEnv {
 public:
  virtual ~BenchEnv() = default;

  virtual Client& client() = 0;
  // Stops the worker (it finishes the tasks it runs) and returns its counters.
  virtual Worker::Stats StopWorker() = 0;
  // Adds the memory figures, after StopWorker. Embedded: peak_rss_mb (this process).
  // Server: peak_rss_mb (keeld's, when keel-bench started it), worker_peak_rss_mb and
  // client_peak_rss_mb.
  virtual void AddPeakRss(nlohmann::ordered_json& result) = 0;

  // The processes doing the work, for CPU accounting (cpu_meter.h): pid 0 is this
  // process, -1 one keel-bench did not start (an external keeld). Embedded: {"", 0}.
  struct Process {
    std::string name;
    int pid;
  };
  virtual std::vector<Process> Processes() const = 0;
};

// The workflow id of run `i` of a workload: "w1-7". With an external keeld (--server) the
// process id is added ("w1-4711-7"), so that a run never meets an earlier one's workflows.
std::string WorkflowId(const BenchOptions& options, std::string_view prefix, int i);

// By options.mode (OpenEmbeddedEnv or OpenServerEnv). Throws std::runtime_error when the engine,
// keeld or the worker cannot be started.
std::unique_ptr<BenchEnv> OpenBenchEnv(const BenchOptions& options);
std::unique_ptr<BenchEnv> OpenEmbeddedEnv(const BenchOptions& options);
std::unique_ptr<BenchEnv> OpenServerEnv(const BenchOptions& options);

// The line the worker process prints on stdout once it polls.
inline constexpr char kWorkerReady[] = "keel-bench worker ready";

// The hidden `keel-bench --worker --server ADDR` subcommand: a worker process running
// the bench code against keeld until SIGTERM, then printing its counters as one JSON line
// on stdout. Returns the exit status.
int RunWorkerProcess(const BenchOptions& options);

}  // namespace keel::bench
