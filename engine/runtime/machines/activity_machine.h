// ActivityMachine: one activity the workflow scheduled, from its ScheduleActivityTask
// command to its outcome.
//
//  state           | input                                      | next            | effect
//  Created         | Cancel()                                   | Done            | drop the command; future <- ActivityFailure(CanceledError)
//  Created         | ActivityTaskScheduled (recorded)           | Scheduled       | remember the scheduled event id
//  Scheduled       | ActivityTaskStarted                        | Started         |
//  Scheduled       | Completed / Failed / TimedOut / Canceled   | Done            | future <- result / ActivityFailure
//  Started         | Completed / Failed / TimedOut / Canceled   | Done            | future <- result / ActivityFailure
//  Scheduled       | Cancel()                                   | CancelCommanded | command RequestCancelActivityTask; future <- ActivityFailure(CanceledError) (try-cancel)
//  Started         | Cancel()                                   | CancelCommanded | same
//  CancelCommanded | ActivityTaskCancelRequested (recorded)     | CancelRecorded  |
//  CancelCommanded | ActivityTaskStarted                        | CancelCommanded | (same batch as the cancel)
//  CancelCommanded | Completed / Failed / TimedOut / Canceled   | Done            | withdraw the unsent cancel command; wait mode: future <- the outcome
//  CancelRecorded  | ActivityTaskStarted                        | CancelRecorded  |
//  CancelRecorded  | Completed / Failed / TimedOut / Canceled   | Done            | try-cancel: ignored (the future already failed);
//                  |                                            |                 | wait-for-cancellation: future <- the outcome
//  any other pair  |                                            |                 | NonDeterminismError
#pragma once

#include <memory>
#include <string>

#include "engine/future.h"
#include "engine/runtime/machines/command_machine.h"

namespace keel::internal {

class RunDriver;

class ActivityMachine final : public CommandMachine,
                              public std::enable_shared_from_this<ActivityMachine> {
 public:
  enum class State { kCreated, kScheduled, kStarted, kCancelCommanded, kCancelRecorded, kDone };

  // `wait_for_cancellation`: ActivityCancellation::kWaitCancellationCompleted.
  ActivityMachine(RunDriver& driver, std::string type, std::string id,
                  std::shared_ptr<PayloadSink> sink, bool wait_for_cancellation = false);

  void OnCommandRecorded(const v1::HistoryEvent& e) override;
  // An ActivityTask{Started,Completed,Failed,TimedOut,Canceled} event for this activity.
  void OnEvent(const v1::HistoryEvent& e);
  void Cancel();

  State state() const { return state_; }
  bool done() const { return state_ == State::kDone; }
  int64_t scheduled_event_id() const { return scheduled_event_id_; }

 private:
  void Fail(const v1::HistoryEvent& e, const std::string& why);
  void Resolve(const v1::HistoryEvent& e);
  std::exception_ptr Canceled() const;

  RunDriver& driver_;
  std::string type_;
  std::string id_;
  std::shared_ptr<PayloadSink> sink_;
  State state_ = State::kCreated;
  int64_t scheduled_event_id_ = 0;
  bool wait_for_cancellation_;
};

}  // namespace keel::internal
