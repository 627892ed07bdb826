// SqliteStore: construction, shutdown and the reads. Opening is in sqlite_store_open.cc,
// group commit in sqlite_store_writer.cc.

#include "engine/store/sqlite_store.h"

#include <limits>
#include <utility>

#include "engine/store/sqlite/db.h"
#include "engine/store/sqlite/lock_file.h"
#include "engine/store/sqlite/reader_pool.h"

namespace keel::store {
namespace {

using sqlite::ResetGuard;
using sqlite::Statement;

// Every reading query below selects the execution columns in this order, state last.
ExecutionRow ReadExecution(const Statement& s, bool with_state) {
  ExecutionRow row;
  row.exec_id = s.ColumnInt64(0);
  row.run_id = s.ColumnText(1);
  row.namespace_name = s.ColumnText(2);
  row.workflow_id = s.ColumnText(3);
  row.workflow_type = s.ColumnText(4);
  row.task_queue = s.ColumnText(5);
  row.status = static_cast<int>(s.ColumnInt64(6));
  row.start_time_us = s.ColumnInt64(7);
  row.close_time_us = s.ColumnInt64(8);
  row.start_request_id = s.ColumnText(9);
  row.history_length = s.ColumnInt64(10);
  if (with_state) row.state = s.ColumnBlob(11);
  return row;
}

constexpr char kExecutionById[] =
    "SELECT exec_id, run_id, namespace, workflow_id, workflow_type, task_queue, status,"
    " start_time, close_time, start_request_id, history_length, state"
    " FROM executions WHERE exec_id = ?1";
constexpr char kExecutionByRunId[] =
    "SELECT exec_id, run_id, namespace, workflow_id, workflow_type, task_queue, status,"
    " start_time, close_time, start_request_id, history_length, state"
    " FROM executions WHERE run_id = ?1";
// executions_by_workflow_id (namespace, workflow_id, exec_id) answers this with one seek.
constexpr char kCurrentExecution[] =
    "SELECT exec_id, run_id, namespace, workflow_id, workflow_type, task_queue, status,"
    " start_time, close_time, start_request_id, history_length, state"
    " FROM executions WHERE namespace = ?1 AND workflow_id = ?2"
    " ORDER BY exec_id DESC LIMIT 1";

// Starts at the batch holding `from` (the greatest first_event_id <= from; the subquery
// is evaluated once and bounds the primary-key range scan), stops after `to`.
// last_event_id >= from drops that batch when `from` lies beyond the end of history.
constexpr char kReadHistory[] =
    "SELECT first_event_id, last_event_id, events FROM history"
    " WHERE exec_id = ?1"
    " AND first_event_id >= COALESCE((SELECT first_event_id FROM history"
    "   WHERE exec_id = ?1 AND first_event_id <= ?2"
    "   ORDER BY first_event_id DESC LIMIT 1), 0)"
    " AND first_event_id <= ?3 AND last_event_id >= ?2"
    " ORDER BY first_event_id";

constexpr char kLoadTasks[] =
    "SELECT exec_id, kind, ref, namespace, task_queue, seq FROM tasks ORDER BY seq";
// timers_by_fire_time holds (fire_time, exec_id, kind, ref): the order comes for free.
constexpr char kLoadTimers[] =
    "SELECT exec_id, kind, ref, fire_time FROM timers"
    " WHERE fire_time > ?1 AND fire_time <= ?2"
    " ORDER BY fire_time, exec_id, kind, ref";
constexpr char kNextTimerAfter[] = "SELECT MIN(fire_time) FROM timers WHERE fire_time > ?1";
constexpr char kMaxExecId[] = "SELECT COALESCE(MAX(exec_id), 0) FROM executions";
constexpr char kMaxTaskSeq[] = "SELECT COALESCE(MAX(seq), 0) FROM tasks";
constexpr char kCleanCloseTime[] = "SELECT close_time FROM clean_close WHERE id = 1";
constexpr char kCleanCloseRunning[] = "SELECT exec_id, ref FROM clean_close_running ORDER BY exec_id, ref";

// One statement text per combination of filters, each prepared once per connection.
// The indexes order by start_time, not exec_id, so a filtered list sorts its matches: fine
// for selective filters. The unfiltered list (the common "recent runs" page) instead walks
// the table backwards from the cursor and stops after `limit` rows; the unary + keeps the
// planner from choosing a namespace index and sorting the whole namespace.
std::string ListExecutionsSql(const ListFilter& f) {
  bool filtered = !f.workflow_type.empty() || !f.workflow_id.empty() || f.status != 0 ||
                  f.start_time_min_us != 0 || f.start_time_max_us != 0 ||
                  !f.search_attributes.empty();
  std::string sql =
      "SELECT exec_id, run_id, namespace, workflow_id, workflow_type, task_queue, status,"
      " start_time, close_time, start_request_id, history_length FROM executions WHERE ";
  sql += filtered ? "namespace = ?1" : "+namespace = ?1";
  if (!f.workflow_type.empty()) sql += " AND workflow_type = ?2";
  if (!f.workflow_id.empty()) sql += " AND workflow_id = ?3";
  if (f.status != 0) sql += " AND status = ?4";
  if (f.start_time_min_us != 0) sql += " AND start_time >= ?5";
  if (f.start_time_max_us != 0) sql += " AND start_time < ?6";
  if (f.before_exec_id != 0) sql += " AND exec_id < ?7";
  // Search attribute i binds ?(9 + 2i) (name) and ?(10 + 2i) (value).
  for (size_t i = 0; i < f.search_attributes.size(); ++i) {
    sql += " AND exec_id IN (SELECT exec_id FROM search_attributes WHERE name = ?" +
           std::to_string(9 + 2 * i) + " AND value = ?" + std::to_string(10 + 2 * i) + ")";
  }
  sql += " ORDER BY exec_id DESC LIMIT ?8";
  return sql;
}

}  // namespace

SqliteStore::SqliteStore(SqliteStoreOptions options, std::unique_ptr<sqlite::LockFile> lock,
                         std::unique_ptr<sqlite::Db> writer)
    : options_(std::move(options)),
      lock_(std::move(lock)),
      writer_db_(std::move(writer)),
      readers_(std::make_unique<sqlite::ReaderPool>(options_.path, options_.vfs,
                                                    options_.read_connections)) {}

SqliteStore::~SqliteStore() {
  {
    // Commits already queued are still led and written (and their callbacks run); new
    // ones are refused.
    std::unique_lock lock(mu_);
    stopping_ = true;
    idle_.wait(lock, [&] { return queue_.empty() && !writing_ && running_callbacks_ == 0; });
    exit_writer_ = true;
  }
  async_wake_.notify_all();
  answer_wake_.notify_all();
  if (async_writer_.joinable()) async_writer_.join();
  if (answer_thread_.joinable()) answer_thread_.join();
  // Readers first: the last connection to close checkpoints the WAL into the database
  // file and removes it, and that should be the writer. The lock goes last.
  readers_.reset();
  writer_db_.reset();
  lock_.reset();
}

Result<std::optional<ExecutionRow>> SqliteStore::GetExecution(int64_t exec_id) {
  KEEL_ASSIGN_OR_RETURN(auto lease, readers_->Acquire());
  KEEL_ASSIGN_OR_RETURN(Statement * s, lease.db().Prepare(kExecutionById));
  ResetGuard reset(s);
  s->BindInt64(1, exec_id);
  KEEL_ASSIGN_OR_RETURN(bool row, s->Step());
  if (!row) return std::optional<ExecutionRow>();
  return std::optional<ExecutionRow>(ReadExecution(*s, /*with_state=*/true));
}

Result<std::optional<ExecutionRow>> SqliteStore::GetExecutionByRunId(const std::string& run_id) {
  KEEL_ASSIGN_OR_RETURN(auto lease, readers_->Acquire());
  KEEL_ASSIGN_OR_RETURN(Statement * s, lease.db().Prepare(kExecutionByRunId));
  ResetGuard reset(s);
  s->BindText(1, run_id);
  KEEL_ASSIGN_OR_RETURN(bool row, s->Step());
  if (!row) return std::optional<ExecutionRow>();
  return std::optional<ExecutionRow>(ReadExecution(*s, /*with_state=*/true));
}

Result<std::optional<ExecutionRow>> SqliteStore::GetCurrentExecution(
    const std::string& namespace_name, const std::string& workflow_id) {
  KEEL_ASSIGN_OR_RETURN(auto lease, readers_->Acquire());
  KEEL_ASSIGN_OR_RETURN(Statement * s, lease.db().Prepare(kCurrentExecution));
  ResetGuard reset(s);
  s->BindText(1, namespace_name).BindText(2, workflow_id);
  KEEL_ASSIGN_OR_RETURN(bool row, s->Step());
  if (!row) return std::optional<ExecutionRow>();
  return std::optional<ExecutionRow>(ReadExecution(*s, /*with_state=*/true));
}

Result<std::vector<ExecutionRow>> SqliteStore::ListExecutions(const ListFilter& filter) {
  if (filter.limit <= 0) {
    return InvalidArgument("ListFilter.limit must be positive, got " +
                           std::to_string(filter.limit));
  }
  KEEL_ASSIGN_OR_RETURN(auto lease, readers_->Acquire());
  KEEL_ASSIGN_OR_RETURN(Statement * s, lease.db().Prepare(ListExecutionsSql(filter)));
  ResetGuard reset(s);
  s->BindText(1, filter.namespace_name);
  if (!filter.workflow_type.empty()) s->BindText(2, filter.workflow_type);
  if (!filter.workflow_id.empty()) s->BindText(3, filter.workflow_id);
  if (filter.status != 0) s->BindInt64(4, filter.status);
  if (filter.start_time_min_us != 0) s->BindInt64(5, filter.start_time_min_us);
  if (filter.start_time_max_us != 0) s->BindInt64(6, filter.start_time_max_us);
  if (filter.before_exec_id != 0) s->BindInt64(7, filter.before_exec_id);
  s->BindInt64(8, filter.limit);
  for (size_t i = 0; i < filter.search_attributes.size(); ++i) {
    s->BindText(static_cast<int>(9 + 2 * i), filter.search_attributes[i].first);
    s->BindText(static_cast<int>(10 + 2 * i), filter.search_attributes[i].second);
  }
  std::vector<ExecutionRow> rows;
  while (true) {
    KEEL_ASSIGN_OR_RETURN(bool row, s->Step());
    if (!row) break;
    rows.push_back(ReadExecution(*s, /*with_state=*/false));
  }
  return rows;
}

Result<std::vector<HistoryBatchRow>> SqliteStore::ReadHistory(int64_t exec_id,
                                                              int64_t from_event_id,
                                                              int64_t to_event_id) {
  KEEL_ASSIGN_OR_RETURN(auto lease, readers_->Acquire());
  KEEL_ASSIGN_OR_RETURN(Statement * s, lease.db().Prepare(kReadHistory));
  ResetGuard reset(s);
  s->BindInt64(1, exec_id)
      .BindInt64(2, from_event_id)
      .BindInt64(3, to_event_id == 0 ? std::numeric_limits<int64_t>::max() : to_event_id);
  std::vector<HistoryBatchRow> batches;
  while (true) {
    KEEL_ASSIGN_OR_RETURN(bool row, s->Step());
    if (!row) break;
    HistoryBatchRow& batch = batches.emplace_back();
    batch.exec_id = exec_id;
    batch.first_event_id = s->ColumnInt64(0);
    batch.last_event_id = s->ColumnInt64(1);
    batch.events = s->ColumnBlob(2);
  }
  return batches;
}

Result<std::vector<TaskRow>> SqliteStore::LoadTasks() {
  KEEL_ASSIGN_OR_RETURN(auto lease, readers_->Acquire());
  KEEL_ASSIGN_OR_RETURN(Statement * s, lease.db().Prepare(kLoadTasks));
  ResetGuard reset(s);
  std::vector<TaskRow> tasks;
  while (true) {
    KEEL_ASSIGN_OR_RETURN(bool row, s->Step());
    if (!row) break;
    TaskRow& task = tasks.emplace_back();
    task.key.exec_id = s->ColumnInt64(0);
    task.key.kind = static_cast<TaskKind>(s->ColumnInt64(1));
    task.key.ref = s->ColumnInt64(2);
    task.namespace_name = s->ColumnText(3);
    task.task_queue = s->ColumnText(4);
    task.seq = s->ColumnInt64(5);
  }
  return tasks;
}

Result<std::vector<TimerRow>> SqliteStore::LoadTimers(int64_t after_us, int64_t until_us) {
  KEEL_ASSIGN_OR_RETURN(auto lease, readers_->Acquire());
  KEEL_ASSIGN_OR_RETURN(Statement * s, lease.db().Prepare(kLoadTimers));
  ResetGuard reset(s);
  s->BindInt64(1, after_us).BindInt64(2, until_us);
  std::vector<TimerRow> timers;
  while (true) {
    KEEL_ASSIGN_OR_RETURN(bool row, s->Step());
    if (!row) break;
    TimerRow& timer = timers.emplace_back();
    timer.key.exec_id = s->ColumnInt64(0);
    timer.key.kind = static_cast<TimerKind>(s->ColumnInt64(1));
    timer.key.ref = s->ColumnInt64(2);
    timer.fire_time_us = s->ColumnInt64(3);
  }
  return timers;
}

Result<std::optional<int64_t>> SqliteStore::NextTimerAfter(int64_t after_us) {
  KEEL_ASSIGN_OR_RETURN(auto lease, readers_->Acquire());
  KEEL_ASSIGN_OR_RETURN(Statement * s, lease.db().Prepare(kNextTimerAfter));
  ResetGuard reset(s);
  s->BindInt64(1, after_us);
  KEEL_ASSIGN_OR_RETURN(bool row, s->Step());
  if (!row || s->ColumnIsNull(0)) return std::optional<int64_t>();
  return std::optional<int64_t>(s->ColumnInt64(0));
}

Result<int64_t> SqliteStore::MaxExecId() {
  KEEL_ASSIGN_OR_RETURN(auto lease, readers_->Acquire());
  return lease.db().QueryInt64(kMaxExecId);
}

Result<int64_t> SqliteStore::MaxTaskSeq() {
  KEEL_ASSIGN_OR_RETURN(auto lease, readers_->Acquire());
  return lease.db().QueryInt64(kMaxTaskSeq);
}

Status SqliteStore::RecordCleanClose(const CleanClose& close) {
  Transition t;
  t.record_clean_close = close;
  return Commit(std::move(t));
}

Result<std::optional<CleanClose>> SqliteStore::TakeCleanClose() {
  CleanClose close;
  {
    KEEL_ASSIGN_OR_RETURN(auto lease, readers_->Acquire());
    KEEL_ASSIGN_OR_RETURN(Statement * s, lease.db().Prepare(kCleanCloseTime));
    ResetGuard reset(s);
    KEEL_ASSIGN_OR_RETURN(bool row, s->Step());
    if (!row) return std::optional<CleanClose>();
    close.close_time_us = s->ColumnInt64(0);
    KEEL_ASSIGN_OR_RETURN(Statement * r, lease.db().Prepare(kCleanCloseRunning));
    ResetGuard reset_running(r);
    while (true) {
      KEEL_ASSIGN_OR_RETURN(bool more, r->Step());
      if (!more) break;
      close.running.push_back({r->ColumnInt64(0), TaskKind::kActivity, r->ColumnInt64(1)});
    }
  }
  Transition t;
  t.delete_clean_close = true;
  KEEL_RETURN_IF_ERROR(Commit(std::move(t)));
  return std::optional<CleanClose>(std::move(close));
}

}  // namespace keel::store
