// ReaderPool: read-only connections to one database, opened lazily up to a maximum and
// reused (mutex + free list). WAL mode lets them read while the writer writes. Owned by
// SqliteStore; Acquire is thread-safe and blocks while every connection is in use.
#pragma once

#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "engine/status.h"
#include "engine/store/sqlite/db.h"

namespace keel::store::sqlite {

class ReaderPool {
 public:
  // Returns its connection to the pool when destroyed.
  class Lease {
   public:
    Lease(ReaderPool* pool, std::unique_ptr<Db> db) : pool_(pool), db_(std::move(db)) {}
    Lease(Lease&&) = default;
    Lease& operator=(Lease&&) = delete;
    ~Lease();

    Db& db() { return *db_; }

   private:
    ReaderPool* pool_;
    std::unique_ptr<Db> db_;
  };

  ReaderPool(std::string path, std::string vfs, int max_connections);
  // Every Lease must have been returned.
  ~ReaderPool() = default;

  Result<Lease> Acquire();

 private:
  void Release(std::unique_ptr<Db> db);
  Result<std::unique_ptr<Db>> OpenConnection();

  const std::string path_;
  const std::string vfs_;
  const int max_connections_;

  std::mutex mu_;
  std::condition_variable available_;
  std::vector<std::unique_ptr<Db>> free_;  // guarded by mu_
  int open_ = 0;                           // connections that exist, free or leased; mu_
};

}  // namespace keel::store::sqlite
