// W3 timers: N workflows started together, each sleeping 1 s durably. The headline
// lateness is measured inside each workflow on its own (history) clock: ctx.Now() after
// the sleep - ctx.Now() before it - 1 s, i.e. from the workflow task that started the
// timer to the one that resumed the code (timer firing plus dispatching the task); it
// excludes the start request and the result's trip back to the client, and does not
// depend on how fast this process's client threads are scheduled. The client-side view
// (result seen - start call - 1 s) is reported beside it as e2e_over_1s_p99_ms, and the
// engine's timer alone (TimerFired - TimerStarted - 1 s, from the histories) as
// timer_fired_late_p99_ms.
#include <algorithm>
#include <atomic>
#include <cstdio>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "bench/bench_env.h"
#include "bench/stats.h"
#include "bench/tuning.h"
#include "bench/workflows.h"
#include "bench/workloads.h"
#include "engine/client.h"

namespace keel::bench {

namespace {

constexpr int kDefaultWorkflows = 200;
// Client threads: each starts its share of the workflows, then waits for their results,
// so every workflow is sleeping at the same time.
constexpr int kMaxClientThreads = 200;

double EventMs(const v1::HistoryEvent& e) {
  return e.event_time().seconds() * 1e3 + e.event_time().nanos() / 1e6;
}

// How late the engine fired the run's timer, from its TimerStarted and TimerFired events.
std::optional<double> TimerFiredLateMs(const History& h) {
  std::optional<double> started, fired;
  for (int i = 0; i < h.size(); ++i) {
    if (h.event(i).has_timer_started()) started = EventMs(h.event(i));
    if (h.event(i).has_timer_fired()) fired = EventMs(h.event(i));
  }
  if (!started || !fired) return std::nullopt;
  return *fired - *started - 1000.0;
}

}  // namespace

nlohmann::ordered_json RunTimers(const BenchOptions& options) {
  const int n = options.n > 0 ? options.n : kDefaultWorkflows;
  std::unique_ptr<BenchEnv> env = OpenBenchEnv(options);
  Client& client = env->client();

  std::vector<double> lateness_ms(n, 0), e2e_over_ms(n, 0);
  std::vector<Stopwatch> started(n);
  std::atomic<int> errors{0};
  const int threads = std::min(n, kMaxClientThreads);
  Progress progress("W3", n, "workflows woke up");
  Stopwatch wall;
  std::vector<std::thread> clients;
  for (int t = 0; t < threads; ++t) {
    clients.emplace_back([&, t] {
      std::vector<std::string> failed_starts;
      for (int i = t; i < n; i += threads) {
        std::string id = WorkflowId(options, "w3", i);
        started[i].Restart();
        try {
          client.StartWorkflow(kSleepOneSecond, {.id = id});
        } catch (const std::exception& e) {
          failed_starts.push_back(id);
          if (errors++ < 5) std::fprintf(stderr, "W3: start %s: %s\n", id.c_str(), e.what());
        }
      }
      for (int i = t; i < n; i += threads) {
        std::string id = WorkflowId(options, "w3", i);
        if (std::find(failed_starts.begin(), failed_starts.end(), id) != failed_starts.end()) {
          progress.Add();
          continue;
        }
        try {
          auto late_us = client.GetResult<int64_t>(id);
          e2e_over_ms[i] = started[i].Millis() - 1000.0;
          lateness_ms[i] = late_us / 1000.0;
          if (late_us < 0) throw std::runtime_error("woke up before its 1 s");
        } catch (const std::exception& e) {
          if (errors++ < 5) std::fprintf(stderr, "W3: workflow %s: %s\n", id.c_str(), e.what());
        }
        progress.Add();
      }
    });
  }
  for (auto& t : clients) t.join();
  const double seconds = wall.Seconds();
  env->StopWorker();
  if (errors > 0) {
    throw std::runtime_error(std::to_string(errors.load()) + " of " + std::to_string(n) +
                             " timer workflows failed or woke up early");
  }

  // The engine's own part, from the histories (not timed): TimerFired - TimerStarted - 1 s.
  std::vector<double> fired_late_ms;
  for (int i = 0; i < n; ++i) {
    if (auto late = TimerFiredLateMs(client.GetHistory(WorkflowId(options, "w3", i)))) {
      fired_late_ms.push_back(*late);
    }
  }

  auto j = ResultHead(options, n, seconds);
  j["lateness_p99_ms"] = Round(Percentile(lateness_ms, 99), 3);
  j["lateness_p50_ms"] = Round(Percentile(lateness_ms, 50), 3);
  j["lateness_max_ms"] = Round(Percentile(lateness_ms, 100), 3);
  j["timer_fired_late_p99_ms"] = Round(Percentile(fired_late_ms, 99), 3);
  j["e2e_over_1s_p99_ms"] = Round(Percentile(e2e_over_ms, 99), 3);
  env->AddPeakRss(j);
  AddSettings(options, j);
  return j;
}

}  // namespace keel::bench
