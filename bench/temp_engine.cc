#include "bench/temp_engine.h"

#include <stdexcept>

#include "bench/tuning.h"

namespace keel::bench {

TempEngine::TempEngine(const BenchOptions& options,
                       const std::function<void(EngineOptions&)>& tweak)
    : dir_(options.dir) {
  EngineOptions engine_options;
  engine_options.db_path = dir_.db_path();
  engine_options.durability = options.durability;
  engine_options.group_commit = options.group_commit;
  engine_options.timer_threads = BenchTimerThreads(options);
  if (tweak) tweak(engine_options);
  auto engine = Engine::Open(engine_options);
  if (!engine.ok())
    throw std::runtime_error("cannot open the engine: " + engine.status().ToString());
  engine_ = std::move(*engine);
}

TempEngine::~TempEngine() { engine_.reset(); }

}  // namespace keel::bench
