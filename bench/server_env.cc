// The server BenchEnv: keeld (started here on a fresh database, or given with --server),
// one worker process (keel-bench --worker) and this process as the client, all over gRPC
// on loopback. Both children are killed and reaped on every exit path: Stop() on the
// normal one, the ChildProcess destructors on an exception, exit_cleanup.h on a signal.
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "bench/bench_env.h"
#include "bench/child_process.h"
#include "bench/stats.h"
#include "bench/temp_db_dir.h"
#include "bench/tuning.h"
#include "engine/grpc_frontend.h"

namespace keel::bench {

namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr milliseconds kStartTimeout = seconds(30);
// keeld drains in-flight calls for up to 10 s on SIGTERM; the worker finishes its tasks.
constexpr milliseconds kStopGrace = seconds(20);
constexpr char kListening[] = "keeld listening on ";

std::filesystem::path SelfPath() { return std::filesystem::read_symlink("/proc/self/exe"); }

std::string DurabilityFlag(const BenchOptions& options) {
  return std::string(DurabilityName(options.durability));
}

// Reads the child's stdout until a line starts with `prefix`; returns the line's rest.
std::string AwaitLine(ChildProcess& child, const std::string& what, const std::string& prefix) {
  while (auto line = child.ReadLine(kStartTimeout)) {
    if (line->rfind(prefix, 0) == 0) return line->substr(prefix.size());
  }
  std::string how;
  child.Stop(SIGKILL, seconds(1), &how);
  throw std::runtime_error(what + " " + how + " before it was ready (its errors are above)");
}

// Throws unless the server answers a call (connects the channel before anything is timed).
void CheckReachable(Client& client, const std::string& address) {
  try {
    client.ListWorkflows({.limit = 1});
  } catch (const std::exception& e) {
    throw std::runtime_error("keeld at " + address + " does not answer: " + e.what());
  }
}

class ServerEnv final : public BenchEnv {
 public:
  explicit ServerEnv(const BenchOptions& options) {
    std::string address = options.server;
    if (address.empty()) address = StartKeeld(options);
    StartWorker(options, address);
    ConnectOptions connect;
    connect.address = address;
    auto frontend = ConnectToServer(connect);
    if (!frontend.ok()) throw std::runtime_error(frontend.status().ToString());
    frontend_ = std::move(*frontend);
    client_ = std::make_unique<Client>(*frontend_);
    CheckReachable(*client_, address);
    frontend_->PrepareConcurrentCalls(kW1InFlight);  // its streams open before anything is timed
  }

  ~ServerEnv() override {
    client_.reset();
    frontend_.reset();
    if (worker_) worker_->Stop(SIGKILL, kStopGrace);
    if (keeld_) keeld_->Stop(SIGTERM, kStopGrace);
  }

  Client& client() override { return *client_; }

  // The worker prints its counters as one JSON line once SIGTERM has stopped it.
  Worker::Stats StopWorker() override {
    std::string how;
    std::vector<std::string> lines = worker_->Stop(SIGTERM, kStopGrace, &how);
    for (const auto& line : lines) {
      auto j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
      if (!j.is_object() || !j.contains("workflow_tasks")) continue;
      Worker::Stats s;
      s.workflow_tasks = j.value("workflow_tasks", uint64_t{0});
      s.workflow_task_failures = j.value("workflow_task_failures", uint64_t{0});
      s.cache_hits = j.value("cache_hits", uint64_t{0});
      s.inline_workflow_tasks = j.value("inline_workflow_tasks", uint64_t{0});
      s.eager_activities = j.value("eager_activities", uint64_t{0});
      s.eager_workflow_tasks = j.value("eager_workflow_tasks", uint64_t{0});
      s.workflow_tasks_on_result = j.value("workflow_tasks_on_result", uint64_t{0});
      s.replays = j.value("replays", uint64_t{0});
      s.activities = j.value("activities", uint64_t{0});
      s.activity_failures = j.value("activity_failures", uint64_t{0});
      worker_peak_rss_mb_ = j.value("peak_rss_mb", -1.0);
      return s;
    }
    throw std::runtime_error("the worker process " + how + " without reporting its counters");
  }

  void AddPeakRss(nlohmann::ordered_json& result) override {
    if (keeld_) result["peak_rss_mb"] = Round(PeakRssMb(keeld_->pid()), 1);
    result["worker_peak_rss_mb"] = Round(worker_peak_rss_mb_, 1);
    result["client_peak_rss_mb"] = Round(PeakRssMb(), 1);
  }

  std::vector<Process> Processes() const override {
    return {{"keeld", keeld_ ? keeld_->pid() : -1}, {"worker", worker_->pid()}, {"client", 0}};
  }

 private:
  // Starts build/bin/keeld (next to this binary) on 127.0.0.1:0 over a fresh database;
  // returns the address it reports.
  std::string StartKeeld(const BenchOptions& options) {
    std::filesystem::path keeld = SelfPath().parent_path() / "keeld";
    if (access(keeld.c_str(), X_OK) != 0) {
      throw std::runtime_error("keeld not found at " + keeld.string() +
                               " (build it: cmake --build BUILD --target keeld), or pass "
                               "--server HOST:PORT of a running keeld");
    }
    dir_ = std::make_unique<TempDbDir>(options.dir);
    keeld_ = std::make_unique<ChildProcess>(
        std::vector<std::string>{keeld.string(), "--db", dir_->db_path(), "--listen", "127.0.0.1:0",
                                 "--durability", DurabilityFlag(options)});
    std::string rest = AwaitLine(*keeld_, "keeld", kListening);
    return rest.substr(0, rest.find(' '));  // "HOST:PORT (db PATH)"
  }

  void StartWorker(const BenchOptions& options, const std::string& address) {
    WorkerOptions w = BenchWorkerOptions(options);
    worker_ = std::make_unique<ChildProcess>(std::vector<std::string>{
        SelfPath().string(), "--worker", "--server", address, "--workflow-pollers",
        std::to_string(w.workflow_task_pollers), "--activity-threads",
        std::to_string(w.max_concurrent_activities)});
    AwaitLine(*worker_, "the worker process", kWorkerReady);
  }

  // Declared in destruction order's reverse: the directory outlives keeld.
  std::unique_ptr<TempDbDir> dir_;
  std::unique_ptr<ChildProcess> keeld_;
  std::unique_ptr<ChildProcess> worker_;
  std::unique_ptr<Frontend> frontend_;
  std::unique_ptr<Client> client_;
  double worker_peak_rss_mb_ = -1;
};

}  // namespace

std::unique_ptr<BenchEnv> OpenServerEnv(const BenchOptions& options) {
  return std::make_unique<ServerEnv>(options);
}

}  // namespace keel::bench
