#include "engine/runtime/machines/child_workflow_machine.h"

#include "engine/history/convert.h"
#include "engine/history/event_util.h"
#include "engine/runtime/failure_convert.h"
#include "engine/runtime/run_driver.h"

namespace keel::internal {

void ChildWorkflowMachine::Mismatch(const v1::HistoryEvent& e, const char* why) const {
  throw NonDeterminismError(e.event_id(), "history event " + std::to_string(e.event_id()) + " (" +
                                              std::string(EventTypeName(e)) + ") " + why + " for child workflow '" +
                                              type_ + "' (id " + workflow_id_ + ")");
}

void ChildWorkflowMachine::Fail(std::shared_ptr<const Error> cause) {
  state_ = State::kDone;
  sink_->SetError(std::make_exception_ptr(ChildWorkflowFailure(type_, workflow_id_, run_id_, std::move(cause))));
}

void ChildWorkflowMachine::OnCommandRecorded(const v1::HistoryEvent& e) {
  if (state_ != State::kCreated || !e.has_start_child_workflow_execution_initiated()) {
    Mismatch(e, "does not fit the child's state");
  }
  state_ = State::kInitiated;
  driver_.RegisterChild(e.event_id(), shared_from_this());
}

void ChildWorkflowMachine::OnEvent(const v1::HistoryEvent& e) {
  if (e.has_child_workflow_execution_started()) {
    if (state_ != State::kInitiated) Mismatch(e, "is a second start");
    state_ = State::kStarted;
    run_id_ = e.child_workflow_execution_started().workflow_execution().run_id();
    return;
  }
  if (e.has_start_child_workflow_execution_failed()) {
    if (state_ != State::kInitiated) Mismatch(e, "arrived after the child started");
    return Fail(std::make_shared<ApplicationError>(
        "ChildWorkflowAlreadyExists",
        "child workflow id " + workflow_id_ + " could not be started: " + e.start_child_workflow_execution_failed().cause(),
        ApplicationErrorOptions{.non_retryable = true}));
  }
  if (state_ != State::kStarted) Mismatch(e, "arrived for a child that is not running");
  if (e.has_child_workflow_execution_completed()) {
    state_ = State::kDone;
    sink_->SetPayloads(FromProto(e.child_workflow_execution_completed().result()));
  } else if (e.has_child_workflow_execution_failed()) {
    Fail(FailureToError(e.child_workflow_execution_failed().failure()));
  } else if (e.has_child_workflow_execution_canceled()) {
    Fail(std::make_shared<CanceledError>("child workflow canceled",
                                         FromProto(e.child_workflow_execution_canceled().details())));
  } else if (e.has_child_workflow_execution_timed_out()) {
    Fail(std::make_shared<TimeoutError>(TimeoutType::kScheduleToClose, "child workflow timed out"));
  } else if (e.has_child_workflow_execution_terminated()) {
    Fail(std::make_shared<TerminatedError>("child workflow terminated"));
  } else {
    Mismatch(e, "is not a child workflow outcome");
  }
}

void ChildWorkflowMachine::Cancel() {
  switch (state_) {
    case State::kCreated:
      driver_.DropCommand(this);
      Fail(std::make_shared<CanceledError>("child workflow canceled before it started"));
      return;
    case State::kInitiated:
    case State::kStarted:
      if (!cancel_sent_) {
        cancel_sent_ = true;
        (void)driver_.RequestCancelExternal(workflow_id_, "", /*child_only=*/true, /*detached=*/true);
      }
      return;
    case State::kDone:
      return;
  }
}

}  // namespace keel::internal
