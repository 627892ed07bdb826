// WalWriteBatch: a commit's WAL frames reach the file in one write, before the commit's
// sync, so every commit is visible to the store's readers (other connections, on the
// default VFS) as soon as it returns; a transaction larger than one write's limit is
// written in pieces; the database stays intact across reopening without the batching; a
// WAL without powersafe overwrite is not batched.
#include "engine/store/sqlite/wal_write_batch.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "engine/store/sqlite/db.h"
#include "engine/store/sqlite_store.h"
#include "tests/engine/store/start_run.h"
#include "tests/support/temp_dir.h"

namespace keel::store {
namespace {

char Fill(int64_t exec_id) { return static_cast<char>('a' + exec_id % 26); }

std::unique_ptr<SqliteStore> Open(const std::string& path, bool batched) {
  SqliteStoreOptions options;
  options.path = path;
  options.batch_wal_writes = batched;
  auto store = SqliteStore::Open(options);
  EXPECT_TRUE(store.ok()) << store.status().ToString();
  return store.ok() ? std::move(store).value() : nullptr;
}

TEST(WalWriteBatchTest, EachCommitIsOneWriteAndVisibleToReadersAtOnce) {
  keel::testing::TempDir dir;
  auto store = Open(dir.File("keel.db"), /*batched=*/true);
  ASSERT_NE(store, nullptr);
  for (int64_t id = 1; id <= 20; ++id) {
    const int64_t gathered = WalWriteBatch::writes_gathered();
    const int64_t made = WalWriteBatch::writes_made();
    ASSERT_TRUE(store->Commit(StartRun(id, 2000, Fill(id))).ok());
    // Several frames, each a header and a page, went out as one write.
    EXPECT_GE(WalWriteBatch::writes_gathered() - gathered, 4) << id;
    EXPECT_EQ(WalWriteBatch::writes_made() - made, 1) << id;
    auto row = store->GetExecution(id);  // a reader connection, without the batching
    ASSERT_TRUE(row.ok()) << row.status().ToString();
    ASSERT_TRUE(row->has_value()) << "commit " << id << " not visible to readers";
    EXPECT_EQ((*row)->state, std::string(2000, Fill(id)));
  }
}

TEST(WalWriteBatchTest, ALargeTransactionIsWrittenInPiecesAndStaysIntact) {
  keel::testing::TempDir dir;
  const std::string path = dir.File("keel.db");
  {
    auto store = Open(path, /*batched=*/true);
    ASSERT_NE(store, nullptr);
    const int64_t made = WalWriteBatch::writes_made();
    ASSERT_TRUE(store->Commit(StartRun(1, 600 * 1024, Fill(1))).ok());  // ~150 frames, over 128 KiB
    EXPECT_GE(WalWriteBatch::writes_made() - made, 5);
    ASSERT_TRUE(store->Commit(StartRun(2, 100, Fill(2))).ok());
    auto row = store->GetExecution(1);
    ASSERT_TRUE(row.ok() && row->has_value());
    EXPECT_EQ((*row)->state.size(), 600u * 1024);
  }
  {
    auto store = Open(path, /*batched=*/false);
    ASSERT_NE(store, nullptr);
    for (int64_t id : {1, 2}) {
      auto row = store->GetExecution(id);
      ASSERT_TRUE(row.ok() && row->has_value()) << id;
      EXPECT_EQ((*row)->state, std::string(id == 1 ? 600 * 1024 : 100, Fill(id)));
    }
  }
  auto db = sqlite::Db::Open(path, sqlite::Db::Mode::kReadOnly);
  ASSERT_TRUE(db.ok()) << db.status().ToString();
  auto check = (*db)->QueryText("PRAGMA integrity_check");
  ASSERT_TRUE(check.ok()) << check.status().ToString();
  EXPECT_EQ(*check, "ok");
}

// Without powersafe overwrite SQLite writes a commit's last bytes after its sync (the
// padding to a sector boundary), so nothing may wait to be written: the WAL is not
// batched at all.
TEST(WalWriteBatchTest, AWalWithoutPowersafeOverwriteIsWrittenAsItComes) {
  keel::testing::TempDir dir;
  for (bool psow : {true, false}) {
    SCOPED_TRACE(psow ? "psow=1" : "psow=0");
    const std::string uri = "file:" + dir.File(psow ? "a.db" : "b.db") + (psow ? "?psow=1" : "?psow=0");
    auto db = sqlite::Db::Open(uri, sqlite::Db::Mode::kReadWriteCreate, WalWriteBatch::Register());
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    ASSERT_TRUE((*db)->QueryText("PRAGMA journal_mode = WAL").ok());
    ASSERT_TRUE((*db)->Exec("PRAGMA synchronous = FULL; CREATE TABLE t (v BLOB)").ok());
    const int64_t gathered = WalWriteBatch::writes_gathered();
    const int64_t made = WalWriteBatch::writes_made();
    ASSERT_TRUE((*db)->Exec("INSERT INTO t VALUES (zeroblob(20000))").ok());
    if (psow) {
      EXPECT_GE(WalWriteBatch::writes_gathered() - gathered, 4);
      EXPECT_EQ(WalWriteBatch::writes_made() - made, 1);
    } else {  // the WAL's writes went straight to the file
      EXPECT_EQ(WalWriteBatch::writes_gathered() - gathered, 0);
      EXPECT_EQ(WalWriteBatch::writes_made() - made, 0);
    }
    EXPECT_EQ(*(*db)->QueryInt64("SELECT length(v) FROM t"), 20000);
  }
}

}  // namespace
}  // namespace keel::store
