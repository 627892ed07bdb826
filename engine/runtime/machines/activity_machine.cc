#include "engine/runtime/machines/activity_machine.h"

#include "engine/history/convert.h"
#include "engine/history/event_util.h"
#include "engine/runtime/failure_convert.h"
#include "engine/runtime/run_driver.h"

namespace keel::internal {

ActivityMachine::ActivityMachine(RunDriver& driver, std::string type, std::string id,
                                 std::shared_ptr<PayloadSink> sink, bool wait_for_cancellation)
    : driver_(driver),
      type_(std::move(type)),
      id_(std::move(id)),
      sink_(std::move(sink)),
      wait_for_cancellation_(wait_for_cancellation) {}

void ActivityMachine::Fail(const v1::HistoryEvent& e, const std::string& why) {
  throw NonDeterminismError(e.event_id(), "history event " + std::to_string(e.event_id()) + " (" +
                                              std::string(EventTypeName(e)) + ") " + why +
                                              " for activity '" + type_ + "' (id " + id_ + ")");
}

std::exception_ptr ActivityMachine::Canceled() const {
  return std::make_exception_ptr(ActivityFailure(type_, id_, RetryState::kCancelRequested,
                                                 std::make_shared<CanceledError>("activity canceled")));
}

void ActivityMachine::OnCommandRecorded(const v1::HistoryEvent& e) {
  if (state_ == State::kCreated && e.has_activity_task_scheduled()) {
    state_ = State::kScheduled;
    scheduled_event_id_ = e.event_id();
    driver_.RegisterActivity(scheduled_event_id_, shared_from_this());
  } else if (state_ == State::kCancelCommanded && e.has_activity_task_cancel_requested()) {
    state_ = State::kCancelRecorded;
  } else {
    Fail(e, "does not fit state " + std::to_string(static_cast<int>(state_)));
  }
}

void ActivityMachine::OnEvent(const v1::HistoryEvent& e) {
  if (state_ == State::kCancelCommanded) {
    // The outcome arrived in the same batch as whatever asked for the cancel, before the
    // cancel was sent: it is moot. Withdraw it.
    if (e.has_activity_task_started()) return;
    driver_.DropCommand(this);
    state_ = State::kDone;
    if (wait_for_cancellation_) Resolve(e);
    return;
  }
  const bool live = state_ == State::kScheduled || state_ == State::kStarted;
  const bool after_cancel = state_ == State::kCancelRecorded;
  if (!live && !after_cancel) Fail(e, "arrived after the activity ended");
  if (e.has_activity_task_started()) {
    if (state_ == State::kScheduled) state_ = State::kStarted;
    else if (!after_cancel) Fail(e, "is a second start");
    return;
  }
  state_ = State::kDone;
  if (after_cancel && !wait_for_cancellation_) return;  // the future already failed
  Resolve(e);
}

void ActivityMachine::Resolve(const v1::HistoryEvent& e) {
  if (e.has_activity_task_completed()) {
    sink_->SetPayloads(FromProto(e.activity_task_completed().result()));
  } else if (e.has_activity_task_failed()) {
    const auto& a = e.activity_task_failed();
    sink_->SetError(std::make_exception_ptr(ActivityFailure(
        type_, id_, static_cast<RetryState>(a.retry_state()), FailureToError(a.failure()))));
  } else if (e.has_activity_task_timed_out()) {
    const auto& a = e.activity_task_timed_out();
    sink_->SetError(std::make_exception_ptr(ActivityFailure(
        type_, id_, static_cast<RetryState>(a.retry_state()), FailureToError(a.failure()))));
  } else if (e.has_activity_task_canceled()) {
    sink_->SetError(Canceled());
  } else {
    Fail(e, "is not an activity outcome");
  }
}

void ActivityMachine::Cancel() {
  switch (state_) {
    case State::kCreated:
      driver_.DropCommand(this);
      state_ = State::kDone;
      sink_->SetError(Canceled());
      return;
    case State::kScheduled:
    case State::kStarted: {
      v1::Command c;
      c.mutable_request_cancel_activity_task()->set_scheduled_event_id(scheduled_event_id_);
      driver_.AddCommand(std::move(c), shared_from_this());
      state_ = State::kCancelCommanded;
      if (!wait_for_cancellation_) sink_->SetError(Canceled());
      return;
    }
    default:
      return;
  }
}

}  // namespace keel::internal
