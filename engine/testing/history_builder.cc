#include "engine/testing/history_builder.h"

#include <stdexcept>

#include "engine/history/convert.h"

namespace keel::testing {

HistoryBuilder::HistoryBuilder(std::string workflow_type, std::string workflow_id, std::string run_id)
    : now_(ManualClock::DefaultStart()) {
  proto_.set_namespace_("default");
  proto_.mutable_workflow_execution()->set_workflow_id(std::move(workflow_id));
  proto_.mutable_workflow_execution()->set_run_id(std::move(run_id));
  proto_.set_workflow_type(std::move(workflow_type));
}

v1::HistoryEvent* HistoryBuilder::Add() {
  auto* e = proto_.add_events();
  e->set_event_id(proto_.events_size());
  *e->mutable_event_time() = ToProtoTime(now_);
  return e;
}

int64_t HistoryBuilder::ScheduledId(const std::string& activity_id) const {
  auto it = activities_.find(activity_id);
  if (it == activities_.end()) throw std::invalid_argument("HistoryBuilder: no activity " + activity_id);
  return it->second;
}

HistoryBuilder& HistoryBuilder::AdvanceTime(Duration d) {
  now_ += d;
  return *this;
}

HistoryBuilder& HistoryBuilder::Started(const Payloads& input) {
  auto* a = Add()->mutable_workflow_execution_started();
  a->set_workflow_type(proto_.workflow_type());
  a->set_task_queue("default");
  *a->mutable_input() = ToProto(input);
  a->set_attempt(1);
  a->set_first_execution_run_id(proto_.workflow_execution().run_id());
  *a->mutable_workflow_task_timeout() = ToProtoDuration(std::chrono::seconds(10));
  return *this;
}

HistoryBuilder& HistoryBuilder::WorkflowTask() {
  return WorkflowTaskScheduled().WorkflowTaskStarted().WorkflowTaskCompleted();
}

HistoryBuilder& HistoryBuilder::WorkflowTaskScheduled() {
  auto* e = Add();
  auto* a = e->mutable_workflow_task_scheduled();
  a->set_task_queue("default");
  a->set_attempt(1);
  last_wft_scheduled_ = e->event_id();
  return *this;
}

HistoryBuilder& HistoryBuilder::WorkflowTaskStarted() {
  auto* e = Add();
  e->mutable_workflow_task_started()->set_scheduled_event_id(last_wft_scheduled_);
  e->mutable_workflow_task_started()->set_identity("test-worker");
  last_wft_started_ = e->event_id();
  return *this;
}

HistoryBuilder& HistoryBuilder::WorkflowTaskCompleted() {
  auto* e = Add();
  e->mutable_workflow_task_completed()->set_scheduled_event_id(last_wft_scheduled_);
  e->mutable_workflow_task_completed()->set_started_event_id(last_wft_started_);
  last_wft_completed_ = e->event_id();
  return *this;
}

HistoryBuilder& HistoryBuilder::WorkflowTaskFailed(const std::string& message) {
  auto* a = Add()->mutable_workflow_task_failed();
  a->set_scheduled_event_id(last_wft_scheduled_);
  a->set_started_event_id(last_wft_started_);
  a->set_cause(v1::WORKFLOW_TASK_FAILED_CAUSE_WORKFLOW_WORKER_UNHANDLED_FAILURE);
  a->mutable_failure()->set_message(message);
  return *this;
}

HistoryBuilder& HistoryBuilder::ActivityScheduled(const std::string& type, const Payloads& input,
                                                  std::string activity_id) {
  if (activity_id.empty()) activity_id = std::to_string(++activity_seq_);
  auto* e = Add();
  auto* a = e->mutable_activity_task_scheduled();
  a->set_activity_id(activity_id);
  a->set_activity_type(type);
  a->set_task_queue("default");
  *a->mutable_input() = ToProto(input);
  *a->mutable_start_to_close_timeout() = ToProtoDuration(std::chrono::seconds(30));
  a->set_workflow_task_completed_event_id(last_wft_completed_);
  activities_[activity_id] = e->event_id();
  return *this;
}

HistoryBuilder& HistoryBuilder::ActivityStarted(const std::string& activity_id, int attempt) {
  auto* a = Add()->mutable_activity_task_started();
  a->set_scheduled_event_id(ScheduledId(activity_id));
  a->set_attempt(attempt);
  a->set_identity("test-worker");
  return *this;
}

HistoryBuilder& HistoryBuilder::ActivityCompleted(const std::string& activity_id, const Payloads& result) {
  int64_t started = last_event_id();
  auto* a = Add()->mutable_activity_task_completed();
  a->set_scheduled_event_id(ScheduledId(activity_id));
  a->set_started_event_id(started);
  *a->mutable_result() = ToProto(result);
  return *this;
}

HistoryBuilder& HistoryBuilder::ActivityFailed(const std::string& activity_id, const std::string& error_type,
                                               const std::string& message, bool non_retryable) {
  int64_t started = last_event_id();
  auto* a = Add()->mutable_activity_task_failed();
  a->set_scheduled_event_id(ScheduledId(activity_id));
  a->set_started_event_id(started);
  a->mutable_failure()->set_message(message);
  a->mutable_failure()->mutable_application_failure_info()->set_type(error_type);
  a->mutable_failure()->mutable_application_failure_info()->set_non_retryable(non_retryable);
  a->set_retry_state(non_retryable ? v1::RETRY_STATE_NON_RETRYABLE_FAILURE
                                   : v1::RETRY_STATE_MAXIMUM_ATTEMPTS_REACHED);
  return *this;
}

HistoryBuilder& HistoryBuilder::ActivityCancelRequested(const std::string& activity_id) {
  auto* a = Add()->mutable_activity_task_cancel_requested();
  a->set_scheduled_event_id(ScheduledId(activity_id));
  a->set_workflow_task_completed_event_id(last_wft_completed_);
  return *this;
}

HistoryBuilder& HistoryBuilder::ActivityCanceled(const std::string& activity_id) {
  auto* a = Add()->mutable_activity_task_canceled();
  a->set_scheduled_event_id(ScheduledId(activity_id));
  return *this;
}

HistoryBuilder& HistoryBuilder::TimerStarted(const std::string& timer_id, Duration d) {
  auto* e = Add();
  auto* a = e->mutable_timer_started();
  a->set_timer_id(timer_id);
  *a->mutable_start_to_fire_timeout() = ToProtoDuration(d);
  a->set_workflow_task_completed_event_id(last_wft_completed_);
  timers_[timer_id] = e->event_id();
  return *this;
}

HistoryBuilder& HistoryBuilder::TimerFired(const std::string& timer_id) {
  auto* a = Add()->mutable_timer_fired();
  a->set_timer_id(timer_id);
  a->set_started_event_id(timers_.at(timer_id));
  return *this;
}

HistoryBuilder& HistoryBuilder::TimerCanceled(const std::string& timer_id) {
  auto* a = Add()->mutable_timer_canceled();
  a->set_timer_id(timer_id);
  a->set_started_event_id(timers_.at(timer_id));
  a->set_workflow_task_completed_event_id(last_wft_completed_);
  return *this;
}

HistoryBuilder& HistoryBuilder::Signaled(const std::string& name, const Payloads& input) {
  auto* a = Add()->mutable_workflow_execution_signaled();
  a->set_signal_name(name);
  *a->mutable_input() = ToProto(input);
  return *this;
}

HistoryBuilder& HistoryBuilder::CancelRequested() {
  Add()->mutable_workflow_execution_cancel_requested();
  return *this;
}

HistoryBuilder& HistoryBuilder::SideEffectMarker(int64_t seq, const Payload& value) {
  auto* a = Add()->mutable_marker_recorded();
  a->set_marker_name("SideEffect");
  *(*a->mutable_details())["id"].add_payloads() = ToProto(ToPayload(seq));
  *(*a->mutable_details())["data"].add_payloads() = ToProto(value);
  a->set_workflow_task_completed_event_id(last_wft_completed_);
  return *this;
}

HistoryBuilder& HistoryBuilder::Completed(const Payloads& result) {
  auto* a = Add()->mutable_workflow_execution_completed();
  *a->mutable_result() = ToProto(result);
  a->set_workflow_task_completed_event_id(last_wft_completed_);
  return *this;
}

HistoryBuilder& HistoryBuilder::Failed(const std::string& error_type, const std::string& message) {
  auto* a = Add()->mutable_workflow_execution_failed();
  a->mutable_failure()->set_message(message);
  a->mutable_failure()->mutable_application_failure_info()->set_type(error_type);
  a->set_workflow_task_completed_event_id(last_wft_completed_);
  return *this;
}

HistoryBuilder& HistoryBuilder::Canceled() {
  Add()->mutable_workflow_execution_canceled()->set_workflow_task_completed_event_id(last_wft_completed_);
  return *this;
}

}  // namespace keel::testing
