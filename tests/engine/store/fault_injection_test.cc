// A commit whose write or fsync fails must report the error and leave nothing behind:
// after reopening, none of the failed transition's rows exist, every earlier commit does,
// and the store keeps working. The faults come from the FaultInjection VFS, under the
// WAL's write batching (WalWriteBatch: a commit's frames are one write) or without it.
#include "engine/store/sqlite/fault_injection.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "engine/store/sqlite_store.h"
#include "tests/engine/store/start_run.h"
#include "tests/support/temp_dir.h"

namespace keel::store {
namespace {

enum class Fault { kWrite, kSync };

struct FaultCase {
  Fault fault;
  int64_t nth;  // which write or sync of the commit fails
  bool batched = false;  // SqliteStoreOptions::batch_wal_writes
};

class FaultInjectionTest : public ::testing::TestWithParam<FaultCase> {
 protected:
  void SetUp() override { FaultInjection::Disarm(); }
  void TearDown() override { FaultInjection::Disarm(); }

  std::unique_ptr<SqliteStore> OpenStore(const std::string& vfs, bool batched = true) {
    SqliteStoreOptions options;
    options.path = dir_.File("keel.db");
    options.vfs = vfs;
    options.batch_wal_writes = batched;
    auto store = SqliteStore::Open(options);
    EXPECT_TRUE(store.ok()) << store.status().ToString();
    return store.ok() ? std::move(store).value() : nullptr;
  }

  static void Arm(const FaultCase& c) {
    if (c.fault == Fault::kWrite) {
      FaultInjection::ArmWriteFailure(c.nth);
    } else {
      FaultInjection::ArmSyncFailure(c.nth);
    }
  }

  keel::testing::TempDir dir_;
};

void ExpectRun(SqliteStore& store, int64_t exec_id, bool present) {
  SCOPED_TRACE("exec_id " + std::to_string(exec_id));
  auto row = store.GetExecution(exec_id);
  ASSERT_TRUE(row.ok()) << row.status().ToString();
  EXPECT_EQ(row->has_value(), present);
  EXPECT_EQ(store.ReadHistory(exec_id, 1, 0)->size(), present ? 1u : 0u);
  bool task_found = false;
  Result<std::vector<TaskRow>> tasks = store.LoadTasks();
  ASSERT_TRUE(tasks.ok()) << tasks.status().ToString();
  for (const TaskRow& task : *tasks) task_found |= task.key.exec_id == exec_id;
  EXPECT_EQ(task_found, present);
  EXPECT_EQ(store.LoadTimers(5000 + exec_id - 1, 5000 + exec_id)->size(), present ? 1u : 0u);
}

TEST_P(FaultInjectionTest, FailedCommitWritesNothingAndReportsAnError) {
  const std::string vfs = FaultInjection::Register();
  {
    auto store = OpenStore(vfs, GetParam().batched);
    ASSERT_NE(store, nullptr);
    ASSERT_TRUE(store->Commit(StartRun(1)).ok());

    int64_t failures_before = FaultInjection::injected_failures();
    Arm(GetParam());
    Status status = store->Commit(StartRun(2));
    FaultInjection::Disarm();
    EXPECT_FALSE(status.ok());
    EXPECT_EQ(status.code(), StatusCode::kUnavailable) << status.ToString();
    EXPECT_NE(status.message().find("I/O error"), std::string::npos) << status.ToString();
    EXPECT_EQ(FaultInjection::injected_failures(), failures_before + 1)
        << "the armed fault did not fire during the commit";
    ExpectRun(*store, 2, /*present=*/false);

    // The store recovers: the next commit succeeds.
    ASSERT_TRUE(store->Commit(StartRun(3)).ok());
  }
  auto store = OpenStore("");  // the default VFS: nothing armed
  ASSERT_NE(store, nullptr);
  ExpectRun(*store, 1, /*present=*/true);
  ExpectRun(*store, 2, /*present=*/false);
  ExpectRun(*store, 3, /*present=*/true);
  EXPECT_EQ(*store->MaxExecId(), 3);
}

INSTANTIATE_TEST_SUITE_P(Faults, FaultInjectionTest,
                         ::testing::Values(FaultCase{Fault::kWrite, 1}, FaultCase{Fault::kWrite, 2},
                                           FaultCase{Fault::kWrite, 4}, FaultCase{Fault::kSync, 1},
                                           FaultCase{Fault::kWrite, 1, true}, FaultCase{Fault::kSync, 1, true}),
                         [](const ::testing::TestParamInfo<FaultCase>& info) {
                           return std::string(info.param.fault == Fault::kWrite ? "Write" : "Sync") +
                                  std::to_string(info.param.nth) + (info.param.batched ? "Batched" : "");
                         });

TEST(FaultInjectionVfsTest, CountsWritesAndSyncsOfCommits) {
  keel::testing::TempDir dir;
  const std::string vfs = FaultInjection::Register();
  SqliteStoreOptions options;
  options.path = dir.File("keel.db");
  options.vfs = vfs;
  options.batch_wal_writes = false;
  auto store = SqliteStore::Open(options);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  int64_t writes = FaultInjection::writes();
  int64_t syncs = FaultInjection::syncs();
  ASSERT_TRUE((*store)->Commit(StartRun(1)).ok());
  EXPECT_GT(FaultInjection::writes(), writes);
  EXPECT_GT(FaultInjection::syncs(), syncs);  // synchronous=FULL syncs every commit
}

}  // namespace
}  // namespace keel::store
