// CpuMeter: the CPU time (user + system) the processes of a BenchEnv spend on a timed
// section, per unit of work. Unlike throughput it hardly depends on how many cores the
// host lends the machine at the moment, so it compares builds on a noisy host; and in
// server mode it shows which process the time goes to.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "bench/bench_env.h"

namespace keel::bench {

class CpuMeter {
 public:
  // Takes the first reading: construct it right before the timed section.
  explicit CpuMeter(const BenchEnv& env);
  // Takes the second reading: call it right after the timed section, before the worker
  // stops (its process is gone afterwards).
  void Stop();
  // Adds cpu_ms_per_<unit> (every process) and, with several processes,
  // <name>_cpu_ms_per_<unit> for each. A process whose time cannot be read (an external
  // keeld) is left out, and so is the total then.
  void AddTo(nlohmann::ordered_json& result, double count, const std::string& unit) const;

 private:
  std::vector<BenchEnv::Process> processes_;
  std::vector<double> start_;
  std::vector<double> end_;
};

}  // namespace keel::bench
