#include "bench/cpu_meter.h"

#include "bench/stats.h"

namespace keel::bench {

CpuMeter::CpuMeter(const BenchEnv& env) : processes_(env.Processes()) {
  for (const auto& p : processes_) start_.push_back(CpuSeconds(p.pid));
}

void CpuMeter::Stop() {
  end_.clear();
  for (const auto& p : processes_) end_.push_back(CpuSeconds(p.pid));
}

void CpuMeter::AddTo(nlohmann::ordered_json& result, double count, const std::string& unit) const {
  if (end_.size() != processes_.size() || count <= 0) return;
  double total = 0;
  bool complete = true;
  nlohmann::ordered_json each;
  for (size_t i = 0; i < processes_.size(); ++i) {
    if (start_[i] < 0 || end_[i] < 0) {
      complete = false;
      continue;
    }
    double ms = (end_[i] - start_[i]) * 1000.0 / count;
    total += ms;
    if (processes_.size() > 1) each[processes_[i].name + "_cpu_ms_per_" + unit] = Round(ms, 3);
  }
  if (complete) result["cpu_ms_per_" + unit] = Round(total, 3);
  for (auto& [key, value] : each.items()) result[key] = value;
}

}  // namespace keel::bench
