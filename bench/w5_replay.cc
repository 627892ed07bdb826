// W5 replay: replays a recorded history of 2,500 activities (10,007 events) against the
// workflow code with keel::ReplayHistory. By default the history is written with
// keel::testing::HistoryBuilder in the exact order the engine records a run of
// kBatches whose three activities of a batch all finish before the next workflow task
// starts (see BuildW5History); --w5-source engine records it instead by running the
// workflow on an embedded engine and exporting its history. The replay is checked
// (status OK) once, then timed `reps` times; the rate is events * reps / total time.
#include <algorithm>
#include <cstdio>
#include <stdexcept>
#include <string>
#include <vector>

#include "bench/stats.h"
#include "bench/temp_engine.h"
#include "bench/tuning.h"
#include "bench/w5_history.h"
#include "bench/workflows.h"
#include "bench/workloads.h"
#include "engine/client.h"
#include "engine/replayer.h"

namespace keel::bench {

namespace {

constexpr int kDefaultActivities = 2500;
constexpr int kDefaultReps = 10;

History RecordOnEngine(const BenchOptions& options, int n, const Registry& registry) {
  TempEngine env(options, [](EngineOptions& o) { o.history_warn_events = 1 << 30; });
  Worker worker(env.engine(), registry, BenchWorkerOptions(options));
  worker.Start();
  Client client(env.engine());
  std::fprintf(stderr, "W5: recording a run of %d activities on the engine...\n", n);
  client.StartWorkflow(kBatches, {.id = "w5-replay"}, int64_t{n});
  (void)client.GetResult<int64_t>("w5-replay");
  History h = client.GetHistory("w5-replay");
  worker.Stop();
  return h;
}

}  // namespace

nlohmann::ordered_json RunReplay(const BenchOptions& options) {
  const int n = options.n > 0 ? options.n : kDefaultActivities;
  const int reps = options.reps > 0 ? options.reps : kDefaultReps;
  Registry registry;
  RegisterBenchCode(registry);
  History history =
      options.w5_source == "engine" ? RecordOnEngine(options, n, registry) : BuildW5History(n);
  const int events = history.size();

  ReplayResult check = ReplayHistory(history, registry);
  if (!check.ok()) {
    throw std::runtime_error("W5: the history does not replay: " + check.status.ToString() +
                             " (event " + std::to_string(check.event_id) + ")");
  }
  std::fprintf(stderr, "W5: %d events replay OK; timing %d replays\n", events, reps);

  std::vector<double> rates;
  Stopwatch wall;
  for (int r = 0; r < reps; ++r) {
    Stopwatch one;
    ReplayResult result = ReplayHistory(history, registry);
    const double s = one.Seconds();
    if (!result.ok()) throw std::runtime_error("W5: replay failed: " + result.status.ToString());
    rates.push_back(events / s);
  }
  const double seconds = wall.Seconds();

  auto j = ResultHead(options, n, seconds / reps);
  j.erase("group_commit");  // no database is written (W5 replays in memory)
  j["events_per_s"] = static_cast<int64_t>(static_cast<double>(events) * reps / seconds);
  j["events"] = events;
  j["reps"] = reps;
  j["best_events_per_s"] = static_cast<int64_t>(*std::max_element(rates.begin(), rates.end()));
  j["worst_events_per_s"] = static_cast<int64_t>(*std::min_element(rates.begin(), rates.end()));
  j["history_source"] = options.w5_source;
  j["peak_rss_mb"] = Round(PeakRssMb(), 1);
  return j;
}

}  // namespace keel::bench
