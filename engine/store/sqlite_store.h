// SqliteStore: the Store on one SQLite file in WAL mode. Commits are grouped: the first
// waiting caller writes every waiting transition in one SQLite transaction (group commit);
// reads use a pool of read-only connections. Thread-safe. An open store holds an
// exclusive lock on "<path>.lock", so one process at a time uses a database.
// See engine/store/README.md for the tables, their invariants and the durability settings.
#pragma once

#include <array>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "engine/status.h"
#include "engine/store/store.h"

namespace keel::store {

namespace sqlite {
class Db;
class LockFile;
class ReaderPool;
}  // namespace sqlite

// PRAGMA synchronous on the writer connection.
enum class Synchronous {
  kOff,     // no fsync: fastest; a crash of the OS or power may lose or corrupt data
  kNormal,  // WAL is synced at checkpoints only: power loss may lose recent commits
  kFull,    // WAL is synced on every commit: a committed transition survives power loss
};

struct SqliteStoreOptions {
  std::string path;  // the database file; its directory is created if missing
  Synchronous synchronous = Synchronous::kFull;
  // Commit every waiting transition (up to max_group) in one SQLite transaction, so one
  // fsync covers many. false: one SQLite transaction per transition.
  bool group_commit = true;
  int max_group = 256;       // most transitions per SQLite transaction
  // A CommitAsync that finds no one writing and nothing queued is written by its caller
  // (no thread hand-off); false sends every one to the writer thread (tests).
  bool caller_writes_lone_async_commit = true;
  int read_connections = 4;  // most reader connections, opened on first use
  std::string vfs;           // empty = SQLite's default (tests pass FaultInjection's)
  // With kFull, the writer writes each commit's WAL frames with one system call
  // (sqlite/wal_write_batch.h) instead of two per frame.
  bool batch_wal_writes = true;
};

class SqliteStore final : public Store {
 public:
  // Opens (creating if missing) and migrates the database; see README.md for the errors.
  static Result<std::unique_ptr<SqliteStore>> Open(SqliteStoreOptions options);

  // Commits everything already queued, stops the writer and releases the lock.
  ~SqliteStore() override;
  SqliteStore(const SqliteStore&) = delete;
  SqliteStore& operator=(const SqliteStore&) = delete;

  Status Commit(Transition t) override;
  void CommitAsync(Transition t, std::function<void(Status)> done) override;
  // Commits `transitions` as one group: one SQLite transaction (as far as max_group and
  // group_commit allow; callers waiting at the same time may join it), each transition
  // succeeding or failing alone. Returns their statuses in order.
  std::vector<Status> CommitTogether(std::vector<Transition> transitions);
  // Groups in which a transition failed, so that the group was written again with a
  // savepoint per transition (see sqlite_store_writer.cc).
  int64_t fallback_groups() const { return fallback_groups_.load(std::memory_order_relaxed); }

  Result<std::optional<ExecutionRow>> GetExecution(int64_t exec_id) override;
  Result<std::optional<ExecutionRow>> GetExecutionByRunId(const std::string& run_id) override;
  Result<std::optional<ExecutionRow>> GetCurrentExecution(const std::string& namespace_name,
                                                          const std::string& workflow_id) override;
  // InvalidArgument if filter.limit <= 0.
  Result<std::vector<ExecutionRow>> ListExecutions(const ListFilter& filter) override;
  Result<std::vector<HistoryBatchRow>> ReadHistory(int64_t exec_id, int64_t from_event_id,
                                                   int64_t to_event_id) override;
  Result<std::vector<TaskRow>> LoadTasks() override;
  Result<std::vector<TimerRow>> LoadTimers(int64_t after_us, int64_t until_us) override;
  Result<std::optional<int64_t>> NextTimerAfter(int64_t after_us) override;
  Result<int64_t> MaxExecId() override;
  Result<int64_t> MaxTaskSeq() override;
  Status RecordCleanClose(const CleanClose& close) override;
  Result<std::optional<CleanClose>> TakeCleanClose() override;

  const std::string& path() const { return options_.path; }
  // The schema version this build migrates databases to (the newest migration).
  static int LatestSchemaVersion();

 private:
  // One Commit call waiting for the writer; lives on the caller's stack. A CommitAsync
  // one lives on the heap, owns its transition and has `then`, which whoever writes it
  // calls (and deletes it) once the group is done.
  struct PendingCommit {
    explicit PendingCommit(Transition* t) : transition(t) {}
    Transition* transition;
    Status status;
    bool done = false;  // guarded by SqliteStore::mu_
    int slot = 0;       // its caller waits on wake_[slot]
    Transition owned;
    std::function<void(Status)> then;
  };
  // Callers wait on condition variables the store owns, not their own: the leader wakes
  // a group's callers after releasing mu_ (woken under it, each would block on mu_ at
  // once), and by then a caller that saw `done` may have returned and destroyed its
  // PendingCommit. Callers sharing a slot re-check `done` when woken.
  static constexpr int kWakeSlots = 64;

  SqliteStore(SqliteStoreOptions options, std::unique_ptr<sqlite::LockFile> lock,
              std::unique_ptr<sqlite::Db> writer);

  // sqlite_store_open.cc
  static Status Migrate(sqlite::Db& db);
  static Status ConfigureWriter(sqlite::Db& db, Synchronous synchronous);

  // sqlite_store_writer.cc
  enum class GroupOutcome { kDone, kOneFailed };
  void WaitForCommit(const std::vector<PendingCommit*>& mine);
  // Writes the queue's next group (the caller holds `lock` and has set writing_), marks
  // it done, wakes its waiting callers and runs its CommitAsync callbacks (with `hand_off`
  // it hands them to the answer thread). Returns with `lock` held and writing_ cleared.
  void WriteNextGroup(std::unique_lock<std::mutex>& lock, size_t max_group, bool hand_off = false);
  void AnswerLoop();
  // Wakes whoever should write the queue's front: its waiting caller, or the async writer.
  void WakeNextWriter();
  // The async writer thread: writes groups while CommitAsync transitions are queued and
  // no caller of Commit is writing.
  void AsyncWriterLoop();
  void CommitGroup(const std::vector<PendingCommit*>& group);
  GroupOutcome ApplyGroup(const std::vector<PendingCommit*>& group, bool use_savepoints);
  Status Apply(const Transition& t);

  const SqliteStoreOptions options_;
  std::unique_ptr<sqlite::LockFile> lock_;
  std::unique_ptr<sqlite::Db> writer_db_;  // used only by the current leader (writing_)
  std::unique_ptr<sqlite::ReaderPool> readers_;

  std::mutex mu_;
  std::condition_variable idle_;      // notified when no one writes, nothing is queued and no callback runs
  std::deque<PendingCommit*> queue_;  // guarded by mu_
  std::array<std::condition_variable, kWakeSlots> wake_;
  int next_slot_ = 0;                 // guarded by mu_
  bool writing_ = false;              // guarded by mu_: a leader is committing a group
  bool stopping_ = false;             // guarded by mu_
  int running_callbacks_ = 0;           // guarded by mu_: groups whose callbacks are running
  std::condition_variable async_wake_;  // the async writer waits here
  bool exit_writer_ = false;            // guarded by mu_
  bool writer_idle_ = false;            // guarded by mu_: the writer thread waits on async_wake_
  std::thread async_writer_;            // started by the first CommitAsync
  // Groups' callbacks waiting for the answer thread (guarded by mu_; each counts in
  // running_callbacks_ until it has run).
  std::deque<std::vector<std::unique_ptr<PendingCommit>>> answers_;
  std::condition_variable answer_wake_;
  std::thread answer_thread_;  // started with async_writer_
  std::atomic<int64_t> fallback_groups_{0};
};

}  // namespace keel::store
