#include "engine/runtime/run_driver.h"

#include <algorithm>

#include "engine/history/convert.h"
#include "engine/history/event_util.h"
#include "engine/random.h"
#include "engine/runtime/command_matching.h"
#include "engine/runtime/failure_convert.h"
#include "engine/runtime/machines/activity_machine.h"
#include "engine/runtime/machines/signal_wait_machine.h"
#include "engine/runtime/machines/timer_machine.h"

namespace keel::internal {

namespace {

constexpr char kSideEffectMarker[] = "SideEffect";

// A workflow task cannot complete: carries the Status the worker reports.
struct TaskError {
  Status status;
};

}  // namespace

RunDriver::RunDriver(const Registry& registry, WorkflowInfo info)
    : registry_(registry), info_(std::move(info)), context_(*this) {
  random_state_ = StableHash(info_.run_id);
}

RunDriver::~RunDriver() {
  // Drop callbacks and waiters that refer to coroutine frames about to be destroyed.
  for (auto& w : pending_) {
    if (auto s = w.lock()) s->Abandon();
  }
  scheduler_.Clear();
}

uint64_t RunDriver::NextRandom() { return SplitMix64(random_state_); }

// ---- events ----

Status RunDriver::Advance(const Events& events, std::vector<v1::Command>* commands) {
  if (broken_) return Internal("this workflow run failed earlier and must be replayed from the start");
  commands->clear();
  try {
    for (int i = 0; i < events.size(); ++i) {
      const v1::HistoryEvent& e = events.Get(i);
      if (e.event_id() != last_event_id_ + 1) {
        broken_ = true;
        return Internal("history event " + std::to_string(e.event_id()) + " does not follow event " +
                        std::to_string(last_event_id_));
      }
      last_event_id_ = e.event_id();
      if (e.has_workflow_task_started()) {
        const bool last = i + 1 == events.size();
        if (!last && (events.Get(i + 1).has_workflow_task_failed() ||
                      events.Get(i + 1).has_workflow_task_timed_out())) {
          continue;  // an attempt that failed: its commands were never recorded
        }
        if (awaiting_match_ > 0) MatchCommandEvent(e);  // throws: leftover commands
        now_ = std::max(now_, FromProtoTime(e.event_time()));
        last_started_event_id_ = e.event_id();
        if (!last) CollectRecordedMarkers(events, i + 2);
        Activate(events, i, !last);
        if (last) {
          for (auto& pc : commands_) commands->push_back(pc.command);
          awaiting_match_ = 0;  // set again at the WorkflowTaskCompleted that records them
        }
        continue;
      }
      if (e.has_workflow_task_completed()) {
        awaiting_match_ = commands_.size();
        continue;
      }
      if (IsCommandEvent(e)) {
        MatchCommandEvent(e);
        continue;
      }
      // The engine records a task's command events together, right after its
      // WorkflowTaskCompleted: any other event means commands are missing from history.
      if (awaiting_match_ > 0) MatchCommandEvent(e);  // throws
      ApplyEvent(e);
    }
    if (awaiting_match_ > 0 && !events.empty()) {
      // The history ends after a task whose recorded commands are fewer than the code's.
      const auto& pc = commands_.front();
      throw NonDeterminismError(
          last_event_id_, "the history ends but the workflow code produced " + DescribeCommand(pc.command) +
                              ", which the history does not have");
    }
  } catch (const NonDeterminismError& e) {
    broken_ = true;
    divergence_event_id_ = e.EventId();
    return Nondeterminism("workflow '" + info_.workflow_type + "' (id " + info_.workflow_id + ", run " +
                          info_.run_id + "): " + e.what() +
                          ". The workflow code changed in a way that is incompatible with this running "
                          "workflow: deploy the code that recorded this history for it (the run then "
                          "continues), or keep the change for new runs only");
  } catch (const TaskError& e) {
    broken_ = true;
    return e.status;
  } catch (const PayloadError& e) {
    broken_ = true;
    return InvalidArgument("workflow '" + info_.workflow_type + "': " + e.what());
  } catch (const std::exception& e) {
    broken_ = true;
    return Internal("workflow '" + info_.workflow_type + "' failed its task: " + ExceptionTypeName(e) + ": " +
                    e.what());
  }
  return Status::Ok();
}

void RunDriver::MatchCommandEvent(const v1::HistoryEvent& e) {
  if (awaiting_match_ == 0 || commands_.empty()) {
    throw NonDeterminismError(e.event_id(), "history event " + std::to_string(e.event_id()) + " is " +
                                                DescribeEvent(e) +
                                                " but the workflow code did not produce that command");
  }
  PendingCommand pc = std::move(commands_.front());
  if (!IsCommandEvent(e) || !CommandMatchesEvent(pc.command, e)) {
    std::string recorded = IsCommandEvent(e) ? DescribeEvent(e) : "not a command (" + DescribeEvent(e) + ")";
    throw NonDeterminismError(e.event_id(), "history event " + std::to_string(e.event_id()) + " is " +
                                                recorded + " but the workflow code now produces " +
                                                DescribeCommand(pc.command));
  }
  commands_.pop_front();
  --awaiting_match_;
  pc.owner->OnCommandRecorded(e);
  if (e.has_timer_canceled()) cancelled_timers_.erase(e.timer_canceled().timer_id());
}

void RunDriver::ApplyEvent(const v1::HistoryEvent& e) {
  using E = v1::HistoryEvent;
  switch (e.attributes_case()) {
    case E::kWorkflowExecutionStarted: {
      const auto& a = e.workflow_execution_started();
      input_ = FromProto(a.input());
      info_.task_queue = a.task_queue();
      info_.attempt = std::max(1, a.attempt());
      info_.start_time = FromProtoTime(e.event_time());
      now_ = info_.start_time;
      return;
    }
    case E::kActivityTaskStarted:
    case E::kActivityTaskCompleted:
    case E::kActivityTaskFailed:
    case E::kActivityTaskTimedOut:
    case E::kActivityTaskCanceled: {
      int64_t id = e.has_activity_task_started()     ? e.activity_task_started().scheduled_event_id()
                   : e.has_activity_task_completed() ? e.activity_task_completed().scheduled_event_id()
                   : e.has_activity_task_failed()    ? e.activity_task_failed().scheduled_event_id()
                   : e.has_activity_task_timed_out() ? e.activity_task_timed_out().scheduled_event_id()
                                                     : e.activity_task_canceled().scheduled_event_id();
      auto it = activities_.find(id);
      if (it == activities_.end()) {
        throw NonDeterminismError(e.event_id(), "history event " + std::to_string(e.event_id()) + " (" +
                                                    DescribeEvent(e) + ") is for an activity (scheduled event " +
                                                    std::to_string(id) + ") the code did not schedule");
      }
      auto m = it->second;
      m->OnEvent(e);
      if (m->done()) activities_.erase(it);
      return;
    }
    case E::kTimerFired: {
      const std::string& id = e.timer_fired().timer_id();
      std::shared_ptr<TimerMachine> m;
      if (auto it = timers_.find(id); it != timers_.end()) m = it->second;
      if (auto it = cancelled_timers_.find(id); !m && it != cancelled_timers_.end()) m = it->second;
      if (!m) {
        throw NonDeterminismError(e.event_id(), "history event " + std::to_string(e.event_id()) +
                                                    " fires timer " + e.timer_fired().timer_id() +
                                                    ", which the code did not start");
      }
      timers_.erase(id);
      cancelled_timers_.erase(id);
      m->OnFired(e);
      return;
    }
    case E::kWorkflowExecutionSignaled:
      DeliverSignal(e.workflow_execution_signaled().signal_name(),
                    FromProto(e.workflow_execution_signaled().input()));
      return;
    case E::kWorkflowExecutionCancelRequested:
      if (!cancel_requested_) {
        cancel_requested_ = true;
        CancelEverything();
      }
      return;
    case E::kWorkflowTaskScheduled:
    case E::kWorkflowTaskFailed:
    case E::kWorkflowTaskTimedOut:
    case E::kWorkflowExecutionTerminated:
    case E::kWorkflowExecutionTimedOut:
      return;
    default:
      throw TaskError{Status(StatusCode::kUnimplemented,
                             "history event " + std::to_string(e.event_id()) + " (" + DescribeEvent(e) +
                                 ") is not supported by this worker")};
  }
}

void RunDriver::CollectRecordedMarkers(const Events& events, int from) {
  recorded_side_effects_.clear();
  for (int i = from; i < events.size() && IsCommandEvent(events.Get(i)); ++i) {
    const auto& e = events.Get(i);
    if (!e.has_marker_recorded() || e.marker_recorded().marker_name() != kSideEffectMarker) continue;
    const auto& d = e.marker_recorded().details();
    auto id = d.find("id");
    auto data = d.find("data");
    if (id == d.end() || data == d.end() || id->second.payloads_size() == 0) continue;
    int64_t seq = FromPayload<int64_t>(FromProto(id->second.payloads(0)));
    recorded_side_effects_[seq] = FromProto(data->second);
  }
}

// ---- activations ----

void RunDriver::Activate(const Events& events, int index, bool replaying) {
  task_recorded_ = replaying;
  replaying_ = replaying || replay_only_;
  if (!root_started_) {
    const WorkflowFn* fn = registry_.FindWorkflow(info_.workflow_type);
    if (!fn) {
      unknown_type_ = true;
      std::string known;
      for (const auto& t : registry_.WorkflowTypes()) known += (known.empty() ? "" : ", ") + t;
      throw TaskError{InvalidArgument("workflow type '" + info_.workflow_type +
                                      "' is not registered on this worker (registered: " +
                                      (known.empty() ? "none" : known) + ")")};
    }
    root_ = (*fn)(context_, input_);
    root_started_ = true;
    scheduler_.Schedule(root_.handle());
  }
  do {
    scheduler_.RunUntilIdle();
  } while (CheckConditions());
  FinishIfDone();
}

bool RunDriver::CheckConditions() {
  bool any = false;
  for (size_t i = 0; i < conditions_.size();) {
    Condition& c = conditions_[i];
    if (c.result->ready()) {
      conditions_.erase(conditions_.begin() + i);
      continue;
    }
    if (c.check()) {
      c.result->Resolve(true);
      if (c.timer) c.timer->Cancel();
      conditions_.erase(conditions_.begin() + i);
      any = true;
      continue;
    }
    ++i;
  }
  return any;
}

void RunDriver::FinishIfDone() {
  if (finished_ || !root_.valid() || !root_.done()) return;
  v1::Command c;
  try {
    Payloads result = root_.TakeResult();
    *c.mutable_complete_workflow_execution()->mutable_result() = ToProto(result);
  } catch (const Error& e) {
    // An uncaught cancellation (directly, or as the cause of e.g. an ActivityFailure)
    // after a cancel request ends the run as canceled.
    const Error* canceled = &e;
    while (canceled && !dynamic_cast<const CanceledError*>(canceled)) canceled = canceled->Cause();
    if (cancel_requested_ && canceled) {
      *c.mutable_cancel_workflow_execution()->mutable_details() =
          ToProto(static_cast<const CanceledError*>(canceled)->Details());
    } else {
      *c.mutable_fail_workflow_execution()->mutable_failure() = ErrorToFailure(e);
    }
  }
  // Anything else (a bug, a PayloadError, a NonDeterminismError) propagates: the
  // workflow task fails and is retried, so a fixed build can continue the run.
  finished_ = true;
  AddCommand(std::move(c), std::make_shared<OneShotMachine>());
}

// ---- commands ----

void RunDriver::AddCommand(v1::Command command, std::shared_ptr<CommandMachine> owner) {
  commands_.push_back({std::move(command), std::move(owner)});
}

void RunDriver::DropCommand(const CommandMachine* owner) {
  for (auto it = commands_.rbegin(); it != commands_.rend(); ++it) {
    if (it->owner.get() == owner) {
      commands_.erase(std::next(it).base());
      return;
    }
  }
}

void RunDriver::Track(std::shared_ptr<FutureStateBase> state) {
  // Drop the finished ones now and then, so a long run does not grow this list forever.
  if (pending_.size() >= 64 && (pending_.size() & (pending_.size() - 1)) == 0) {
    std::erase_if(pending_, [](const auto& w) {
      auto s = w.lock();
      return !s || s->ready();
    });
  }
  pending_.push_back(std::move(state));
}

void RunDriver::RegisterActivity(int64_t scheduled_event_id, std::shared_ptr<ActivityMachine> m) {
  activities_[scheduled_event_id] = std::move(m);
}

void RunDriver::CancelEverything() {
  auto pending = pending_;
  for (auto& w : pending) {
    if (auto s = w.lock()) s->Cancel();
  }
  for (auto& c : conditions_) {
    c.result->Reject(std::make_exception_ptr(CanceledError("workflow canceled")));
  }
  conditions_.clear();
}

namespace {

Duration Positive(Duration d) { return d < Duration::zero() ? Duration::zero() : d; }

}  // namespace

void RunDriver::StartActivity(const std::string& type, const ActivityOptions& o, Payloads input,
                              std::shared_ptr<PayloadSink> sink) {
  std::string id = o.activity_id.empty() ? std::to_string(++activity_seq_) : o.activity_id;
  if (cancel_requested_) {
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

  auto m = std::make_shared<ActivityMachine>(*this, type, id, sink);
  Track(std::shared_ptr<FutureStateBase>(sink, &sink->state()));
  std::weak_ptr<ActivityMachine> weak = m;
  sink->state().SetCanceler([weak] {
    if (auto mm = weak.lock()) mm->Cancel();
  });
  AddCommand(std::move(c), m);
}

std::shared_ptr<FutureState<void>> RunDriver::StartTimer(Duration d) {
  auto future = std::make_shared<FutureState<void>>(&scheduler_);
  if (cancel_requested_) {
    future->Reject(std::make_exception_ptr(CanceledError("workflow canceled")));
    return future;
  }
  std::string id = std::to_string(++timer_seq_);
  v1::Command c;
  c.mutable_start_timer()->set_timer_id(id);
  *c.mutable_start_timer()->mutable_start_to_fire_timeout() = ToProtoDuration(Positive(d));
  auto m = std::make_shared<TimerMachine>(*this, id, future);
  timers_[id] = m;
  Track(future);
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

void RunDriver::WaitSignal(const std::string& name, std::shared_ptr<PayloadSink> sink) {
  auto& buffer = signal_buffer_[name];
  if (!buffer.empty()) {
    Payloads input = std::move(buffer.front());
    buffer.pop_front();
    sink->SetPayloads(input);
    return;
  }
  if (cancel_requested_) {
    sink->SetError(std::make_exception_ptr(CanceledError("workflow canceled")));
    return;
  }
  auto m = std::make_shared<SignalWaitMachine>(*this, name, sink);
  signal_waiters_[name].push_back(m);
  Track(std::shared_ptr<FutureStateBase>(sink, &sink->state()));
  std::weak_ptr<SignalWaitMachine> weak = m;
  sink->state().SetCanceler([weak] {
    if (auto mm = weak.lock()) mm->Cancel();
  });
}

void RunDriver::RemoveSignalWaiter(const std::string& name, const SignalWaitMachine* m) {
  auto& q = signal_waiters_[name];
  q.erase(std::remove_if(q.begin(), q.end(), [m](const auto& p) { return p.get() == m; }), q.end());
}

void RunDriver::OnSignal(const std::string& name, std::function<void(const Payloads&)> handler) {
  signal_handlers_[name] = handler;
  auto& buffer = signal_buffer_[name];
  while (!buffer.empty()) {
    Payloads input = std::move(buffer.front());
    buffer.pop_front();
    handler(input);
  }
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
                                                        std::optional<Duration> timeout) {
  auto result = std::make_shared<FutureState<bool>>(&scheduler_);
  if (condition()) {
    result->Resolve(true);
    return result;
  }
  if (cancel_requested_) {
    result->Reject(std::make_exception_ptr(CanceledError("workflow canceled")));
    return result;
  }
  Track(result);
  Condition c{std::move(condition), result, nullptr};
  if (timeout) {
    c.timer = StartTimer(*timeout);
    std::weak_ptr<FutureState<bool>> weak = result;
    // When the timeout fires, the condition gets a last look: state changed by events
    // before the TimerFired in the same batch counts.
    c.timer->OnReady([weak, check = c.check, timer = std::weak_ptr<FutureState<void>>(c.timer)] {
      auto r = weak.lock();
      auto t = timer.lock();
      if (r && t && !t->failed()) r->Resolve(check());
    });
  }
  conditions_.push_back(std::move(c));
  return result;
}

Payloads RunDriver::SideEffect(const std::function<Payloads()>& fn) {
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
  v1::Command c;
  auto* m = c.mutable_record_marker();
  m->set_marker_name(kSideEffectMarker);
  *(*m->mutable_details())["id"].add_payloads() = ToProto(ToPayload(seq));
  (*m->mutable_details())["data"] = ToProto(value);
  AddCommand(std::move(c), std::make_shared<OneShotMachine>());
  return value;
}

}  // namespace keel::internal
