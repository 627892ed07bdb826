#include "engine/runtime/command_matching.h"

#include "engine/history/event_util.h"

namespace keel::internal {

namespace {

// A marker's identity: its sequence (side effects) or change id (patches).
std::string MarkerId(const google::protobuf::Map<std::string, v1::Payloads>& details) {
  for (const char* key : {"id", "patch_id"}) {
    auto it = details.find(key);
    if (it != details.end() && it->second.payloads_size() > 0) return it->second.payloads(0).data();
  }
  return "";
}

}  // namespace

bool CommandMatchesEvent(const v1::Command& c, const v1::HistoryEvent& e) {
  switch (c.attributes_case()) {
    case v1::Command::kScheduleActivityTask:
      return e.has_activity_task_scheduled() &&
             e.activity_task_scheduled().activity_id() == c.schedule_activity_task().activity_id() &&
             e.activity_task_scheduled().activity_type() == c.schedule_activity_task().activity_type();
    case v1::Command::kRequestCancelActivityTask:
      return e.has_activity_task_cancel_requested() &&
             e.activity_task_cancel_requested().scheduled_event_id() ==
                 c.request_cancel_activity_task().scheduled_event_id();
    case v1::Command::kStartTimer:
      return e.has_timer_started() && e.timer_started().timer_id() == c.start_timer().timer_id();
    case v1::Command::kCancelTimer:
      return e.has_timer_canceled() && e.timer_canceled().timer_id() == c.cancel_timer().timer_id();
    case v1::Command::kRecordMarker:
      return e.has_marker_recorded() &&
             e.marker_recorded().marker_name() == c.record_marker().marker_name() &&
             MarkerId(e.marker_recorded().details()) == MarkerId(c.record_marker().details());
    case v1::Command::kCompleteWorkflowExecution:
      return e.has_workflow_execution_completed();
    case v1::Command::kFailWorkflowExecution:
      return e.has_workflow_execution_failed();
    case v1::Command::kCancelWorkflowExecution:
      return e.has_workflow_execution_canceled();
    case v1::Command::kContinueAsNewWorkflowExecution:
      return e.has_workflow_execution_continued_as_new();
    case v1::Command::kUpsertWorkflowSearchAttributes:
      return e.has_upsert_workflow_search_attributes();
    case v1::Command::kStartChildWorkflowExecution:
      return e.has_start_child_workflow_execution_initiated() &&
             e.start_child_workflow_execution_initiated().workflow_id() ==
                 c.start_child_workflow_execution().workflow_id() &&
             e.start_child_workflow_execution_initiated().workflow_type() ==
                 c.start_child_workflow_execution().workflow_type();
    case v1::Command::kSignalExternalWorkflowExecution:
      return e.has_signal_external_workflow_execution_initiated() &&
             e.signal_external_workflow_execution_initiated().workflow_execution().workflow_id() ==
                 c.signal_external_workflow_execution().execution().workflow_id() &&
             e.signal_external_workflow_execution_initiated().signal_name() ==
                 c.signal_external_workflow_execution().signal_name();
    case v1::Command::kRequestCancelExternalWorkflowExecution:
      return e.has_request_cancel_external_workflow_execution_initiated() &&
             e.request_cancel_external_workflow_execution_initiated().workflow_execution().workflow_id() ==
                 c.request_cancel_external_workflow_execution().execution().workflow_id();
    case v1::Command::ATTRIBUTES_NOT_SET:
      return false;
  }
  return false;
}

std::string DescribeCommand(const v1::Command& c) {
  std::string s(CommandTypeName(c));
  switch (c.attributes_case()) {
    case v1::Command::kScheduleActivityTask:
      return s + "(type '" + c.schedule_activity_task().activity_type() + "', id '" +
             c.schedule_activity_task().activity_id() + "')";
    case v1::Command::kStartTimer:
      return s + "(id '" + c.start_timer().timer_id() + "')";
    case v1::Command::kCancelTimer:
      return s + "(id '" + c.cancel_timer().timer_id() + "')";
    case v1::Command::kRecordMarker:
      return s + "('" + c.record_marker().marker_name() + "' " + MarkerId(c.record_marker().details()) + ")";
    case v1::Command::kStartChildWorkflowExecution:
      return s + "(type '" + c.start_child_workflow_execution().workflow_type() + "', id '" +
             c.start_child_workflow_execution().workflow_id() + "')";
    case v1::Command::kSignalExternalWorkflowExecution:
      return s + "(workflow '" + c.signal_external_workflow_execution().execution().workflow_id() + "', signal '" +
             c.signal_external_workflow_execution().signal_name() + "')";
    default:
      return s;
  }
}

std::string DescribeEvent(const v1::HistoryEvent& e) {
  std::string s(EventTypeName(e));
  if (e.has_activity_task_scheduled()) {
    return s + "(type '" + e.activity_task_scheduled().activity_type() + "', id '" +
           e.activity_task_scheduled().activity_id() + "')";
  }
  if (e.has_timer_started()) return s + "(id '" + e.timer_started().timer_id() + "')";
  if (e.has_timer_canceled()) return s + "(id '" + e.timer_canceled().timer_id() + "')";
  if (e.has_marker_recorded()) {
    return s + "('" + e.marker_recorded().marker_name() + "' " + MarkerId(e.marker_recorded().details()) + ")";
  }
  if (e.has_start_child_workflow_execution_initiated()) {
    return s + "(type '" + e.start_child_workflow_execution_initiated().workflow_type() + "', id '" +
           e.start_child_workflow_execution_initiated().workflow_id() + "')";
  }
  return s;
}

}  // namespace keel::internal
