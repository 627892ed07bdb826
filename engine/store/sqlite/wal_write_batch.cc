#include "engine/store/sqlite/wal_write_batch.h"

#include <sqlite3.h>

#include <atomic>
#include <memory>
#include <string>

#include "engine/store/sqlite/vfs_shim.h"

namespace keel::store {
namespace {

// The most bytes gathered for one write: SQLite's unix VFS takes at most 128 KiB - 1 per
// write (it masks the length with 0x1ffff). A run beyond it is written in pieces.
constexpr size_t kMaxGathered = 0x1ffff;

std::atomic<int64_t> gathered{0};
std::atomic<int64_t> made{0};

class WalBatch final : public FileShim {
 public:
  int Write(sqlite3_file* real, const void* buf, int amount, sqlite3_int64 offset) override {
    gathered.fetch_add(1, std::memory_order_relaxed);
    const auto n = static_cast<size_t>(amount);
    if (!pending_.empty() && offset == start_ + static_cast<sqlite3_int64>(pending_.size()) &&
        pending_.size() + n <= kMaxGathered) {
      pending_.append(static_cast<const char*>(buf), n);
      return SQLITE_OK;
    }
    if (int rc = Flush(real); rc != SQLITE_OK) return rc;
    if (n > kMaxGathered) {
      made.fetch_add(1, std::memory_order_relaxed);
      return FileShim::Write(real, buf, amount, offset);
    }
    start_ = offset;
    pending_.assign(static_cast<const char*>(buf), n);
    return SQLITE_OK;
  }
  int Read(sqlite3_file* real, void* buf, int amount, sqlite3_int64 offset) override {
    if (int rc = Flush(real); rc != SQLITE_OK) return rc;
    return FileShim::Read(real, buf, amount, offset);
  }
  int Truncate(sqlite3_file* real, sqlite3_int64 size) override {
    if (int rc = Flush(real); rc != SQLITE_OK) return rc;
    return FileShim::Truncate(real, size);
  }
  int Sync(sqlite3_file* real, int flags) override {
    if (int rc = Flush(real); rc != SQLITE_OK) return rc;
    return FileShim::Sync(real, flags);
  }
  int FileSize(sqlite3_file* real, sqlite3_int64* size) override {
    if (int rc = Flush(real); rc != SQLITE_OK) return rc;
    return FileShim::FileSize(real, size);
  }
  int FileControl(sqlite3_file* real, int op, void* arg) override {
    if (int rc = Flush(real); rc != SQLITE_OK) return rc;
    return FileShim::FileControl(real, op, arg);
  }
  int BeforeClose(sqlite3_file* real) override { return Flush(real); }

 private:
  // A failed write is reported by the call that flushes (a sync, for a commit), which
  // then fails: SQLite treats the commit as failed and publishes none of its frames.
  int Flush(sqlite3_file* real) {
    if (pending_.empty()) return SQLITE_OK;
    made.fetch_add(1, std::memory_order_relaxed);
    int rc = FileShim::Write(real, pending_.data(), static_cast<int>(pending_.size()), start_);
    pending_.clear();
    return rc;
  }

  std::string pending_;  // bytes for the file from start_ on
  sqlite3_int64 start_ = 0;
};

}  // namespace

std::string WalWriteBatch::Register(const std::string& base) {
  return RegisterVfsShim(base.empty() ? "keel-wal-batch" : "keel-wal-batch+" + base, base,
                         [](sqlite3_filename name, int flags) -> std::unique_ptr<FileShim> {
                           // Without powersafe overwrite (the URI parameter psow=0) SQLite
                           // pads a commit to a sector boundary and writes the padding's
                           // tail after the commit's sync, then publishes it: such a WAL is
                           // written as it comes.
                           const bool psow = name != nullptr && sqlite3_uri_boolean(name, "psow", 1);
                           if ((flags & SQLITE_OPEN_WAL) && psow) return std::make_unique<WalBatch>();
                           return std::make_unique<FileShim>();
                         });
}

int64_t WalWriteBatch::writes_gathered() { return gathered.load(); }
int64_t WalWriteBatch::writes_made() { return made.load(); }

}  // namespace keel::store
