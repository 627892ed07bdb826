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

HistoryBuilder::Child& HistoryBuilder::ChildOf(const std::string& child_workflow_id) {
  auto it = children_.find(child_workflow_id);
  if (it == children_.end()) throw std::invalid_argument("HistoryBuilder: no child workflow " + child_workflow_id);
  return it->second;
}

int64_t HistoryBuilder::ExternalOf(const std::string& target_workflow_id) const {
  auto it = externals_.find(target_workflow_id);
  if (it == externals_.end()) {
    throw std::invalid_argument("HistoryBuilder: no request to workflow " + target_workflow_id);
  }
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

// ---- child workflows (as engine/core/commands.cc and cross_run.cc write them) ----

HistoryBuilder& HistoryBuilder::ChildWorkflowInitiated(const std::string& workflow_type,
                                                       const std::string& child_workflow_id,
                                                       const Payloads& input) {
  auto* e = Add();
  auto* a = e->mutable_start_child_workflow_execution_initiated();
  a->set_namespace_(proto_.namespace_());
  a->set_workflow_id(child_workflow_id);
  a->set_workflow_type(workflow_type);
  a->set_task_queue("default");
  *a->mutable_input() = ToProto(input);
  a->mutable_workflow_execution_timeout();
  a->mutable_workflow_run_timeout();
  a->mutable_workflow_task_timeout();
  a->set_parent_close_policy(v1::PARENT_CLOSE_POLICY_TERMINATE);
  a->set_workflow_task_completed_event_id(last_wft_completed_);
  children_[child_workflow_id] = Child{e->event_id(), workflow_type, ""};
  return *this;
}

HistoryBuilder& HistoryBuilder::ChildWorkflowStarted(const std::string& child_workflow_id,
                                                     const std::string& run_id) {
  Child& child = ChildOf(child_workflow_id);
  child.run_id = run_id;
  auto* a = Add()->mutable_child_workflow_execution_started();
  a->set_namespace_(proto_.namespace_());
  a->set_initiated_event_id(child.initiated_event_id);
  a->mutable_workflow_execution()->set_workflow_id(child_workflow_id);
  a->mutable_workflow_execution()->set_run_id(run_id);
  a->set_workflow_type(child.workflow_type);
  return *this;
}

template <typename A>
void HistoryBuilder::FillChildClose(A* a, const std::string& child_workflow_id) {
  const Child& child = ChildOf(child_workflow_id);
  a->set_namespace_(proto_.namespace_());
  a->mutable_workflow_execution()->set_workflow_id(child_workflow_id);
  a->mutable_workflow_execution()->set_run_id(child.run_id);
  a->set_workflow_type(child.workflow_type);
  a->set_initiated_event_id(child.initiated_event_id);
}

HistoryBuilder& HistoryBuilder::ChildWorkflowCompleted(const std::string& child_workflow_id,
                                                       const Payloads& result) {
  auto* a = Add()->mutable_child_workflow_execution_completed();
  FillChildClose(a, child_workflow_id);
  *a->mutable_result() = ToProto(result);
  return *this;
}

HistoryBuilder& HistoryBuilder::ChildWorkflowFailed(const std::string& child_workflow_id,
                                                    const std::string& error_type, const std::string& message) {
  auto* a = Add()->mutable_child_workflow_execution_failed();
  FillChildClose(a, child_workflow_id);
  a->mutable_failure()->set_message(message);
  a->mutable_failure()->mutable_application_failure_info()->set_type(error_type);
  a->set_retry_state(v1::RETRY_STATE_RETRY_POLICY_NOT_SET);  // what a failed run records
  return *this;
}

HistoryBuilder& HistoryBuilder::ChildWorkflowCanceled(const std::string& child_workflow_id,
                                                      const Payloads& details) {
  auto* a = Add()->mutable_child_workflow_execution_canceled();
  FillChildClose(a, child_workflow_id);
  *a->mutable_details() = ToProto(details);
  return *this;
}

HistoryBuilder& HistoryBuilder::ChildWorkflowTimedOut(const std::string& child_workflow_id) {
  auto* a = Add()->mutable_child_workflow_execution_timed_out();
  FillChildClose(a, child_workflow_id);
  a->set_retry_state(v1::RETRY_STATE_TIMEOUT);  // what a timed-out run records
  return *this;
}

HistoryBuilder& HistoryBuilder::ChildWorkflowTerminated(const std::string& child_workflow_id) {
  FillChildClose(Add()->mutable_child_workflow_execution_terminated(), child_workflow_id);
  return *this;
}

HistoryBuilder& HistoryBuilder::StartChildWorkflowFailed(const std::string& child_workflow_id,
                                                         const std::string& cause) {
  const Child& child = ChildOf(child_workflow_id);
  auto* a = Add()->mutable_start_child_workflow_execution_failed();
  a->set_namespace_(proto_.namespace_());
  a->set_workflow_id(child_workflow_id);
  a->set_workflow_type(child.workflow_type);
  a->set_cause(cause);
  a->set_initiated_event_id(child.initiated_event_id);
  return *this;
}

// ---- requests to other workflows ----

HistoryBuilder& HistoryBuilder::SignalExternalInitiated(const std::string& target_workflow_id,
                                                        const std::string& signal, const Payloads& input) {
  auto* e = Add();
  auto* a = e->mutable_signal_external_workflow_execution_initiated();
  a->set_workflow_task_completed_event_id(last_wft_completed_);
  a->set_namespace_(proto_.namespace_());
  a->mutable_workflow_execution()->set_workflow_id(target_workflow_id);
  a->set_signal_name(signal);
  *a->mutable_input() = ToProto(input);
  externals_[target_workflow_id] = e->event_id();
  return *this;
}

HistoryBuilder& HistoryBuilder::ExternalSignaled(const std::string& target_workflow_id) {
  auto* a = Add()->mutable_external_workflow_execution_signaled();
  a->set_initiated_event_id(ExternalOf(target_workflow_id));
  a->set_namespace_(proto_.namespace_());
  a->mutable_workflow_execution()->set_workflow_id(target_workflow_id);
  return *this;
}

HistoryBuilder& HistoryBuilder::SignalExternalFailed(const std::string& target_workflow_id,
                                                     const std::string& cause) {
  auto* a = Add()->mutable_signal_external_workflow_execution_failed();
  a->set_cause(cause);
  a->set_initiated_event_id(ExternalOf(target_workflow_id));
  a->set_namespace_(proto_.namespace_());
  a->mutable_workflow_execution()->set_workflow_id(target_workflow_id);
  return *this;
}

HistoryBuilder& HistoryBuilder::RequestCancelExternalInitiated(const std::string& target_workflow_id,
                                                               bool child_workflow_only) {
  auto* e = Add();
  auto* a = e->mutable_request_cancel_external_workflow_execution_initiated();
  a->set_workflow_task_completed_event_id(last_wft_completed_);
  a->set_namespace_(proto_.namespace_());
  a->mutable_workflow_execution()->set_workflow_id(target_workflow_id);
  a->set_child_workflow_only(child_workflow_only);
  externals_[target_workflow_id] = e->event_id();
  return *this;
}

HistoryBuilder& HistoryBuilder::ExternalCancelRequested(const std::string& target_workflow_id) {
  auto* a = Add()->mutable_external_workflow_execution_cancel_requested();
  a->set_initiated_event_id(ExternalOf(target_workflow_id));
  a->set_namespace_(proto_.namespace_());
  a->mutable_workflow_execution()->set_workflow_id(target_workflow_id);
  return *this;
}

HistoryBuilder& HistoryBuilder::RequestCancelExternalFailed(const std::string& target_workflow_id,
                                                            const std::string& cause) {
  auto* a = Add()->mutable_request_cancel_external_workflow_execution_failed();
  a->set_cause(cause);
  a->set_initiated_event_id(ExternalOf(target_workflow_id));
  a->set_namespace_(proto_.namespace_());
  a->mutable_workflow_execution()->set_workflow_id(target_workflow_id);
  return *this;
}

// ---- the run's own events ----

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

HistoryBuilder& HistoryBuilder::PatchMarker(const std::string& change_id, bool deprecated) {
  // As engine/runtime/markers.cc builds it.
  auto* a = Add()->mutable_marker_recorded();
  a->set_marker_name("Version");
  *(*a->mutable_details())["patch_id"].add_payloads() = ToProto(ToPayload(change_id));
  *(*a->mutable_details())["deprecated"].add_payloads() = ToProto(ToPayload(deprecated));
  a->set_workflow_task_completed_event_id(last_wft_completed_);
  return *this;
}

HistoryBuilder& HistoryBuilder::UpsertSearchAttributes(const std::map<std::string, nlohmann::json>& attributes) {
  auto* a = Add()->mutable_upsert_workflow_search_attributes();
  a->set_workflow_task_completed_event_id(last_wft_completed_);
  for (const auto& [name, value] : attributes) (*a->mutable_search_attributes())[name] = ToProto(JsonPayload(value));
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

HistoryBuilder& HistoryBuilder::ContinuedAsNew(const std::string& new_run_id, const Payloads& input) {
  auto* a = Add()->mutable_workflow_execution_continued_as_new();
  a->set_new_execution_run_id(new_run_id);
  a->set_workflow_type(proto_.workflow_type());
  a->set_task_queue("default");
  *a->mutable_input() = ToProto(input);
  a->mutable_workflow_run_timeout();
  a->mutable_workflow_task_timeout();
  a->set_workflow_task_completed_event_id(last_wft_completed_);
  return *this;
}

}  // namespace keel::testing
