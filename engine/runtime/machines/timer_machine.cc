#include "engine/runtime/machines/timer_machine.h"

#include "engine/errors.h"
#include "engine/history/event_util.h"
#include "engine/runtime/run_driver.h"

namespace keel::internal {

namespace {
[[noreturn]] void Mismatch(const v1::HistoryEvent& e, const std::string& timer_id, const char* why) {
  throw NonDeterminismError(e.event_id(), "history event " + std::to_string(e.event_id()) + " (" +
                                              std::string(EventTypeName(e)) + ") " + why +
                                              " for timer " + timer_id);
}
}  // namespace

void TimerMachine::OnCommandRecorded(const v1::HistoryEvent& e) {
  if (state_ == State::kCreated && e.has_timer_started()) {
    state_ = State::kStarted;
  } else if (state_ == State::kCancelCommanded && e.has_timer_canceled()) {
    state_ = State::kDone;
  } else {
    Mismatch(e, timer_id_, "does not fit the timer's state");
  }
}

void TimerMachine::OnFired(const v1::HistoryEvent& e) {
  if (state_ == State::kCancelCommanded) {
    // Fired in the same batch as whatever cancelled it, before the cancel was sent.
    driver_.DropCommand(this);
    state_ = State::kDone;
    return;
  }
  if (state_ != State::kStarted) Mismatch(e, timer_id_, "arrived for a timer that is not running");
  state_ = State::kDone;
  future_->Resolve();
}

void TimerMachine::Cancel() {
  switch (state_) {
    case State::kCreated:
      driver_.DropCommand(this);
      state_ = State::kDone;
      future_->Reject(std::make_exception_ptr(CanceledError("timer canceled")));
      return;
    case State::kStarted: {
      v1::Command c;
      c.mutable_cancel_timer()->set_timer_id(timer_id_);
      driver_.AddCommand(std::move(c), shared_from_this());
      state_ = State::kCancelCommanded;
      future_->Reject(std::make_exception_ptr(CanceledError("timer canceled")));
      return;
    }
    default:
      return;
  }
}

}  // namespace keel::internal
