// TempDir: a fresh directory per test (removed with its contents when destroyed), so
// every test gets its own SQLite file.
#pragma once

#include <string>

namespace keel::testing {

class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  // path() + "/" + name
  std::string File(const std::string& name) const;

 private:
  std::string path_;
};

}  // namespace keel::testing
