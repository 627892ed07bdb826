// ExternalRequestMachine: a signal or cancel request this workflow sends to another
// workflow, from its command to the engine's report of delivery.
//
//  state          | input                                                     | next      | effect
//  Created        | Cancel()                                                  | Done      | drop the command; future <- CanceledError
//  Created        | {SignalExternal,RequestCancelExternal}...Initiated (recorded) | Initiated |
//  Initiated      | ExternalWorkflowExecution{Signaled,CancelRequested}       | Done      | future <- ok
//  Initiated      | {SignalExternal,RequestCancelExternal}...Failed           | Done      | future <- ApplicationError("ExternalWorkflowNotFound")
//  any other pair |                                                           |           | NonDeterminismError
#pragma once

#include <memory>
#include <string>

#include "engine/future.h"
#include "engine/runtime/machines/command_machine.h"

namespace keel::internal {

class RunDriver;

class ExternalRequestMachine final : public CommandMachine,
                                     public std::enable_shared_from_this<ExternalRequestMachine> {
 public:
  enum class State { kCreated, kInitiated, kDone };

  ExternalRequestMachine(RunDriver& driver, std::string target, std::shared_ptr<FutureState<void>> future)
      : driver_(driver), target_(std::move(target)), future_(std::move(future)) {}

  void OnCommandRecorded(const v1::HistoryEvent& e) override;
  void OnEvent(const v1::HistoryEvent& e);
  void Cancel();
  bool done() const { return state_ == State::kDone; }

 private:
  RunDriver& driver_;
  std::string target_;
  std::shared_ptr<FutureState<void>> future_;
  State state_ = State::kCreated;
};

}  // namespace keel::internal
