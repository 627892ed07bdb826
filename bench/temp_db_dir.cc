#include "bench/temp_db_dir.h"

#include <stdlib.h>

#include <filesystem>
#include <stdexcept>
#include <system_error>

#include "bench/exit_cleanup.h"

namespace keel::bench {

TempDbDir::TempDbDir(const std::string& parent_dir) {
  std::filesystem::path parent = parent_dir.empty() ? std::filesystem::temp_directory_path()
                                                    : std::filesystem::path(parent_dir);
  std::filesystem::create_directories(parent);
  std::string tmpl = (parent / "keel-bench-XXXXXX").string();
  if (!mkdtemp(tmpl.data())) {
    throw std::runtime_error("cannot create a temporary directory under " + parent.string());
  }
  dir_ = tmpl;
  db_path_ = dir_ + "/keel.db";
  ArmDirCleanup(dir_, db_path_);
}

TempDbDir::~TempDbDir() {
  DisarmDirCleanup();
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

}  // namespace keel::bench
