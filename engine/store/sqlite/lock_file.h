// LockFile: an exclusive advisory lock (flock) on "<db path>.lock", held by one open
// SqliteStore for its lifetime so two Keel processes never write the same database.
// Owned by the store; released (not deleted) on destruction. Not thread-safe (no need).
#pragma once

#include <memory>
#include <string>

#include "engine/status.h"

namespace keel::store::sqlite {

class LockFile {
 public:
  // Fails with FailedPrecondition when another process (or another open store in this
  // one) holds the lock, or when the lock file can be neither created nor opened.
  static Result<std::unique_ptr<LockFile>> Acquire(const std::string& db_path);
  ~LockFile();
  LockFile(const LockFile&) = delete;
  LockFile& operator=(const LockFile&) = delete;

  const std::string& path() const { return path_; }

 private:
  LockFile(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}

  int fd_;
  std::string path_;
};

}  // namespace keel::store::sqlite
