#include "engine/core/mutation.h"

#include <atomic>

#include <nlohmann/json.hpp>

#include "engine/history/convert.h"

namespace keel::core {

Mutation::Mutation(const RunState& run, Time now)
    : exec_id_(run.exec_id),
      new_run_(false),
      initial_status_(run.state.status()),
      now_(now),
      c_{.workflow_task_in_flight = run.WorkflowTaskInFlight(), .next = run.state} {}

Mutation::Mutation(int64_t exec_id, v1::ExecutionState initial, Time now)
    : exec_id_(exec_id), new_run_(true), now_(now), c_{.next = std::move(initial)} {
  if (c_.next.next_event_id() == 0) c_.next.set_next_event_id(1);
}

v1::HistoryEvent* Mutation::Append() {
  v1::HistoryEvent* e = batch_.add_events();
  e->set_event_id(c_.next.next_event_id());
  c_.next.set_next_event_id(c_.next.next_event_id() + 1);
  *e->mutable_event_time() = ToProtoTime(now_);
  return e;
}

v1::HistoryEvent* Mutation::AddForWorkflow() {
  v1::HistoryEvent* e;
  if (c_.workflow_task_in_flight) {
    e = c_.next.add_buffered_events();
    *e->mutable_event_time() = ToProtoTime(now_);
  } else {
    e = Append();
  }
  c_.needs_workflow_task = true;
  return e;
}

int Mutation::FlushBuffered() {
  int n = c_.next.buffered_events_size();
  for (auto& buffered : *c_.next.mutable_buffered_events()) {
    v1::HistoryEvent* e = batch_.add_events();
    *e = std::move(buffered);
    e->set_event_id(c_.next.next_event_id());
    c_.next.set_next_event_id(c_.next.next_event_id() + 1);
    // An activity outcome buffered with its ActivityTaskStarted points at it (-1 until
    // both have ids): the started event is the one just before.
    if (e->has_activity_task_completed() && e->activity_task_completed().started_event_id() == -1) {
      e->mutable_activity_task_completed()->set_started_event_id(e->event_id() - 1);
    } else if (e->has_activity_task_failed() && e->activity_task_failed().started_event_id() == -1) {
      e->mutable_activity_task_failed()->set_started_event_id(e->event_id() - 1);
    } else if (e->has_activity_task_timed_out() && e->activity_task_timed_out().started_event_id() == -1) {
      e->mutable_activity_task_timed_out()->set_started_event_id(e->event_id() - 1);
    } else if (e->has_activity_task_canceled() && e->activity_task_canceled().started_event_id() == -1) {
      e->mutable_activity_task_canceled()->set_started_event_id(e->event_id() - 1);
    }
  }
  c_.next.clear_buffered_events();
  c_.workflow_task_in_flight = false;
  return n;
}

void Mutation::ScheduleWorkflowTask() {
  if (c_.next.has_workflow_task()) return;
  if (c_.next.status() != v1::WORKFLOW_EXECUTION_STATUS_RUNNING) return;
  v1::HistoryEvent* e = Append();
  auto* a = e->mutable_workflow_task_scheduled();
  a->set_task_queue(c_.next.task_queue());
  *a->mutable_start_to_close_timeout() = c_.next.workflow_task_timeout();
  a->set_attempt(1);
  auto* wt = c_.next.mutable_workflow_task();
  wt->set_scheduled_event_id(e->event_id());
  wt->set_attempt(1);
  *wt->mutable_scheduled_time() = ToProtoTime(now_);
  AddTask(store::TaskKind::kWorkflow, 0, c_.next.task_queue());
}

void Mutation::AddTask(store::TaskKind kind, int64_t ref, const std::string& task_queue) {
  store::TaskRow row;
  row.key = {exec_id_, kind, ref};
  row.namespace_name = c_.next.namespace_();
  row.task_queue = task_queue;
  c_.add_tasks.push_back(std::move(row));
}

void Mutation::RemoveTask(store::TaskKind kind, int64_t ref) {
  store::TaskKey key{exec_id_, kind, ref};
  std::erase_if(c_.add_tasks, [&](const store::TaskRow& r) { return r.key == key; });
  c_.remove_tasks.push_back(key);
}

void Mutation::AddTimer(store::TimerKind kind, int64_t ref, Time fire_time) {
  store::TimerRow row;
  row.key = {exec_id_, kind, ref};
  row.fire_time_us = ToMicros(fire_time);
  c_.add_timers.push_back(row);
}

void Mutation::RemoveTimer(store::TimerKind kind, int64_t ref) {
  store::TimerKey key{exec_id_, kind, ref};
  std::erase_if(c_.add_timers, [&](const store::TimerRow& r) { return r.key == key; });
  c_.remove_timers.push_back(key);
}

void Mutation::Close(v1::WorkflowExecutionStatus status) {
  c_.next.set_status(status);
  *c_.next.mutable_close_time() = ToProtoTime(now_);
  for (const auto& [id, a] : c_.next.activities()) {
    RemoveTask(store::TaskKind::kActivity, id);
    RemoveTimer(store::TimerKind::kActivityRetry, id);
    RemoveTimer(store::TimerKind::kActivityScheduleToStart, id);
    RemoveTimer(store::TimerKind::kActivityScheduleToClose, id);
  }
  for (const auto& [id, t] : c_.next.timers()) {
    RemoveTimer(store::TimerKind::kUserTimer, t.started_event_id());
  }
  RemoveTask(store::TaskKind::kWorkflow, 0);
  RemoveTimer(store::TimerKind::kWorkflowTaskRetry, 0);
  RemoveTimer(store::TimerKind::kWorkflowExecutionTimeout, 0);
  RemoveTimer(store::TimerKind::kWorkflowRunTimeout, 0);
  for (const auto& [id, r] : c_.next.external_requests()) RemoveTimer(store::TimerKind::kExternalRequest, id);
  c_.next.clear_activities();
  c_.next.clear_timers();
  c_.next.clear_workflow_task();
  c_.next.clear_external_requests();
  if (c_.next.has_parent() && status != v1::WORKFLOW_EXECUTION_STATUS_CONTINUED_AS_NEW) {
    AddTimer(store::TimerKind::kParentNotify, 0, now_);
  }
  // Children are kept in the state: the policy handler needs to know who they are.
  for (const auto& [id, child] : c_.next.children()) {
    RemoveTimer(store::TimerKind::kChildStart, id);
    if (child.initiated().parent_close_policy() != v1::PARENT_CLOSE_POLICY_ABANDON) {
      AddTimer(store::TimerKind::kParentClosePolicy, id, now_);
    }
  }
}

void Mutation::RememberSignalRequestId(const std::string& request_id) {
  if (request_id.empty()) return;
  auto* ids = c_.next.mutable_signal_request_ids();
  ids->Add()->assign(request_id);
  if (ids->size() > kSignalRequestIds) ids->DeleteSubrange(0, ids->size() - kSignalRequestIds);
}

void Mutation::SetSearchAttribute(const std::string& name, const v1::Payload& value) {
  (*c_.next.mutable_search_attributes())[name] = value;
  std::string text = value.data();
  try {
    text = nlohmann::json::parse(value.data()).dump();  // canonical, so equal values compare equal
  } catch (const nlohmann::json::exception&) {
  }
  c_.search_attributes.push_back({exec_id_, name, std::move(text)});
}

Mutation::Checkpoint Mutation::Save() const { return {c_, batch_.events_size()}; }

void Mutation::Restore(Checkpoint saved) {
  c_ = std::move(saved.changes);
  const int added = batch_.events_size() - saved.events;
  if (added > 0) batch_.mutable_events()->DeleteSubrange(saved.events, added);
}

store::Transition Mutation::Build(std::atomic<int64_t>& next_task_seq) {
  if (c_.needs_workflow_task) ScheduleWorkflowTask();
  c_.needs_workflow_task = false;
  store::Transition t;
  if (batch_.events_size() > 0) {
    store::HistoryBatchRow h;
    h.exec_id = exec_id_;
    h.first_event_id = batch_.events(0).event_id();
    h.last_event_id = batch_.events(batch_.events_size() - 1).event_id();
    batch_.SerializeToString(&h.events);
    c_.next.set_history_size_bytes(c_.next.history_size_bytes() + static_cast<int64_t>(h.events.size()));
    t.history.push_back(std::move(h));
  }
  store::ExecutionRow row;
  row.exec_id = exec_id_;
  row.run_id = c_.next.run_id();
  row.namespace_name = c_.next.namespace_();
  row.workflow_id = c_.next.workflow_id();
  row.workflow_type = c_.next.workflow_type();
  row.task_queue = c_.next.task_queue();
  row.status = c_.next.status();
  row.start_time_us = ToMicros(FromProtoTime(c_.next.start_time()));
  row.close_time_us = c_.next.has_close_time() ? ToMicros(FromProtoTime(c_.next.close_time())) : 0;
  row.start_request_id = c_.next.start_request_id();
  row.history_length = c_.next.next_event_id() - 1;
  row.update_only = !new_run_;
  row.status_changed = new_run_ || c_.next.status() != initial_status_;
  c_.next.SerializeToString(&row.state);
  t.executions.push_back(std::move(row));
  for (auto& task : c_.add_tasks) task.seq = next_task_seq.fetch_add(1);
  t.remove_tasks = c_.remove_tasks;
  t.add_tasks = c_.add_tasks;
  t.remove_timers = c_.remove_timers;
  t.add_timers = c_.add_timers;
  t.search_attributes = c_.search_attributes;
  return t;
}

}  // namespace keel::core
