// W5 replay: replays a recorded history of 2,500 activities (10,007 events) against the
// workflow code with keel::ReplayHistory. By default the history is written with
// keel::testing::HistoryBuilder in the exact order the engine records a run of
// kBatches whose three activities of a batch all finish before the next workflow task
// starts (see BuildHistory); --w5-source engine records it instead by running the
// workflow on an embedded engine and exporting its history. The replay is checked
// (status OK) once, then timed `reps` times; the rate is events * reps / total time.
#include <algorithm>
#include <cstdio>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include "bench/stats.h"
#include "bench/temp_engine.h"
#include "bench/tuning.h"
#include "bench/workflows.h"
#include "bench/workloads.h"
#include "engine/client.h"
#include "engine/replayer.h"
#include "engine/testing/history_builder.h"

namespace keel::bench {

namespace {

constexpr int kDefaultActivities = 2500;
constexpr int kDefaultReps = 10;

// What the engine records for Batches(n) when each batch completes before the workflow
// reacts (events listed for one batch of activities a, b, c):
//   WorkflowTaskCompleted
//   ActivityTaskScheduled a, b, c          the batch's three commands
//   ActivityTaskStarted a                  written with its outcome (one commit)
//   WorkflowTaskScheduled                  the first outcome schedules a workflow task
//   ActivityTaskCompleted a
//   ActivityTaskStarted b, ActivityTaskCompleted b, ActivityTaskStarted c, ...Completed c
//   WorkflowTaskStarted, WorkflowTaskCompleted   the next batch
// and after the last batch WorkflowExecutionCompleted: 12 events per batch of three.
History BuildHistory(int n) {
  testing::HistoryBuilder b(kBatches, "w5-replay");
  b.Started({ToPayload(int64_t{n})}).WorkflowTask();
  std::map<int64_t, int64_t> started_of;  // scheduled event id -> its started event id
  int64_t sum = 0;
  for (int first = 0; first < n; first += kBatchSize) {
    const int last = std::min(first + kBatchSize, n);
    std::vector<int64_t> scheduled;
    for (int x = first; x < last; ++x) {
      b.ActivityScheduled(kIncrement, {ToPayload(int64_t{x})});
      scheduled.push_back(b.last_event_id());
    }
    for (int x = first; x < last; ++x) {
      const std::string id = std::to_string(x + 1);  // the code's activity ids count from 1
      b.ActivityStarted(id);
      started_of[scheduled[x - first]] = b.last_event_id();
      if (x == first) b.WorkflowTaskScheduled();
      b.ActivityCompleted(id, {ToPayload(int64_t{x + 1})});
      sum += x + 1;
    }
    b.WorkflowTaskStarted().WorkflowTaskCompleted();
  }
  b.Completed({ToPayload(sum)});
  History h = b.Build();
  // The builder points an outcome at the event just before it; the engine points it at
  // the attempt's ActivityTaskStarted, which for a batch's first outcome is one earlier.
  for (auto& e : *h.mutable_proto().mutable_events()) {
    if (!e.has_activity_task_completed()) continue;
    auto* c = e.mutable_activity_task_completed();
    c->set_started_event_id(started_of.at(c->scheduled_event_id()));
  }
  return h;
}

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
      options.w5_source == "engine" ? RecordOnEngine(options, n, registry) : BuildHistory(n);
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
