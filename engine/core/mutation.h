// Mutation: everything one state transition does to one run, collected before anything
// is written: the next mutable state (a copy, so a failed commit leaves the run as it
// was), the events to append, the tasks and timers to add and remove. Build() turns it
// into the store::Transition that commits it atomically. Not thread-safe; used under
// the run's lock.
#pragma once

#include <algorithm>
#include <atomic>
#include <vector>

#include "engine/core/run_state.h"
#include "engine/store/store.h"
#include "keel/v1/history.pb.h"

namespace keel::core {

class Mutation {
 public:
  // A transition of an existing run (copies its state).
  Mutation(const RunState& run, Time now);
  // The first transition of a new run.
  Mutation(int64_t exec_id, v1::ExecutionState initial, Time now);

  v1::ExecutionState& state() { return c_.next; }
  const v1::ExecutionState& state() const { return c_.next; }
  Time now() const { return now_; }
  int64_t exec_id() const { return exec_id_; }
  bool is_new_run() const { return new_run_; }

  // Appends an event to the history with the next event id and time now().
  v1::HistoryEvent* Append();
  // An event the workflow code must see: appended, or buffered while a workflow task is
  // in flight (it is appended when that task ends). A workflow task is scheduled after
  // the transition's last event, if none is pending.
  v1::HistoryEvent* AddForWorkflow();
  // Appends the buffered events in arrival order; returns how many there were.
  int FlushBuffered();
  // Schedules a workflow task (event + task row) unless one is pending or the run ended.
  void ScheduleWorkflowTask();
  // Schedules now the workflow task that an event for the workflow asked for (Build
  // would, at the end).
  void ScheduleWorkflowTaskIfNeeded() {
    if (c_.needs_workflow_task) ScheduleWorkflowTask();
    c_.needs_workflow_task = false;
  }
  // While a workflow task runs inline inside this transition, events for the workflow
  // are buffered as for a worker's task in flight.
  void set_workflow_task_in_flight(bool in_flight) { c_.workflow_task_in_flight = in_flight; }

  void AddTask(store::TaskKind kind, int64_t ref, const std::string& task_queue);
  // The caller leases this task itself right after the commit (eager dispatch), so the
  // task matcher is not told of it; its row is committed as usual.
  void HandToCaller(store::TaskKind kind, int64_t ref) { c_.handed.push_back({exec_id_, kind, ref}); }
  bool HandedToCaller(const store::TaskKey& key) const {
    return std::find(c_.handed.begin(), c_.handed.end(), key) != c_.handed.end();
  }
  void RemoveTask(store::TaskKind kind, int64_t ref);
  void AddTimer(store::TimerKind kind, int64_t ref, Time fire_time);
  void RemoveTimer(store::TimerKind kind, int64_t ref);

  // Ends the run with `status`: close time, and every task and timer it had removed.
  // A closing child arranges to tell its parent (unless it continues as new); a closing
  // parent arranges to apply its children's parent-close policies.
  void Close(v1::WorkflowExecutionStatus status);

  // Remembers a signal's request id, so that a retry of it is recognised (and not
  // delivered twice). Only the run's last kSignalRequestIds ids are kept: the state is
  // rewritten by every transition, and a retry comes soon after its first try.
  static constexpr int kSignalRequestIds = 256;
  void RememberSignalRequestId(const std::string& request_id);

  // Sets a search attribute (state and the listable row).
  void SetSearchAttribute(const std::string& name, const v1::Payload& value);

  bool has_events() const { return batch_.events_size() > 0; }
  const v1::HistoryBatch& events() const { return batch_; }

  // Undoing the changes made after a Save (a workflow task completed inside the
  // transition whose commands cannot be applied). The events are only appended to, so
  // they are cut back to their number; everything else is copied.
  struct Changes;
  struct Checkpoint;
  Checkpoint Save() const;
  void Restore(Checkpoint saved);

  // The transition to commit. `next_task_seq` numbers the added tasks.
  store::Transition Build(std::atomic<int64_t>& next_task_seq);

  // What to tell the task matcher and the timer service once the commit succeeded.
  const std::vector<store::TaskRow>& added_tasks() const { return c_.add_tasks; }
  const std::vector<store::TimerRow>& added_timers() const { return c_.add_timers; }
  const std::vector<store::TimerKey>& removed_timers() const { return c_.remove_timers; }
  // The state to install in the RunState once the commit succeeded.
  v1::ExecutionState TakeState() { return std::move(c_.next); }

  // What a transition changes besides its events.
  struct Changes {
    bool workflow_task_in_flight = false;
    bool needs_workflow_task = false;
    v1::ExecutionState next;
    std::vector<store::TaskRow> add_tasks;
    std::vector<store::TaskKey> remove_tasks;
    std::vector<store::TaskKey> handed;
    std::vector<store::TimerRow> add_timers;
    std::vector<store::TimerKey> remove_timers;
    std::vector<store::SearchAttributeRow> search_attributes;
  };
  struct Checkpoint {
    Changes changes;
    int events = 0;
  };

 private:
  int64_t exec_id_;
  bool new_run_;
  int initial_status_ = 0;  // the run's status before this transition
  Time now_;
  Changes c_;
  v1::HistoryBatch batch_;
};

}  // namespace keel::core
