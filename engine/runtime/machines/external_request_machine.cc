#include "engine/runtime/machines/external_request_machine.h"

#include "engine/errors.h"
#include "engine/history/event_util.h"
#include "engine/runtime/run_driver.h"

namespace keel::internal {

namespace {
[[noreturn]] void Mismatch(const v1::HistoryEvent& e, const std::string& target) {
  throw NonDeterminismError(e.event_id(), "history event " + std::to_string(e.event_id()) + " (" +
                                              std::string(EventTypeName(e)) +
                                              ") does not fit the request to workflow " + target);
}
}  // namespace

void ExternalRequestMachine::OnCommandRecorded(const v1::HistoryEvent& e) {
  if (state_ != State::kCreated || !(e.has_signal_external_workflow_execution_initiated() ||
                                     e.has_request_cancel_external_workflow_execution_initiated())) {
    Mismatch(e, target_);
  }
  state_ = State::kInitiated;
  driver_.RegisterExternal(e.event_id(), shared_from_this());
}

void ExternalRequestMachine::OnEvent(const v1::HistoryEvent& e) {
  if (state_ != State::kInitiated) Mismatch(e, target_);
  state_ = State::kDone;
  if (e.has_external_workflow_execution_signaled() || e.has_external_workflow_execution_cancel_requested()) {
    future_->Resolve();
    return;
  }
  std::string cause = e.has_signal_external_workflow_execution_failed()
                          ? e.signal_external_workflow_execution_failed().cause()
                          : e.request_cancel_external_workflow_execution_failed().cause();
  future_->Reject(std::make_exception_ptr(ApplicationError(
      "ExternalWorkflowNotFound", "workflow " + target_ + " could not be reached: " + cause,
      ApplicationErrorOptions{.non_retryable = true})));
}

void ExternalRequestMachine::Cancel() {
  if (state_ != State::kCreated) return;  // already sent: it will be delivered
  driver_.DropCommand(this);
  state_ = State::kDone;
  future_->Reject(std::make_exception_ptr(CanceledError("request canceled before it was sent")));
}

}  // namespace keel::internal
