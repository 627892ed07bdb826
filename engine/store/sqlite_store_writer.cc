// SqliteStore's group commit, leader/follower style (as RocksDB's write groups).
//
// A caller of Commit queues a PendingCommit. If no one is writing, it becomes the leader:
// it takes everything queued (up to max_group), applies the group in one transaction,
// COMMITs once, marks the group done and wakes its members; then it wakes the next queued
// caller to lead the next group. Callers that arrive while a leader writes wait and are
// committed together by the next leader. One fsync thus covers the whole group, and a
// lone commit needs no thread hand-off at all.
//
// CommitAsync queues the same way but does not wait: its callback runs once its group is
// written. A writer thread, started on first need, writes whenever such a transition
// waits and no caller of Commit is writing, so that a server's handlers never sleep
// through a commit; it hands the callbacks of each group to an answer thread and goes on
// writing, so that answering one group overlaps writing the next. A caller of Commit that
// writes a group runs its callbacks itself, as does a lone CommitAsync written by its
// caller.
//
// A group is first applied optimistically, with no savepoints: transitions almost never
// fail, and a savepoint per transition makes SQLite copy every page the group touches
// again into a sub-journal (~25% of W1's throughput). If one does fail, the whole
// transaction is rolled back and the group applied again with a SAVEPOINT around each
// transition, so that only the failing one is rolled back and reported to its caller.

#include <pthread.h>

#include <bitset>
#include <deque>
#include <utility>
#include <vector>

#include "engine/store/sqlite/db.h"
#include "engine/store/sqlite_store.h"

namespace keel::store {
namespace {

using sqlite::Db;
using sqlite::ResetGuard;
using sqlite::Statement;

// An explicit UPSERT, not INSERT OR REPLACE: REPLACE resolves *every* uniqueness conflict
// by deleting the conflicting row, so a second running run of a workflow id would silently
// delete the first one (executions_running). Here only an exec_id conflict updates; any
// other conflict fails the statement.
constexpr char kUpsertExecution[] =
    "INSERT INTO executions (exec_id, run_id, namespace, workflow_id, workflow_type,"
    " task_queue, status, start_time, close_time, start_request_id, history_length, state)"
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)"
    " ON CONFLICT(exec_id) DO UPDATE SET run_id = excluded.run_id,"
    " namespace = excluded.namespace, workflow_id = excluded.workflow_id,"
    " workflow_type = excluded.workflow_type, task_queue = excluded.task_queue,"
    " status = excluded.status, start_time = excluded.start_time,"
    " close_time = excluded.close_time, start_request_id = excluded.start_request_id,"
    " history_length = excluded.history_length, state = excluded.state";
constexpr char kUpdateExecution[] =
    "UPDATE executions SET status = ?2, close_time = ?3, history_length = ?4, state = ?5"
    " WHERE exec_id = ?1";
// The usual step of a running run: status and close time are as stored, and naming
// only these columns keeps SQLite from rewriting the status indexes' entries.
constexpr char kUpdateExecutionState[] =
    "UPDATE executions SET history_length = ?4, state = ?5 WHERE exec_id = ?1";
constexpr char kInsertHistory[] =
    "INSERT INTO history (exec_id, first_event_id, last_event_id, events)"
    " VALUES (?1, ?2, ?3, ?4)";
constexpr char kDeleteTask[] = "DELETE FROM tasks WHERE exec_id = ?1 AND kind = ?2 AND ref = ?3";
// tasks and timers have no uniqueness besides their primary key, so REPLACE is exact.
constexpr char kInsertTask[] =
    "INSERT OR REPLACE INTO tasks (exec_id, kind, ref, namespace, task_queue, seq)"
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6)";
constexpr char kDeleteTimer[] = "DELETE FROM timers WHERE exec_id = ?1 AND kind = ?2 AND ref = ?3";
constexpr char kSetSearchAttribute[] =
    "INSERT OR REPLACE INTO search_attributes (exec_id, name, value) VALUES (?1, ?2, ?3)";
constexpr char kDeleteCleanClose[] = "DELETE FROM clean_close";
constexpr char kDeleteCleanCloseRunning[] = "DELETE FROM clean_close_running";
constexpr char kInsertCleanClose[] = "INSERT INTO clean_close (id, close_time) VALUES (1, ?1)";
constexpr char kInsertCleanCloseRunning[] =
    "INSERT OR IGNORE INTO clean_close_running (exec_id, ref) VALUES (?1, ?2)";
constexpr char kInsertTimer[] =
    "INSERT OR REPLACE INTO timers (exec_id, kind, ref, fire_time) VALUES (?1, ?2, ?3, ?4)";

// How many groups a leader whose own transitions are done may still write for others.
// Each hand-over leaves the writer idle until the next leader's thread gets a CPU (on a
// saturated 2-core machine often a millisecond or more): in W1, 8 extra groups gave 7%
// more throughput than 4, 16 another 7%, 64 another 5%. The bound is what the leader's own
// caller may wait beyond its commit: 16 groups, a few tens of milliseconds at full load.
constexpr int kMaxExtraGroups = 16;

// Runs a cached parameterless statement (BEGIN, COMMIT, SAVEPOINT ...).
Status RunCached(Db& db, const char* sql) {
  KEEL_ASSIGN_OR_RETURN(Statement * s, db.Prepare(sql));
  ResetGuard reset(s);
  return s->Run();
}

// Rewords a failed execution upsert. SQLite names the violated columns in its message.
Status ExecutionError(const Status& status, const ExecutionRow& row) {
  if (status.code() != StatusCode::kAlreadyExists) return status;
  if (status.message().find("executions.run_id") != std::string::npos) {
    return AlreadyExists("run id " + row.run_id + " already exists (exec_id " +
                         std::to_string(row.exec_id) + ")");
  }
  return AlreadyExists("workflow id '" + row.workflow_id + "' in namespace '" + row.namespace_name +
                       "' already has a running execution");
}

}  // namespace

Status SqliteStore::Commit(Transition t) {
  PendingCommit pending(&t);
  WaitForCommit({&pending});
  return std::move(pending.status);
}

void SqliteStore::CommitAsync(Transition t, std::function<void(Status)> done) {
  auto pending = std::make_unique<PendingCommit>(nullptr);
  pending->owned = std::move(t);
  pending->transition = &pending->owned;
  pending->then = std::move(done);
  std::unique_lock lock(mu_);
  if (stopping_) {
    lock.unlock();
    pending->then(Unavailable("store " + options_.path + " is closing"));
    return;
  }
  if (!writing_ && queue_.empty() && options_.caller_writes_lone_async_commit) {
    // No one writes and nothing waits: write it here, as Commit's lone leader would. A
    // hand-off to the writer thread would add a thread wake-up to every call of a
    // lightly loaded server; under load the writer is busy and this rarely happens.
    queue_.push_back(pending.release());
    writing_ = true;
    WriteNextGroup(lock, 1);
    return;
  }
  if (!async_writer_.joinable()) {
    async_writer_ = std::thread([this] {
      pthread_setname_np(pthread_self(), "keel-writer");
      AsyncWriterLoop();
    });
    answer_thread_ = std::thread([this] {
      pthread_setname_np(pthread_self(), "keel-answer");
      AnswerLoop();
    });
  }
  queue_.push_back(pending.release());
  if (!writing_) WakeNextWriter();
}

std::vector<Status> SqliteStore::CommitTogether(std::vector<Transition> transitions) {
  std::deque<PendingCommit> pendings;  // a deque: `mine` points into it as it grows
  std::vector<PendingCommit*> mine;
  for (Transition& t : transitions) mine.push_back(&pendings.emplace_back(&t));
  WaitForCommit(mine);
  std::vector<Status> statuses;
  for (PendingCommit& pending : pendings) statuses.push_back(std::move(pending.status));
  return statuses;
}

// Queues `mine` (contiguously, so that they can share a group) and returns when all are
// done, leading groups whenever no one else writes.
void SqliteStore::WaitForCommit(const std::vector<PendingCommit*>& mine) {
  const size_t max_group = options_.group_commit ? static_cast<size_t>(options_.max_group) : 1;
  std::unique_lock lock(mu_);
  if (stopping_) {
    for (PendingCommit* pending : mine)
      pending->status = Unavailable("store " + options_.path + " is closing");
    return;
  }
  for (PendingCommit* pending : mine) {
    pending->slot = next_slot_;
    next_slot_ = (next_slot_ + 1) % kWakeSlots;
  }
  queue_.insert(queue_.end(), mine.begin(), mine.end());
  size_t first_open = 0;  // mine[first_open] is the first of mine not yet done
  int extra_groups = 0;   // groups led after our own were done
  while (true) {
    while (first_open < mine.size() && mine[first_open]->done) ++first_open;
    if (first_open == mine.size()) {
      // Done. A leader that finds others waiting writes their group too (a few times at
      // most, to bound its caller's wait): handing over would leave the writer idle until
      // the next leader's thread is woken and scheduled.
      if (writing_ || queue_.empty() || extra_groups == kMaxExtraGroups) {
        if (!writing_ && !queue_.empty()) WakeNextWriter();
        return;
      }
      ++extra_groups;
    } else if (writing_) {
      // Groups are taken in queue order, so the first of mine not done is either in the
      // group being written (woken when it is done) or the queue's front (woken to lead).
      wake_[mine[first_open]->slot].wait(lock);
      continue;
    }
    writing_ = true;
    WriteNextGroup(lock, max_group);
  }
}

void SqliteStore::WriteNextGroup(std::unique_lock<std::mutex>& lock, size_t max_group, bool hand_off) {
  std::vector<PendingCommit*> group;
  while (!queue_.empty() && group.size() < max_group) {
    group.push_back(queue_.front());
    queue_.pop_front();
  }
  lock.unlock();
  CommitGroup(group);
  lock.lock();
  // Members may return (and destroy their PendingCommit) as soon as they see `done`:
  // note their slots first, and wake them once mu_ is free for them to take.
  std::bitset<kWakeSlots> slots;
  std::vector<std::unique_ptr<PendingCommit>> callbacks;
  for (PendingCommit* member : group) {
    member->done = true;
    if (member->then) {
      callbacks.emplace_back(member);
    } else {
      slots.set(member->slot);
    }
  }
  if (hand_off && !callbacks.empty()) {
    // The writer thread: the answer thread runs them, and this one writes on.
    ++running_callbacks_;
    answers_.push_back(std::move(callbacks));
    callbacks.clear();
    answer_wake_.notify_one();
  }
  const bool has_callbacks = !callbacks.empty();
  if (has_callbacks) {
    // The callbacks may take long (a server answers its calls from them) and may commit
    // themselves: stop being the writer first, and let the next one start.
    writing_ = false;
    ++running_callbacks_;
    if (!queue_.empty()) WakeNextWriter();
  }
  // Still the writer while it wakes them (without callbacks), so that it goes on to the
  // next group itself.
  lock.unlock();
  for (int i = 0; i < kWakeSlots; ++i) {
    if (slots.test(i)) wake_[i].notify_all();
  }
  for (auto& pending : callbacks) pending->then(std::move(pending->status));
  callbacks.clear();
  lock.lock();
  if (has_callbacks) {
    --running_callbacks_;
  } else {
    writing_ = false;
  }
  if (queue_.empty() && !writing_ && running_callbacks_ == 0) idle_.notify_all();
}

void SqliteStore::WakeNextWriter() {
  if (!queue_.front()->then) {
    wake_[queue_.front()->slot].notify_all();
  } else if (writer_idle_) {
    async_wake_.notify_one();
  } else {
    // The writer thread is not waiting (it runs no callbacks, so this is only a
    // safeguard): a waiting caller of Commit writes instead (any may lead a group).
    for (PendingCommit* pending : queue_) {
      if (!pending->then) {
        wake_[pending->slot].notify_all();
        break;
      }
    }
  }
}

// Runs the callbacks of the writer thread's groups, group by group, in order.
void SqliteStore::AnswerLoop() {
  std::unique_lock lock(mu_);
  while (true) {
    answer_wake_.wait(lock, [&] { return exit_writer_ || !answers_.empty(); });
    if (answers_.empty()) return;
    auto batch = std::move(answers_.front());
    answers_.pop_front();
    lock.unlock();
    for (auto& pending : batch) pending->then(std::move(pending->status));
    batch.clear();
    lock.lock();
    --running_callbacks_;
    if (queue_.empty() && !writing_ && running_callbacks_ == 0) idle_.notify_all();
  }
}

void SqliteStore::AsyncWriterLoop() {
  const size_t max_group = options_.group_commit ? static_cast<size_t>(options_.max_group) : 1;
  std::unique_lock lock(mu_);
  while (true) {
    writer_idle_ = true;
    async_wake_.wait(lock, [&] { return exit_writer_ || (!writing_ && !queue_.empty()); });
    writer_idle_ = false;
    if (exit_writer_) return;  // set only once the store is stopping and idle
    writing_ = true;
    WriteNextGroup(lock, max_group, /*hand_off=*/true);
  }
}

void SqliteStore::CommitGroup(const std::vector<PendingCommit*>& group) {
  if (ApplyGroup(group, /*use_savepoints=*/false) == GroupOutcome::kDone) return;
  fallback_groups_.fetch_add(1, std::memory_order_relaxed);
  for (PendingCommit* pending : group) pending->status = Status::Ok();
  (void)ApplyGroup(group, /*use_savepoints=*/true);
}

// One attempt at writing `group` in one transaction. Without savepoints, the first
// transition that fails rolls everything back and returns kOneFailed (the caller retries
// with savepoints); with them, a failing transition is rolled back alone. A lone
// transition needs no savepoint: its failure is the transaction's.
SqliteStore::GroupOutcome SqliteStore::ApplyGroup(const std::vector<PendingCommit*>& group,
                                                  bool use_savepoints) {
  Db& db = *writer_db_;
  // Gives `status` to every transition that has not failed on its own.
  auto fail_all = [&](const Status& status) {
    for (PendingCommit* pending : group) {
      if (pending->status.ok()) pending->status = status;
    }
    return GroupOutcome::kDone;
  };
  auto rollback = [&] {
    if (db.InTransaction()) (void)RunCached(db, "ROLLBACK");
  };

  Status begin = RunCached(db, "BEGIN IMMEDIATE");
  if (!begin.ok()) {
    rollback();
    return fail_all(begin);
  }
  bool any_ok = false;
  for (PendingCommit* pending : group) {
    if (use_savepoints) {
      Status savepoint = RunCached(db, "SAVEPOINT keel_transition");
      if (!savepoint.ok()) {
        rollback();
        return fail_all(savepoint);
      }
    }
    pending->status = Apply(*pending->transition);
    if (!db.InTransaction()) {
      // SQLite rolls the whole transaction back by itself on some errors (I/O, disk
      // full): the transitions applied before this one are gone too.
      return fail_all(pending->status.WithContext("the group's transaction was rolled back"));
    }
    if (!pending->status.ok() && !use_savepoints && group.size() > 1) {
      rollback();
      return GroupOutcome::kOneFailed;
    }
    if (use_savepoints) {
      Status undo =
          pending->status.ok() ? Status::Ok() : RunCached(db, "ROLLBACK TO keel_transition");
      Status release = undo.ok() ? RunCached(db, "RELEASE keel_transition") : undo;
      if (!release.ok()) {
        rollback();
        return fail_all(release);
      }
    }
    any_ok = any_ok || pending->status.ok();
  }
  if (!any_ok) {
    rollback();
    return GroupOutcome::kDone;
  }
  Status commit = RunCached(db, "COMMIT");
  if (!commit.ok()) {
    // Nothing of the group is visible: SQLite has rolled back, or we do it now.
    rollback();
    fail_all(commit);
  }
  return GroupOutcome::kDone;
}

// Applies one transition in store.h's documented order, stopping at the first error.
Status SqliteStore::Apply(const Transition& t) {
  Db& db = *writer_db_;
  for (const ExecutionRow& row : t.executions) {
    if (!row.update_only) continue;
    KEEL_ASSIGN_OR_RETURN(
        Statement * s, db.Prepare(row.status_changed ? kUpdateExecution : kUpdateExecutionState));
    ResetGuard reset(s);
    s->BindInt64(1, row.exec_id).BindInt64(4, row.history_length).BindBlob(5, row.state);
    if (row.status_changed) s->BindInt64(2, row.status).BindInt64(3, row.close_time_us);
    Status status = s->Run();
    if (!status.ok()) return ExecutionError(status, row);
    if (db.Changes() != 1) {
      return Internal("no execution row with exec_id " + std::to_string(row.exec_id) +
                      " to update");
    }
  }
  if (!t.executions.empty()) {
    KEEL_ASSIGN_OR_RETURN(Statement * s, db.Prepare(kUpsertExecution));
    for (const ExecutionRow& row : t.executions) {
      if (row.update_only) continue;
      ResetGuard reset(s);
      s->BindInt64(1, row.exec_id)
          .BindText(2, row.run_id)
          .BindText(3, row.namespace_name)
          .BindText(4, row.workflow_id)
          .BindText(5, row.workflow_type)
          .BindText(6, row.task_queue)
          .BindInt64(7, row.status)
          .BindInt64(8, row.start_time_us)
          .BindInt64(9, row.close_time_us)
          .BindText(10, row.start_request_id)
          .BindInt64(11, row.history_length)
          .BindBlob(12, row.state);
      Status status = s->Run();
      if (!status.ok()) return ExecutionError(status, row);
    }
  }
  if (!t.history.empty()) {
    KEEL_ASSIGN_OR_RETURN(Statement * s, db.Prepare(kInsertHistory));
    for (const HistoryBatchRow& batch : t.history) {
      ResetGuard reset(s);
      s->BindInt64(1, batch.exec_id)
          .BindInt64(2, batch.first_event_id)
          .BindInt64(3, batch.last_event_id)
          .BindBlob(4, batch.events);
      Status status = s->Run();
      if (status.code() == StatusCode::kAlreadyExists) {
        return AlreadyExists("history batch of exec_id " + std::to_string(batch.exec_id) +
                             " starting at event " + std::to_string(batch.first_event_id) +
                             " already exists");
      }
      KEEL_RETURN_IF_ERROR(status);
    }
  }
  if (!t.remove_tasks.empty()) {
    KEEL_ASSIGN_OR_RETURN(Statement * s, db.Prepare(kDeleteTask));
    for (const TaskKey& key : t.remove_tasks) {
      ResetGuard reset(s);
      s->BindInt64(1, key.exec_id).BindInt64(2, static_cast<int>(key.kind)).BindInt64(3, key.ref);
      KEEL_RETURN_IF_ERROR(s->Run());
    }
  }
  if (!t.add_tasks.empty()) {
    KEEL_ASSIGN_OR_RETURN(Statement * s, db.Prepare(kInsertTask));
    for (const TaskRow& task : t.add_tasks) {
      ResetGuard reset(s);
      s->BindInt64(1, task.key.exec_id)
          .BindInt64(2, static_cast<int>(task.key.kind))
          .BindInt64(3, task.key.ref)
          .BindText(4, task.namespace_name)
          .BindText(5, task.task_queue)
          .BindInt64(6, task.seq);
      KEEL_RETURN_IF_ERROR(s->Run());
    }
  }
  if (!t.remove_timers.empty()) {
    KEEL_ASSIGN_OR_RETURN(Statement * s, db.Prepare(kDeleteTimer));
    for (const TimerKey& key : t.remove_timers) {
      ResetGuard reset(s);
      s->BindInt64(1, key.exec_id).BindInt64(2, static_cast<int>(key.kind)).BindInt64(3, key.ref);
      KEEL_RETURN_IF_ERROR(s->Run());
    }
  }
  if (!t.add_timers.empty()) {
    KEEL_ASSIGN_OR_RETURN(Statement * s, db.Prepare(kInsertTimer));
    for (const TimerRow& timer : t.add_timers) {
      ResetGuard reset(s);
      s->BindInt64(1, timer.key.exec_id)
          .BindInt64(2, static_cast<int>(timer.key.kind))
          .BindInt64(3, timer.key.ref)
          .BindInt64(4, timer.fire_time_us);
      KEEL_RETURN_IF_ERROR(s->Run());
    }
  }
  if (!t.search_attributes.empty()) {
    KEEL_ASSIGN_OR_RETURN(Statement * s, db.Prepare(kSetSearchAttribute));
    for (const SearchAttributeRow& row : t.search_attributes) {
      ResetGuard reset(s);
      s->BindInt64(1, row.exec_id).BindText(2, row.name).BindText(3, row.value);
      KEEL_RETURN_IF_ERROR(s->Run());
    }
  }
  if (t.delete_clean_close || t.record_clean_close) {
    KEEL_RETURN_IF_ERROR(RunCached(db, kDeleteCleanClose));
    KEEL_RETURN_IF_ERROR(RunCached(db, kDeleteCleanCloseRunning));
  }
  if (t.record_clean_close) {
    {
      KEEL_ASSIGN_OR_RETURN(Statement * s, db.Prepare(kInsertCleanClose));
      ResetGuard reset(s);
      s->BindInt64(1, t.record_clean_close->close_time_us);
      KEEL_RETURN_IF_ERROR(s->Run());
    }
    KEEL_ASSIGN_OR_RETURN(Statement * s, db.Prepare(kInsertCleanCloseRunning));
    for (const TaskKey& key : t.record_clean_close->running) {
      ResetGuard reset(s);
      s->BindInt64(1, key.exec_id).BindInt64(2, key.ref);
      KEEL_RETURN_IF_ERROR(s->Run());
    }
  }
  return Status::Ok();
}

}  // namespace keel::store
