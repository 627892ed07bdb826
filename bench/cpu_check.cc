#include "bench/cpu_check.h"

#include <pthread.h>
#include <sched.h>

#include <algorithm>
#include <cstdio>
#include <string>
#include <thread>

#include "bench/stats.h"
#include "bench/w5_history.h"
#include "bench/workflows.h"
#include "engine/replayer.h"

namespace keel::bench {

namespace {

constexpr int kActivities = 1000;
constexpr double kSecondsPerCpu = 0.025;
constexpr double kWarnRatio = 0.7;

// Replays `history` on the calling thread for about kSecondsPerCpu; M events/s.
double ReplaySpeed(const History& history, const Registry& registry) {
  (void)ReplayHistory(history, registry);  // warms the caches (and checks nothing)
  int reps = 0;
  Stopwatch wall;
  do {
    (void)ReplayHistory(history, registry);
    ++reps;
  } while (wall.Seconds() < kSecondsPerCpu);
  return static_cast<double>(history.size()) * reps / wall.Seconds() / 1e6;
}

std::string Join(const std::vector<double>& speeds) {
  std::string out;
  char one[32];
  for (double s : speeds) {
    std::snprintf(one, sizeof one, "%s%.2f", out.empty() ? "" : ", ", s);
    out += one;
  }
  return out;
}

}  // namespace

std::vector<double> CpuSpeeds() {
  cpu_set_t allowed;
  CPU_ZERO(&allowed);
  if (sched_getaffinity(0, sizeof allowed, &allowed) != 0) return {};
  const Registry registry = BenchRegistry();
  const History history = BuildW5History(kActivities);
  std::vector<double> speeds;
  for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
    if (!CPU_ISSET(cpu, &allowed)) continue;
    double speed = -1;
    std::thread pinned([&] {
      cpu_set_t one;
      CPU_ZERO(&one);
      CPU_SET(cpu, &one);
      if (pthread_setaffinity_np(pthread_self(), sizeof one, &one) == 0) {
        speed = ReplaySpeed(history, registry);
      }
    });
    pinned.join();
    if (speed < 0) return {};
    speeds.push_back(speed);
  }
  return speeds;
}

void AddCpuSpeeds(const std::vector<double>& before, const std::vector<double>& after,
                  nlohmann::ordered_json& result) {
  auto rounded = [](const std::vector<double>& speeds) {
    auto out = nlohmann::ordered_json::array();
    for (double s : speeds) out.push_back(Round(s, 2));
    return out;
  };
  result["cpu_speed_before"] = rounded(before);
  result["cpu_speed_after"] = rounded(after);
  for (const auto* speeds : {&before, &after}) {
    if (speeds->size() < 2) continue;
    const auto [slowest, fastest] = std::minmax_element(speeds->begin(), speeds->end());
    if (*slowest < kWarnRatio * *fastest) {
      std::fprintf(stderr,
                   "keel-bench: the CPUs ran at different speeds %s the run (%s M events/s each):"
                   " the host is contended, so this figure is lower than the machine's\n",
                   speeds == &before ? "before" : "after", Join(*speeds).c_str());
    }
  }
}

}  // namespace keel::bench
