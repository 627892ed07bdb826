#include "bench/bench_env.h"

#include <unistd.h>

namespace keel::bench {

std::string WorkflowId(const BenchOptions& options, std::string_view prefix, int i) {
  std::string id(prefix);
  if (!options.server.empty()) id += "-" + std::to_string(getpid());
  return id + "-" + std::to_string(i);
}

std::unique_ptr<BenchEnv> OpenBenchEnv(const BenchOptions& options) {
  return options.mode == "server" ? OpenServerEnv(options) : OpenEmbeddedEnv(options);
}

}  // namespace keel::bench
