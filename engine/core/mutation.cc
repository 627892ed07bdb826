#include "engine/core/mutation.h"

#include <atomic>

#include <nlohmann/json.hpp>

#include "engine/history/convert.h"

namespace keel::core {

Mutation::Mutation(const RunState& run, Time now)
    : workflow_task_in_flight_(run.WorkflowTaskInFlight()),
      exec_id_(run.exec_id),
      new_run_(false),
      initial_status_(run.state.status()),
      now_(now),
      next_(run.state) {}

Mutation::Mutation(int64_t exec_id, v1::ExecutionState initial, Time now)
    : exec_id_(exec_id), new_run_(true), now_(now), next_(std::move(initial)) {
  if (next_.next_event_id() == 0) next_.set_next_event_id(1);
}

v1::HistoryEvent* Mutation::Append() {
  v1::HistoryEvent* e = batch_.add_events();
  e->set_event_id(next_.next_event_id());
  next_.set_next_event_id(next_.next_event_id() + 1);
  *e->mutable_event_time() = ToProtoTime(now_);
  return e;
}

v1::HistoryEvent* Mutation::AddForWorkflow() {
  v1::HistoryEvent* e;
  if (workflow_task_in_flight_) {
    e = next_.add_buffered_events();
    *e->mutable_event_time() = ToProtoTime(now_);
  } else {
    e = Append();
  }
  needs_workflow_task_ = true;
  return e;
}

int Mutation::FlushBuffered() {
  int n = next_.buffered_events_size();
  for (auto& buffered : *next_.mutable_buffered_events()) {
    v1::HistoryEvent* e = batch_.add_events();
    *e = std::move(buffered);
    e->set_event_id(next_.next_event_id());
    next_.set_next_event_id(next_.next_event_id() + 1);
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
  next_.clear_buffered_events();
  workflow_task_in_flight_ = false;
  return n;
}

void Mutation::ScheduleWorkflowTask() {
  if (next_.has_workflow_task()) return;
  if (next_.status() != v1::WORKFLOW_EXECUTION_STATUS_RUNNING) return;
  v1::HistoryEvent* e = Append();
  auto* a = e->mutable_workflow_task_scheduled();
  a->set_task_queue(next_.task_queue());
  *a->mutable_start_to_close_timeout() = next_.workflow_task_timeout();
  a->set_attempt(1);
  auto* wt = next_.mutable_workflow_task();
  wt->set_scheduled_event_id(e->event_id());
  wt->set_attempt(1);
  *wt->mutable_scheduled_time() = ToProtoTime(now_);
  AddTask(store::TaskKind::kWorkflow, 0, next_.task_queue());
}

void Mutation::AddTask(store::TaskKind kind, int64_t ref, const std::string& task_queue) {
  store::TaskRow row;
  row.key = {exec_id_, kind, ref};
  row.namespace_name = next_.namespace_();
  row.task_queue = task_queue;
  add_tasks_.push_back(std::move(row));
}

void Mutation::RemoveTask(store::TaskKind kind, int64_t ref) {
  store::TaskKey key{exec_id_, kind, ref};
  std::erase_if(add_tasks_, [&](const store::TaskRow& r) { return r.key == key; });
  remove_tasks_.push_back(key);
}

void Mutation::AddTimer(store::TimerKind kind, int64_t ref, Time fire_time) {
  store::TimerRow row;
  row.key = {exec_id_, kind, ref};
  row.fire_time_us = ToMicros(fire_time);
  add_timers_.push_back(row);
}

void Mutation::RemoveTimer(store::TimerKind kind, int64_t ref) {
  store::TimerKey key{exec_id_, kind, ref};
  std::erase_if(add_timers_, [&](const store::TimerRow& r) { return r.key == key; });
  remove_timers_.push_back(key);
}

void Mutation::Close(v1::WorkflowExecutionStatus status) {
  next_.set_status(status);
  *next_.mutable_close_time() = ToProtoTime(now_);
  for (const auto& [id, a] : next_.activities()) {
    RemoveTask(store::TaskKind::kActivity, id);
    RemoveTimer(store::TimerKind::kActivityRetry, id);
    RemoveTimer(store::TimerKind::kActivityScheduleToStart, id);
    RemoveTimer(store::TimerKind::kActivityScheduleToClose, id);
  }
  for (const auto& [id, t] : next_.timers()) {
    RemoveTimer(store::TimerKind::kUserTimer, t.started_event_id());
  }
  RemoveTask(store::TaskKind::kWorkflow, 0);
  RemoveTimer(store::TimerKind::kWorkflowTaskRetry, 0);
  RemoveTimer(store::TimerKind::kWorkflowExecutionTimeout, 0);
  RemoveTimer(store::TimerKind::kWorkflowRunTimeout, 0);
  for (const auto& [id, r] : next_.external_requests()) RemoveTimer(store::TimerKind::kExternalRequest, id);
  next_.clear_activities();
  next_.clear_timers();
  next_.clear_workflow_task();
  next_.clear_external_requests();
  if (next_.has_parent() && status != v1::WORKFLOW_EXECUTION_STATUS_CONTINUED_AS_NEW) {
    AddTimer(store::TimerKind::kParentNotify, 0, now_);
  }
  // Children are kept in the state: the policy handler needs to know who they are.
  for (const auto& [id, child] : next_.children()) {
    RemoveTimer(store::TimerKind::kChildStart, id);
    if (child.initiated().parent_close_policy() != v1::PARENT_CLOSE_POLICY_ABANDON) {
      AddTimer(store::TimerKind::kParentClosePolicy, id, now_);
    }
  }
}

void Mutation::SetSearchAttribute(const std::string& name, const v1::Payload& value) {
  (*next_.mutable_search_attributes())[name] = value;
  std::string text = value.data();
  try {
    text = nlohmann::json::parse(value.data()).dump();  // canonical, so equal values compare equal
  } catch (const nlohmann::json::exception&) {
  }
  search_attributes_.push_back({exec_id_, name, std::move(text)});
}

Mutation::Checkpoint Mutation::Save() const {
  return {next_,           batch_.events_size(), workflow_task_in_flight_, needs_workflow_task_,
          add_tasks_,      remove_tasks_,        handed_,                  add_timers_,
          remove_timers_,  search_attributes_};
}

void Mutation::Restore(Checkpoint saved) {
  next_ = std::move(saved.state);
  const int added = batch_.events_size() - saved.events;
  if (added > 0) batch_.mutable_events()->DeleteSubrange(saved.events, added);
  workflow_task_in_flight_ = saved.workflow_task_in_flight;
  needs_workflow_task_ = saved.needs_workflow_task;
  add_tasks_ = std::move(saved.add_tasks);
  remove_tasks_ = std::move(saved.remove_tasks);
  handed_ = std::move(saved.handed);
  add_timers_ = std::move(saved.add_timers);
  remove_timers_ = std::move(saved.remove_timers);
  search_attributes_ = std::move(saved.search_attributes);
}

store::Transition Mutation::Build(std::atomic<int64_t>& next_task_seq) {
  if (needs_workflow_task_) ScheduleWorkflowTask();
  needs_workflow_task_ = false;
  store::Transition t;
  if (batch_.events_size() > 0) {
    store::HistoryBatchRow h;
    h.exec_id = exec_id_;
    h.first_event_id = batch_.events(0).event_id();
    h.last_event_id = batch_.events(batch_.events_size() - 1).event_id();
    batch_.SerializeToString(&h.events);
    next_.set_history_size_bytes(next_.history_size_bytes() + static_cast<int64_t>(h.events.size()));
    t.history.push_back(std::move(h));
  }
  store::ExecutionRow row;
  row.exec_id = exec_id_;
  row.run_id = next_.run_id();
  row.namespace_name = next_.namespace_();
  row.workflow_id = next_.workflow_id();
  row.workflow_type = next_.workflow_type();
  row.task_queue = next_.task_queue();
  row.status = next_.status();
  row.start_time_us = ToMicros(FromProtoTime(next_.start_time()));
  row.close_time_us = next_.has_close_time() ? ToMicros(FromProtoTime(next_.close_time())) : 0;
  row.start_request_id = next_.start_request_id();
  row.history_length = next_.next_event_id() - 1;
  row.update_only = !new_run_;
  row.status_changed = new_run_ || next_.status() != initial_status_;
  next_.SerializeToString(&row.state);
  t.executions.push_back(std::move(row));
  for (auto& task : add_tasks_) task.seq = next_task_seq.fetch_add(1);
  t.remove_tasks = remove_tasks_;
  t.add_tasks = add_tasks_;
  t.remove_timers = remove_timers_;
  t.add_timers = add_timers_;
  t.search_attributes = search_attributes_;
  return t;
}

}  // namespace keel::core
