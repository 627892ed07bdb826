// TempEngine: an embedded engine (real SystemClock) over a fresh database in a new
// temporary directory, which is removed when the TempEngine is destroyed. One per
// benchmark run, so no run sees another's data. Not copyable; engine() is thread-safe.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "bench/options.h"
#include "engine/engine.h"

namespace keel::bench {

class TempEngine {
 public:
  // Creates the directory under options.dir (or the system temp directory) and opens the
  // engine with options.durability, options.group_commit and the timer threads of
  // tuning.h; `tweak` may adjust the rest.
  // Throws std::runtime_error when either fails.
  explicit TempEngine(const BenchOptions& options,
                      const std::function<void(EngineOptions&)>& tweak = nullptr);
  ~TempEngine();  // closes the engine, then removes the directory
  TempEngine(const TempEngine&) = delete;
  TempEngine& operator=(const TempEngine&) = delete;

  Engine& engine() { return *engine_; }
  const std::string& db_path() const { return db_path_; }

 private:
  std::string dir_;
  std::string db_path_;
  std::unique_ptr<Engine> engine_;
};

}  // namespace keel::bench
