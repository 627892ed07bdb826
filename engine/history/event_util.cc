#include "engine/history/event_util.h"

namespace keel {

using E = v1::HistoryEvent;

std::string_view EventTypeName(const v1::HistoryEvent& e) {
  switch (e.attributes_case()) {
    case E::kWorkflowExecutionStarted: return "WorkflowExecutionStarted";
    case E::kWorkflowExecutionCompleted: return "WorkflowExecutionCompleted";
    case E::kWorkflowExecutionFailed: return "WorkflowExecutionFailed";
    case E::kWorkflowExecutionTimedOut: return "WorkflowExecutionTimedOut";
    case E::kWorkflowExecutionCanceled: return "WorkflowExecutionCanceled";
    case E::kWorkflowExecutionTerminated: return "WorkflowExecutionTerminated";
    case E::kWorkflowExecutionContinuedAsNew: return "WorkflowExecutionContinuedAsNew";
    case E::kWorkflowExecutionCancelRequested: return "WorkflowExecutionCancelRequested";
    case E::kWorkflowExecutionSignaled: return "WorkflowExecutionSignaled";
    case E::kWorkflowTaskScheduled: return "WorkflowTaskScheduled";
    case E::kWorkflowTaskStarted: return "WorkflowTaskStarted";
    case E::kWorkflowTaskCompleted: return "WorkflowTaskCompleted";
    case E::kWorkflowTaskFailed: return "WorkflowTaskFailed";
    case E::kWorkflowTaskTimedOut: return "WorkflowTaskTimedOut";
    case E::kActivityTaskScheduled: return "ActivityTaskScheduled";
    case E::kActivityTaskStarted: return "ActivityTaskStarted";
    case E::kActivityTaskCompleted: return "ActivityTaskCompleted";
    case E::kActivityTaskFailed: return "ActivityTaskFailed";
    case E::kActivityTaskTimedOut: return "ActivityTaskTimedOut";
    case E::kActivityTaskCancelRequested: return "ActivityTaskCancelRequested";
    case E::kActivityTaskCanceled: return "ActivityTaskCanceled";
    case E::kTimerStarted: return "TimerStarted";
    case E::kTimerFired: return "TimerFired";
    case E::kTimerCanceled: return "TimerCanceled";
    case E::kMarkerRecorded: return "MarkerRecorded";
    case E::kUpsertWorkflowSearchAttributes: return "UpsertWorkflowSearchAttributes";
    case E::kStartChildWorkflowExecutionInitiated: return "StartChildWorkflowExecutionInitiated";
    case E::kStartChildWorkflowExecutionFailed: return "StartChildWorkflowExecutionFailed";
    case E::kChildWorkflowExecutionStarted: return "ChildWorkflowExecutionStarted";
    case E::kChildWorkflowExecutionCompleted: return "ChildWorkflowExecutionCompleted";
    case E::kChildWorkflowExecutionFailed: return "ChildWorkflowExecutionFailed";
    case E::kChildWorkflowExecutionCanceled: return "ChildWorkflowExecutionCanceled";
    case E::kChildWorkflowExecutionTimedOut: return "ChildWorkflowExecutionTimedOut";
    case E::kChildWorkflowExecutionTerminated: return "ChildWorkflowExecutionTerminated";
    case E::kSignalExternalWorkflowExecutionInitiated: return "SignalExternalWorkflowExecutionInitiated";
    case E::kSignalExternalWorkflowExecutionFailed: return "SignalExternalWorkflowExecutionFailed";
    case E::kExternalWorkflowExecutionSignaled: return "ExternalWorkflowExecutionSignaled";
    case E::kRequestCancelExternalWorkflowExecutionInitiated: return "RequestCancelExternalWorkflowExecutionInitiated";
    case E::kRequestCancelExternalWorkflowExecutionFailed: return "RequestCancelExternalWorkflowExecutionFailed";
    case E::kExternalWorkflowExecutionCancelRequested: return "ExternalWorkflowExecutionCancelRequested";
    case E::ATTRIBUTES_NOT_SET: break;
  }
  return "Unknown";
}

std::string_view CommandTypeName(const v1::Command& c) {
  using C = v1::Command;
  switch (c.attributes_case()) {
    case C::kScheduleActivityTask: return "ScheduleActivityTask";
    case C::kRequestCancelActivityTask: return "RequestCancelActivityTask";
    case C::kStartTimer: return "StartTimer";
    case C::kCancelTimer: return "CancelTimer";
    case C::kRecordMarker: return "RecordMarker";
    case C::kCompleteWorkflowExecution: return "CompleteWorkflowExecution";
    case C::kFailWorkflowExecution: return "FailWorkflowExecution";
    case C::kCancelWorkflowExecution: return "CancelWorkflowExecution";
    case C::kContinueAsNewWorkflowExecution: return "ContinueAsNewWorkflowExecution";
    case C::kStartChildWorkflowExecution: return "StartChildWorkflowExecution";
    case C::kSignalExternalWorkflowExecution: return "SignalExternalWorkflowExecution";
    case C::kRequestCancelExternalWorkflowExecution: return "RequestCancelExternalWorkflowExecution";
    case C::kUpsertWorkflowSearchAttributes: return "UpsertWorkflowSearchAttributes";
    case C::ATTRIBUTES_NOT_SET: break;
  }
  return "Unknown";
}

bool IsCommandEvent(const v1::HistoryEvent& e) {
  switch (e.attributes_case()) {
    case E::kActivityTaskScheduled:
    case E::kActivityTaskCancelRequested:
    case E::kTimerStarted:
    case E::kTimerCanceled:
    case E::kMarkerRecorded:
    case E::kUpsertWorkflowSearchAttributes:
    case E::kWorkflowExecutionCompleted:
    case E::kWorkflowExecutionFailed:
    case E::kWorkflowExecutionCanceled:
    case E::kWorkflowExecutionContinuedAsNew:
    case E::kStartChildWorkflowExecutionInitiated:
    case E::kSignalExternalWorkflowExecutionInitiated:
    case E::kRequestCancelExternalWorkflowExecutionInitiated:
      return true;
    default:
      return false;
  }
}

bool IsCloseEvent(const v1::HistoryEvent& e) {
  switch (e.attributes_case()) {
    case E::kWorkflowExecutionCompleted:
    case E::kWorkflowExecutionFailed:
    case E::kWorkflowExecutionTimedOut:
    case E::kWorkflowExecutionCanceled:
    case E::kWorkflowExecutionTerminated:
    case E::kWorkflowExecutionContinuedAsNew:
      return true;
    default:
      return false;
  }
}

int64_t InitiatedEventId(const v1::HistoryEvent& e) {
  switch (e.attributes_case()) {
    case E::kChildWorkflowExecutionStarted: return e.child_workflow_execution_started().initiated_event_id();
    case E::kStartChildWorkflowExecutionFailed: return e.start_child_workflow_execution_failed().initiated_event_id();
    case E::kChildWorkflowExecutionCompleted: return e.child_workflow_execution_completed().initiated_event_id();
    case E::kChildWorkflowExecutionFailed: return e.child_workflow_execution_failed().initiated_event_id();
    case E::kChildWorkflowExecutionCanceled: return e.child_workflow_execution_canceled().initiated_event_id();
    case E::kChildWorkflowExecutionTimedOut: return e.child_workflow_execution_timed_out().initiated_event_id();
    case E::kChildWorkflowExecutionTerminated: return e.child_workflow_execution_terminated().initiated_event_id();
    case E::kExternalWorkflowExecutionSignaled: return e.external_workflow_execution_signaled().initiated_event_id();
    case E::kSignalExternalWorkflowExecutionFailed:
      return e.signal_external_workflow_execution_failed().initiated_event_id();
    case E::kExternalWorkflowExecutionCancelRequested:
      return e.external_workflow_execution_cancel_requested().initiated_event_id();
    case E::kRequestCancelExternalWorkflowExecutionFailed:
      return e.request_cancel_external_workflow_execution_failed().initiated_event_id();
    default: return 0;
  }
}

}  // namespace keel
