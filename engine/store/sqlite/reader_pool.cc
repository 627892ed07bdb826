#include "engine/store/sqlite/reader_pool.h"

#include <utility>

namespace keel::store::sqlite {

ReaderPool::Lease::~Lease() {
  if (db_ != nullptr) pool_->Release(std::move(db_));
}

ReaderPool::ReaderPool(std::string path, std::string vfs, int max_connections)
    : path_(std::move(path)), vfs_(std::move(vfs)), max_connections_(max_connections) {}

Result<ReaderPool::Lease> ReaderPool::Acquire() {
  {
    std::unique_lock lock(mu_);
    available_.wait(lock, [&] { return !free_.empty() || open_ < max_connections_; });
    if (!free_.empty()) {
      std::unique_ptr<Db> db = std::move(free_.back());
      free_.pop_back();
      return Lease(this, std::move(db));
    }
    ++open_;  // reserve the slot, then open outside the lock
  }
  Result<std::unique_ptr<Db>> db = OpenConnection();
  if (!db.ok()) {
    std::lock_guard lock(mu_);
    --open_;
    available_.notify_one();
    return db.status();
  }
  return Lease(this, std::move(db).value());
}

void ReaderPool::Release(std::unique_ptr<Db> db) {
  std::lock_guard lock(mu_);
  free_.push_back(std::move(db));
  available_.notify_one();
}

Result<std::unique_ptr<Db>> ReaderPool::OpenConnection() {
  KEEL_ASSIGN_OR_RETURN(std::unique_ptr<Db> db, Db::Open(path_, Db::Mode::kReadOnly, vfs_));
  // temp_store: sorts for ORDER BY without an index stay in memory. 8 MiB page cache.
  KEEL_RETURN_IF_ERROR(db->Exec("PRAGMA temp_store = MEMORY; PRAGMA cache_size = -8192;"));
  return db;
}

}  // namespace keel::store::sqlite
