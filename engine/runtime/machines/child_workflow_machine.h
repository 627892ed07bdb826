// ChildWorkflowMachine: one child workflow the parent started, from its
// StartChildWorkflowExecution command to the child's outcome.
//
//  state          | input                                         | next           | effect
//  Created        | Cancel()                                      | Done           | drop the command; future <- ChildWorkflowFailure(CanceledError)
//  Created        | StartChildWorkflowExecutionInitiated (recorded) | Initiated    | remember the initiated event id
//  Initiated      | ChildWorkflowExecutionStarted                 | Started        | remember the child's run id
//  Initiated      | StartChildWorkflowExecutionFailed             | Done           | future <- ChildWorkflowFailure(ApplicationError "ChildWorkflowAlreadyExists")
//  Started        | ChildWorkflowExecutionCompleted               | Done           | future <- result
//  Started        | ChildWorkflowExecution{Failed,Canceled,TimedOut,Terminated} | Done | future <- ChildWorkflowFailure(cause)
//  Initiated      | Cancel()                                      | Initiated      | ask the child to cancel (RequestCancelExternal); the future waits for its outcome
//  Started        | Cancel()                                      | Started        | same
//  any other pair |                                               |                | NonDeterminismError
#pragma once

#include <memory>
#include <string>

#include "engine/errors.h"
#include "engine/future.h"
#include "engine/runtime/machines/command_machine.h"

namespace keel::internal {

class RunDriver;

class ChildWorkflowMachine final : public CommandMachine,
                                   public std::enable_shared_from_this<ChildWorkflowMachine> {
 public:
  enum class State { kCreated, kInitiated, kStarted, kDone };

  ChildWorkflowMachine(RunDriver& driver, std::string type, std::string workflow_id,
                       std::shared_ptr<PayloadSink> sink)
      : driver_(driver), type_(std::move(type)), workflow_id_(std::move(workflow_id)), sink_(std::move(sink)) {}

  void OnCommandRecorded(const v1::HistoryEvent& e) override;
  // A ChildWorkflowExecution* or StartChildWorkflowExecutionFailed event for this child.
  void OnEvent(const v1::HistoryEvent& e);
  void Cancel();

  State state() const { return state_; }
  bool done() const { return state_ == State::kDone; }

 private:
  [[noreturn]] void Mismatch(const v1::HistoryEvent& e, const char* why) const;
  void Fail(std::shared_ptr<const Error> cause);

  RunDriver& driver_;
  std::string type_;
  std::string workflow_id_;
  std::string run_id_;
  std::shared_ptr<PayloadSink> sink_;
  State state_ = State::kCreated;
  bool cancel_sent_ = false;
};

}  // namespace keel::internal
