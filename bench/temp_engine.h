// TempEngine: an embedded engine (real SystemClock) over a fresh database in a TempDbDir,
// removed when the TempEngine is destroyed. Not copyable; engine() is thread-safe.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "bench/options.h"
#include "bench/temp_db_dir.h"
#include "engine/engine.h"

namespace keel::bench {

class TempEngine {
 public:
  // Opens the engine with options.durability, options.group_commit and the timer threads
  // of tuning.h over a new directory under options.dir; `tweak` may adjust the rest.
  // Throws std::runtime_error when either fails.
  explicit TempEngine(const BenchOptions& options,
                      const std::function<void(EngineOptions&)>& tweak = nullptr);
  ~TempEngine();  // closes the engine, then removes the directory
  TempEngine(const TempEngine&) = delete;
  TempEngine& operator=(const TempEngine&) = delete;

  Engine& engine() { return *engine_; }
  const std::string& db_path() const { return dir_.db_path(); }

 private:
  TempDbDir dir_;
  std::unique_ptr<Engine> engine_;
};

}  // namespace keel::bench
