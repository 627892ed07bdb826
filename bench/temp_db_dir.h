// TempDbDir: a fresh directory for one run's database (keel.db), removed with everything
// in it when the TempDbDir is destroyed, and on SIGINT/SIGTERM (exit_cleanup.h). One per
// benchmark run, so no run sees another's data. Not copyable.
#pragma once

#include <string>

namespace keel::bench {

class TempDbDir {
 public:
  // Creates "keel-bench-XXXXXX" under `parent` (empty: the system temp directory).
  // Throws std::runtime_error when it cannot.
  explicit TempDbDir(const std::string& parent);
  ~TempDbDir();
  TempDbDir(const TempDbDir&) = delete;
  TempDbDir& operator=(const TempDbDir&) = delete;

  const std::string& dir() const { return dir_; }
  const std::string& db_path() const { return db_path_; }

 private:
  std::string dir_;
  std::string db_path_;
};

}  // namespace keel::bench
