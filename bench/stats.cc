#include "bench/stats.h"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <numeric>
#include <sstream>

namespace keel::bench {

double Percentile(std::vector<double> samples, double p) {
  if (samples.empty()) return 0;
  std::sort(samples.begin(), samples.end());
  auto rank = static_cast<size_t>(std::ceil(p / 100.0 * static_cast<double>(samples.size())));
  rank = std::clamp<size_t>(rank, 1, samples.size());
  return samples[rank - 1];
}

double Mean(const std::vector<double>& samples) {
  if (samples.empty()) return 0;
  return std::accumulate(samples.begin(), samples.end(), 0.0) / static_cast<double>(samples.size());
}

double PeakRssMb(int pid) {
  std::ifstream in(pid == 0 ? std::string("/proc/self/status")
                            : "/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmHWM:", 0) != 0) continue;
    std::istringstream fields(line.substr(6));
    double kib = 0;
    if (fields >> kib) return kib / 1024.0;
  }
  return -1;
}

double CpuSeconds(int pid) {
  std::ifstream in(pid == 0 ? std::string("/proc/self/stat") : "/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(in, line)) return -1;
  // The command name (field 2) is in parentheses and may hold spaces: fields after it
  // start at 3 (state); utime and stime are fields 14 and 15.
  auto paren = line.rfind(')');
  if (paren == std::string::npos) return -1;
  std::istringstream fields(line.substr(paren + 1));
  std::string field;
  double utime = -1, stime = -1;
  for (int i = 3; i <= 15 && fields >> field; ++i) {
    if (i == 14) utime = std::stod(field);
    if (i == 15) stime = std::stod(field);
  }
  if (utime < 0 || stime < 0) return -1;
  return (utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

double Round(double value, int decimals) {
  double scale = std::pow(10.0, decimals);
  return std::round(value * scale) / scale;
}

Progress::Progress(std::string label, int total, std::string unit)
    : label_(std::move(label)), total_(total), unit_(std::move(unit)) {
  thread_ = std::thread([this] { Loop(); });
}

Progress::~Progress() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void Progress::Loop() {
  Stopwatch total;
  Stopwatch since_change;
  int last = -1;
  bool warned = false;
  std::unique_lock<std::mutex> lock(mu_);
  while (!cv_.wait_for(lock, std::chrono::seconds(1), [this] { return stop_; })) {
    int now = done();
    if (now != last) {
      std::fprintf(stderr, "%s: %d/%d %s (%.1f s)\n", label_.c_str(), now, total_, unit_.c_str(),
                   total.Seconds());
      last = now;
      since_change.Restart();
      warned = false;
    } else if (!warned && since_change.Seconds() > 30) {
      std::fprintf(stderr, "%s: WARNING: no %s finished for 30 s (%d/%d): the engine may hang\n",
                   label_.c_str(), unit_.c_str(), now, total_);
      warned = true;
    }
  }
}

}  // namespace keel::bench
