// Store: durable persistence of executions, histories, tasks and timers. The engine
// turns every state transition into one Transition and commits it; the store makes it
// durable atomically (all rows or none) before Commit returns. Implementations are
// thread-safe. The store knows nothing of workflows: event batches and state are bytes.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "engine/status.h"

namespace keel::store {

// Persisted as integers: never renumber.
enum class TaskKind : int { kWorkflow = 1, kActivity = 2 };

enum class TimerKind : int {
  kUserTimer = 1,                // ref: TimerStarted event id
  kActivityRetry = 2,            // ref: ActivityTaskScheduled event id
  kActivityScheduleToStart = 3,  // ref: ActivityTaskScheduled event id
  kActivityScheduleToClose = 4,  // ref: ActivityTaskScheduled event id
  kWorkflowTaskRetry = 5,        // ref: 0
  kWorkflowExecutionTimeout = 6, // ref: 0
  kWorkflowRunTimeout = 7,       // ref: 0
  kChildStart = 8,               // ref: StartChildWorkflowExecutionInitiated event id
  kExternalRequest = 9,          // ref: Signal/RequestCancelExternal...Initiated event id
  kParentNotify = 10,            // ref: 0 (on the closed child: tell the parent)
  kParentClosePolicy = 11,       // ref: the child's initiated event id (on the closed parent)
};

struct ExecutionRow {
  int64_t exec_id = 0;  // assigned by the engine, unique, never reused
  std::string run_id;
  std::string namespace_name;
  std::string workflow_id;
  std::string workflow_type;
  std::string task_queue;
  int status = 0;  // keel.v1.WorkflowExecutionStatus
  int64_t start_time_us = 0;
  int64_t close_time_us = 0;  // 0 while running
  std::string start_request_id;
  int64_t history_length = 0;  // the last event id
  std::string state;           // serialized keel.v1.ExecutionState (empty in list results)
  // For Commit: true means the run exists and only status, close_time, history_length
  // and state change (a plain UPDATE, cheaper than rewriting every indexed column);
  // false inserts the row or replaces all of its columns.
  bool update_only = false;
  // With update_only: false when status and close_time are as stored, so that only
  // history_length and state are written (and the indexes on status are not touched).
  bool status_changed = true;
};

// The events one transition appended to one run: a serialized keel.v1.HistoryBatch.
struct HistoryBatchRow {
  int64_t exec_id = 0;
  int64_t first_event_id = 0;
  int64_t last_event_id = 0;
  std::string events;
};

struct TaskKey {
  int64_t exec_id = 0;
  TaskKind kind = TaskKind::kWorkflow;
  int64_t ref = 0;  // activity: scheduled event id; workflow task: 0
  bool operator==(const TaskKey&) const = default;
};

struct TaskRow {
  TaskKey key;
  std::string namespace_name;
  std::string task_queue;
  int64_t seq = 0;  // creation order; LoadTasks returns tasks in this order
};

struct TimerKey {
  int64_t exec_id = 0;
  TimerKind kind = TimerKind::kUserTimer;
  int64_t ref = 0;
  bool operator==(const TimerKey&) const = default;
};

struct TimerRow {
  TimerKey key;
  int64_t fire_time_us = 0;
};

// A run's search attribute (listable): the value is canonical JSON text.
struct SearchAttributeRow {
  int64_t exec_id = 0;
  std::string name;
  std::string value;
};

// What an engine's clean close recorded for its next open (README.md, clean_close).
struct CleanClose {
  int64_t close_time_us = 0;
  std::vector<TaskKey> running;  // activity tasks whose attempts ran on workers then
};

// Everything one state transition writes. Applied atomically, in this order:
// executions (insert or replace by exec_id, or update; see update_only), history (insert; an existing
// (exec_id, first_event_id) is an error), removed tasks, added tasks (insert or replace),
// removed timers, added timers (insert or replace), search attributes (insert or
// replace), then the clean close's record (deleted, then written). Removing a missing
// row is not an error.
struct Transition {
  std::vector<ExecutionRow> executions;
  std::vector<HistoryBatchRow> history;
  std::vector<TaskKey> remove_tasks;
  std::vector<TaskRow> add_tasks;
  std::vector<TimerKey> remove_timers;
  std::vector<TimerRow> add_timers;
  std::vector<SearchAttributeRow> search_attributes;
  // The record of a clean close: replaced by `record_clean_close` when set, or deleted
  // when `delete_clean_close` (RecordCleanClose and TakeCleanClose use these).
  std::optional<CleanClose> record_clean_close;
  bool delete_clean_close = false;
};

struct ListFilter {
  std::string namespace_name;
  std::string workflow_type;  // empty = any
  std::string workflow_id;    // empty = any
  int status = 0;             // 0 = any
  int64_t start_time_min_us = 0;  // inclusive; 0 = no bound
  int64_t start_time_max_us = 0;  // exclusive; 0 = no bound
  int64_t before_exec_id = 0;     // page cursor: only exec_id < this; 0 = from the newest
  // Runs whose search attribute `first` has the JSON value `second` (all must match).
  std::vector<std::pair<std::string, std::string>> search_attributes;
  int limit = 100;
};

class Store {
 public:
  virtual ~Store() = default;

  // Makes `t` durable. Returns only after the commit (with the store's synchronous
  // setting) is done; on error nothing of `t` was written.
  virtual Status Commit(Transition t) = 0;
  // Commit without waiting: queues `t` and returns; `done` gets Commit's status once the
  // transition is durable (or has failed), on a thread of the store's choosing (SQLite: its
  // writer). A server uses it so that no thread sleeps through a commit. This default
  // commits in the caller's thread and calls `done` there.
  virtual void CommitAsync(Transition t, std::function<void(Status)> done) { done(Commit(std::move(t))); }

  virtual Result<std::optional<ExecutionRow>> GetExecution(int64_t exec_id) = 0;
  virtual Result<std::optional<ExecutionRow>> GetExecutionByRunId(const std::string& run_id) = 0;
  // The newest run (highest exec_id) of a workflow id, running or closed.
  virtual Result<std::optional<ExecutionRow>> GetCurrentExecution(const std::string& namespace_name,
                                                                  const std::string& workflow_id) = 0;
  // Newest first (descending exec_id); rows without `state`.
  virtual Result<std::vector<ExecutionRow>> ListExecutions(const ListFilter& filter) = 0;

  // The batches holding events in [from_event_id, to_event_id] (to = 0: to the end),
  // in event order. The first batch may start before from_event_id.
  virtual Result<std::vector<HistoryBatchRow>> ReadHistory(int64_t exec_id, int64_t from_event_id,
                                                           int64_t to_event_id) = 0;

  // Every task row, in seq order (used once at startup).
  virtual Result<std::vector<TaskRow>> LoadTasks() = 0;
  // Timers with after_us < fire_time <= until_us, by fire time.
  virtual Result<std::vector<TimerRow>> LoadTimers(int64_t after_us, int64_t until_us) = 0;
  // The earliest fire time > after_us, if any.
  virtual Result<std::optional<int64_t>> NextTimerAfter(int64_t after_us) = 0;

  // Highest ids in use (0 when empty), so the engine continues the sequences.
  virtual Result<int64_t> MaxExecId() = 0;
  virtual Result<int64_t> MaxTaskSeq() = 0;

  // A clean close: records which activity attempts ran on workers then, replacing any
  // earlier record.
  virtual Status RecordCleanClose(const CleanClose& close) = 0;
  // An open: the record of the last clean close, deleted before this returns (so that a
  // crash after this open finds none); nullopt when there is none. An error when either
  // failed: the record may still be there.
  virtual Result<std::optional<CleanClose>> TakeCleanClose() = 0;
};

}  // namespace keel::store
