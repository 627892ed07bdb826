#include "bench/cpu_check.h"

#include <pthread.h>
#include <sched.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <exception>
#include <string>
#include <thread>

#include "bench/stats.h"
#include "bench/w5_history.h"
#include "bench/workflows.h"
#include "engine/replayer.h"

namespace keel::bench {

namespace {

constexpr int kActivities = 1000;
constexpr int kRounds = 3;
constexpr double kSecondsPerRound = 0.008;
constexpr double kWarnRatio = 0.7;

// Replays `history` on the calling thread for about kSecondsPerRound; M events/s, or -1
// when the replay fails (then its speed says nothing).
double ReplaySpeed(const History& history, const Registry& registry) {
  if (!ReplayHistory(history, registry).ok()) return -1;  // also warms the caches
  int reps = 0;
  Stopwatch wall;
  double seconds = 0;
  do {
    (void)ReplayHistory(history, registry);
    ++reps;
    seconds = wall.Seconds();
  } while (seconds < kSecondsPerRound);
  return static_cast<double>(history.size()) * reps / seconds / 1e6;
}

// ReplaySpeed on a thread pinned to `cpu`; -1 when it cannot be pinned or fails.
double SpeedOn(int cpu, const History& history, const Registry& registry) {
  double speed = -1;
  std::exception_ptr error;
  std::thread pinned([&] {
    try {
      cpu_set_t one;
      CPU_ZERO(&one);
      CPU_SET(cpu, &one);
      if (pthread_setaffinity_np(pthread_self(), sizeof one, &one) == 0) {
        speed = ReplaySpeed(history, registry);
      }
    } catch (...) {
      error = std::current_exception();
    }
  });
  pinned.join();
  if (error) std::rethrow_exception(error);
  return speed;
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
  std::vector<int> cpus;
  for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
    if (CPU_ISSET(cpu, &allowed)) cpus.push_back(cpu);
  }
  const Registry registry = BenchRegistry();
  const History history = BuildW5History(kActivities);
  std::vector<std::vector<double>> rounds(cpus.size());
  for (int round = 0; round < kRounds; ++round) {
    for (size_t i = 0; i < cpus.size(); ++i) {
      const double speed = SpeedOn(cpus[i], history, registry);
      if (speed < 0) return {};
      rounds[i].push_back(speed);
    }
  }
  std::vector<double> speeds;
  for (auto& r : rounds) {
    std::sort(r.begin(), r.end());
    speeds.push_back(r[r.size() / 2]);
  }
  return speeds;
}

std::vector<double> CpuSpeedsInChild() {
  int fds[2];
  if (pipe(fds) != 0) return {};
  const pid_t pid = fork();
  if (pid < 0) {
    close(fds[0]);
    close(fds[1]);
    return {};
  }
  if (pid == 0) {
    close(fds[0]);
    std::vector<double> speeds;
    try {
      speeds = CpuSpeeds();
    } catch (...) {
      _exit(1);  // no figures: the parent reports none
    }
    const size_t bytes = speeds.size() * sizeof(double);
    _exit(write(fds[1], speeds.data(), bytes) == static_cast<ssize_t>(bytes) ? 0 : 1);
  }
  close(fds[1]);
  std::vector<double> speeds;
  double speed;
  while (read(fds[0], &speed, sizeof speed) == static_cast<ssize_t>(sizeof speed)) {
    speeds.push_back(speed);
  }
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) return {};
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
