// The operations workflow code starts through WorkflowContext: each creates a state
// machine (machines/), issues its command and hands back the future the code awaits.
#include <algorithm>

#include "engine/history/convert.h"
#include "engine/runtime/machines/activity_machine.h"
#include "engine/runtime/machines/child_workflow_machine.h"
#include "engine/runtime/machines/external_request_machine.h"
#include "engine/runtime/machines/signal_wait_machine.h"
#include "engine/runtime/machines/timer_machine.h"
#include "engine/runtime/markers.h"
#include "engine/runtime/run_driver.h"

namespace keel::internal {

namespace {

Duration Positive(Duration d) { return d < Duration::zero() ? Duration::zero() : d; }

std::exception_ptr WorkflowCanceled() { return std::make_exception_ptr(CanceledError("workflow canceled")); }

// Cancels the machine behind a future when the future is cancelled (WhenAny losers,
// workflow cancellation).
template <typename M>
void CancelThrough(FutureStateBase& state, const std::shared_ptr<M>& machine) {
  std::weak_ptr<M> weak = machine;
  state.SetCanceler([weak] {
    if (auto m = weak.lock()) m->Cancel();
  });
}

}  // namespace

void RunDriver::StartActivity(const std::string& type, const ActivityOptions& o, Payloads input,
                              std::shared_ptr<PayloadSink> sink, bool detached) {
  RejectInQuery("ExecuteActivity");
  std::string id = o.activity_id.empty() ? std::to_string(++activity_seq_) : o.activity_id;
  if (cancel_requested_ && !detached) {
    sink->SetError(std::make_exception_ptr(ActivityFailure(type, id, RetryState::kCancelRequested,
                                                           std::make_shared<CanceledError>("workflow canceled"))));
    return;
  }
  if (o.start_to_close <= Duration::zero() && o.schedule_to_close <= Duration::zero()) {
    throw std::invalid_argument("ExecuteActivity('" + type +
                                "'): set ActivityOptions::start_to_close (or schedule_to_close)");
  }
  v1::Command c;
  auto* a = c.mutable_schedule_activity_task();
  a->set_activity_id(id);
  a->set_activity_type(type);
  a->set_task_queue(o.task_queue);
  *a->mutable_input() = ToProto(input);
  *a->mutable_start_to_close_timeout() = ToProtoDuration(Positive(o.start_to_close));
  *a->mutable_schedule_to_close_timeout() = ToProtoDuration(Positive(o.schedule_to_close));
  *a->mutable_schedule_to_start_timeout() = ToProtoDuration(Positive(o.schedule_to_start));
  *a->mutable_heartbeat_timeout() = ToProtoDuration(Positive(o.heartbeat));
  auto* r = a->mutable_retry_policy();
  *r->mutable_initial_interval() = ToProtoDuration(Positive(o.retry.initial_interval));
  r->set_backoff_coefficient(o.retry.backoff_coefficient);
  *r->mutable_maximum_interval() = ToProtoDuration(Positive(o.retry.maximum_interval));
  r->set_maximum_attempts(o.retry.maximum_attempts);
  for (const auto& t : o.retry.non_retryable) r->add_non_retryable_error_types(t);

  auto m = std::make_shared<ActivityMachine>(*this, type, id, sink,
                                             o.cancellation == ActivityCancellation::kWaitCancellationCompleted);
  Track(std::shared_ptr<FutureStateBase>(sink, &sink->state()), detached);
  CancelThrough(sink->state(), m);
  AddCommand(std::move(c), m);
}

std::shared_ptr<FutureState<void>> RunDriver::StartTimer(Duration d, bool detached) {
  RejectInQuery("Sleep");
  auto future = std::make_shared<FutureState<void>>(&scheduler_);
  if (cancel_requested_ && !detached) {
    future->Reject(WorkflowCanceled());
    return future;
  }
  std::string id = std::to_string(++timer_seq_);
  v1::Command c;
  c.mutable_start_timer()->set_timer_id(id);
  *c.mutable_start_timer()->mutable_start_to_fire_timeout() = ToProtoDuration(Positive(d));
  auto m = std::make_shared<TimerMachine>(*this, id, future);
  timers_[id] = m;
  Track(future, detached);
  std::weak_ptr<TimerMachine> weak = m;
  future->SetCanceler([this, weak, id] {
    if (auto mm = weak.lock()) {
      mm->Cancel();
      // Kept until its cancel is sent: a TimerFired in the same batch withdraws it.
      if (!mm->done()) cancelled_timers_[id] = mm;
      timers_.erase(id);
    }
  });
  AddCommand(std::move(c), m);
  return future;
}

void RunDriver::StartChild(const std::string& type, const ChildWorkflowOptions& o, Payloads input,
                           std::shared_ptr<PayloadSink> sink, bool detached) {
  RejectInQuery("ExecuteChildWorkflow");
  ++child_seq_;
  std::string id = o.id.empty() ? info_.workflow_id + "/" + info_.run_id.substr(0, 8) + "/" + type + "-" +
                                      std::to_string(child_seq_)
                                : o.id;
  if (cancel_requested_ && !detached) {
    sink->SetError(std::make_exception_ptr(
        ChildWorkflowFailure(type, id, "", std::make_shared<CanceledError>("workflow canceled"))));
    return;
  }
  v1::Command c;
  auto* a = c.mutable_start_child_workflow_execution();
  a->set_workflow_id(id);
  a->set_workflow_type(type);
  a->set_task_queue(o.task_queue);
  *a->mutable_input() = ToProto(input);
  if (o.execution_timeout > Duration::zero()) *a->mutable_workflow_execution_timeout() = ToProtoDuration(o.execution_timeout);
  if (o.run_timeout > Duration::zero()) *a->mutable_workflow_run_timeout() = ToProtoDuration(o.run_timeout);
  if (o.task_timeout > Duration::zero()) *a->mutable_workflow_task_timeout() = ToProtoDuration(o.task_timeout);
  a->set_parent_close_policy(static_cast<v1::ParentClosePolicy>(o.parent_close_policy));
  auto m = std::make_shared<ChildWorkflowMachine>(*this, type, id, sink);
  Track(std::shared_ptr<FutureStateBase>(sink, &sink->state()), detached);
  CancelThrough(sink->state(), m);
  AddCommand(std::move(c), m);
}

std::shared_ptr<FutureState<void>> RunDriver::SignalExternal(const std::string& workflow_id,
                                                             const std::string& run_id, const std::string& name,
                                                             Payloads input, bool detached) {
  RejectInQuery("SignalExternalWorkflow");
  auto future = std::make_shared<FutureState<void>>(&scheduler_);
  if (cancel_requested_ && !detached) {
    future->Reject(WorkflowCanceled());
    return future;
  }
  v1::Command c;
  auto* a = c.mutable_signal_external_workflow_execution();
  a->mutable_execution()->set_workflow_id(workflow_id);
  a->mutable_execution()->set_run_id(run_id);
  a->set_signal_name(name);
  *a->mutable_input() = ToProto(input);
  auto m = std::make_shared<ExternalRequestMachine>(*this, workflow_id, future);
  Track(future, detached);
  CancelThrough(*future, m);
  AddCommand(std::move(c), m);
  return future;
}

std::shared_ptr<FutureState<void>> RunDriver::RequestCancelExternal(const std::string& workflow_id,
                                                                    const std::string& run_id, bool child_only,
                                                                    bool detached) {
  RejectInQuery("RequestCancelExternalWorkflow");
  auto future = std::make_shared<FutureState<void>>(&scheduler_);
  if (cancel_requested_ && !detached) {
    future->Reject(WorkflowCanceled());
    return future;
  }
  v1::Command c;
  auto* a = c.mutable_request_cancel_external_workflow_execution();
  a->mutable_execution()->set_workflow_id(workflow_id);
  a->mutable_execution()->set_run_id(run_id);
  a->set_child_workflow_only(child_only);
  auto m = std::make_shared<ExternalRequestMachine>(*this, workflow_id, future);
  Track(future, detached);
  CancelThrough(*future, m);
  AddCommand(std::move(c), m);
  return future;
}

void RunDriver::WaitSignal(const std::string& name, std::shared_ptr<PayloadSink> sink, bool detached) {
  RejectInQuery("WaitSignal");
  auto& buffer = signal_buffer_[name];
  if (!buffer.empty()) {
    Payloads input = std::move(buffer.front());
    buffer.pop_front();
    sink->SetPayloads(input);
    return;
  }
  if (cancel_requested_ && !detached) {
    sink->SetError(WorkflowCanceled());
    return;
  }
  auto m = std::make_shared<SignalWaitMachine>(*this, name, sink);
  signal_waiters_[name].push_back(m);
  Track(std::shared_ptr<FutureStateBase>(sink, &sink->state()), detached);
  CancelThrough(sink->state(), m);
}

void RunDriver::RemoveSignalWaiter(const std::string& name, const SignalWaitMachine* m) {
  auto& q = signal_waiters_[name];
  q.erase(std::remove_if(q.begin(), q.end(), [m](const auto& p) { return p.get() == m; }), q.end());
}

void RunDriver::OnSignal(const std::string& name, std::function<void(const Payloads&)> handler) {
  RejectInQuery("OnSignal");
  signal_handlers_[name] = handler;
  auto& buffer = signal_buffer_[name];
  while (!buffer.empty()) {
    Payloads input = std::move(buffer.front());
    buffer.pop_front();
    handler(input);
  }
}

void RunDriver::OnQuery(const std::string& name, std::function<Payloads(const Payloads&)> handler) {
  RejectInQuery("OnQuery");
  query_handlers_[name] = std::move(handler);
}

void RunDriver::DeliverSignal(const std::string& name, const Payloads& input) {
  auto h = signal_handlers_.find(name);
  if (h != signal_handlers_.end()) {
    // Handlers run as their event is applied, so state changes happen in event order
    // (a WaitUntil timeout later in the same batch sees them).
    auto handler = h->second;
    handler(input);
    return;
  }
  auto& waiters = signal_waiters_[name];
  if (!waiters.empty()) {
    auto m = waiters.front();
    waiters.pop_front();
    m->Deliver(input);
    return;
  }
  signal_buffer_[name].push_back(input);
}

std::shared_ptr<FutureState<bool>> RunDriver::WaitUntil(std::function<bool()> condition,
                                                        std::optional<Duration> timeout, bool detached) {
  RejectInQuery("WaitUntil");
  auto result = std::make_shared<FutureState<bool>>(&scheduler_);
  if (condition()) {
    result->Resolve(true);
    return result;
  }
  if (cancel_requested_ && !detached) {
    result->Reject(WorkflowCanceled());
    return result;
  }
  Track(result, detached);
  std::weak_ptr<FutureState<bool>> weak_result = result;
  result->SetCanceler([weak_result] {
    if (auto r = weak_result.lock()) r->Reject(WorkflowCanceled());
  });
  Condition c{std::move(condition), result, nullptr};
  if (timeout) {
    c.timer = StartTimer(*timeout, detached);
    // When the timeout fires, the condition gets a last look: state changed by events
    // before the TimerFired in the same batch counts.
    c.timer->OnReady([weak_result, check = c.check, timer = std::weak_ptr<FutureState<void>>(c.timer)] {
      auto r = weak_result.lock();
      auto t = timer.lock();
      if (r && t && !t->failed()) r->Resolve(check());
    });
  }
  conditions_.push_back(std::move(c));
  return result;
}

Payloads RunDriver::SideEffect(const std::function<Payloads()>& fn) {
  RejectInQuery("SideEffect");
  int64_t seq = ++side_effect_seq_;
  Payloads value;
  if (task_recorded_) {
    auto it = recorded_side_effects_.find(seq);
    if (it == recorded_side_effects_.end()) {
      throw NonDeterminismError(last_started_event_id_, "SideEffect #" + std::to_string(seq) +
                                                            " was not recorded in this workflow task");
    }
    value = it->second;
  } else {
    value = fn();  // a live task (or the unrecorded last task of a replayed history)
  }
  AddCommand(SideEffectMarker(seq, value), std::make_shared<OneShotMachine>());
  return value;
}

bool RunDriver::Patched(const std::string& change_id, bool deprecated) {
  auto known = patches_.find(change_id);
  if (known != patches_.end()) return known->second;
  RejectInQuery("Patched");
  // Live, the new code runs. Replaying, the history decides: a run recorded before the
  // patch has no marker for it in this task.
  bool patched = !task_recorded_ || recorded_patches_.count(change_id) > 0;
  if (patched || deprecated) AddCommand(PatchMarker(change_id, deprecated), std::make_shared<OneShotMachine>());
  patches_[change_id] = patched;
  return patched;
}

void RunDriver::UpsertSearchAttributes(const std::map<std::string, nlohmann::json>& attributes) {
  RejectInQuery("UpsertSearchAttributes");
  v1::Command c;
  auto* a = c.mutable_upsert_workflow_search_attributes();
  for (const auto& [name, value] : attributes) (*a->mutable_search_attributes())[name] = ToProto(JsonPayload(value));
  AddCommand(std::move(c), std::make_shared<OneShotMachine>());
}

}  // namespace keel::internal
