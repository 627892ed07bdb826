// TimerMachine: one durable timer (ctx.Sleep, a WaitUntil timeout).
//
//  state           | input                      | next            | effect
//  Created         | Cancel()                   | Done            | drop the command; future <- CanceledError
//  Created         | TimerStarted (recorded)    | Started         |
//  Started         | TimerFired                 | Done            | future <- ok
//  Started         | Cancel()                   | CancelCommanded | command CancelTimer; future <- CanceledError
//  CancelCommanded | TimerCanceled (recorded)   | Done            |
//  CancelCommanded | TimerFired                 | Done            | (same batch as the cancel) withdraw the unsent CancelTimer
//  any other pair  |                            |                 | NonDeterminismError
#pragma once

#include <memory>
#include <string>

#include "engine/future.h"
#include "engine/runtime/machines/command_machine.h"

namespace keel::internal {

class RunDriver;

class TimerMachine final : public CommandMachine, public std::enable_shared_from_this<TimerMachine> {
 public:
  enum class State { kCreated, kStarted, kCancelCommanded, kDone };

  TimerMachine(RunDriver& driver, std::string timer_id, std::shared_ptr<FutureState<void>> future)
      : driver_(driver), timer_id_(std::move(timer_id)), future_(std::move(future)) {}

  void OnCommandRecorded(const v1::HistoryEvent& e) override;
  void OnFired(const v1::HistoryEvent& e);
  void Cancel();

  State state() const { return state_; }
  bool done() const { return state_ == State::kDone; }
  const std::string& timer_id() const { return timer_id_; }

 private:
  RunDriver& driver_;
  std::string timer_id_;
  std::shared_ptr<FutureState<void>> future_;
  State state_ = State::kCreated;
};

}  // namespace keel::internal
