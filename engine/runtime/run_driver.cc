#include "engine/runtime/run_driver.h"

#include <algorithm>

#include "engine/history/convert.h"
#include "engine/history/event_util.h"
#include "engine/random.h"
#include "engine/runtime/command_matching.h"
#include "engine/runtime/failure_convert.h"
#include "engine/runtime/machines/activity_machine.h"
#include "engine/runtime/machines/child_workflow_machine.h"
#include "engine/runtime/machines/external_request_machine.h"
#include "engine/runtime/machines/signal_wait_machine.h"
#include "engine/runtime/machines/timer_machine.h"
#include "engine/runtime/markers.h"

namespace keel::internal {

namespace {

// A workflow task cannot complete: carries the Status the worker reports.
struct TaskError {
  Status status;
};

}  // namespace

RunDriver::RunDriver(const Registry& registry, WorkflowInfo info)
    : registry_(registry), info_(std::move(info)), context_(*this), disconnected_context_(*this, true) {
  random_state_ = StableHash(info_.run_id);
}

RunDriver::~RunDriver() {
  // Drop callbacks and waiters that refer to coroutine frames about to be destroyed.
  for (auto& w : pending_) {
    if (auto s = w.lock()) s->Abandon();
  }
  scheduler_.Clear();
}

uint64_t RunDriver::NextRandom() {
  RejectInQuery("Random");
  return SplitMix64(random_state_);
}

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
        CheckNoUnmatchedCommands(e);
        now_ = std::max(now_, FromProtoTime(e.event_time()));
        last_started_event_id_ = e.event_id();
        if (!last) CollectRecordedMarkers(events, i + 2);
        Activate(!last);
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
      CheckNoUnmatchedCommands(e);
      ApplyEvent(e);
    }
    if (!events.empty() && awaiting_match_ > 0) CheckNoUnmatchedCommands(events.Get(events.size() - 1), true);
  } catch (const NonDeterminismError& e) {
    broken_ = true;
    divergence_event_id_ = e.EventId();
    return Nondeterminism("workflow '" + info_.workflow_type + "' (id " + info_.workflow_id + ", run " +
                          info_.run_id + "): " + e.what() +
                          ". The workflow code changed in a way that is incompatible with this running "
                          "workflow: deploy the code that recorded this history for it (the run then "
                          "continues), or guard the change with ctx.Patched()");
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

void RunDriver::CheckNoUnmatchedCommands(const v1::HistoryEvent& e, bool at_end) {
  // A deprecated patch's marker may be missing from histories recorded before the patch.
  while (awaiting_match_ > 0 && IsDeprecatedPatchMarker(commands_.front().command)) {
    commands_.pop_front();
    --awaiting_match_;
  }
  if (awaiting_match_ == 0) return;
  const std::string produced = DescribeCommand(commands_.front().command);
  if (at_end) {
    throw NonDeterminismError(e.event_id(), "the history ends but the workflow code produced " + produced +
                                                ", which the history does not have");
  }
  throw NonDeterminismError(e.event_id(), "history event " + std::to_string(e.event_id()) + " is not a command (" +
                                              DescribeEvent(e) + ") but the workflow code now produces " + produced);
}

void RunDriver::MatchCommandEvent(const v1::HistoryEvent& e) {
  while (true) {
    if (awaiting_match_ == 0 || commands_.empty()) {
      if (IsPatchMarker(e)) return;  // the code no longer checks this patch
      throw NonDeterminismError(e.event_id(), "history event " + std::to_string(e.event_id()) + " is " +
                                                  DescribeEvent(e) +
                                                  " but the workflow code did not produce that command");
    }
    PendingCommand& pc = commands_.front();
    if (CommandMatchesEvent(pc.command, e)) break;
    if (IsDeprecatedPatchMarker(pc.command)) {  // recorded before the patch: absent
      commands_.pop_front();
      --awaiting_match_;
      continue;
    }
    if (IsPatchMarker(e)) return;  // the code no longer checks this patch
    throw NonDeterminismError(e.event_id(), "history event " + std::to_string(e.event_id()) + " is " +
                                                DescribeEvent(e) + " but the workflow code now produces " +
                                                DescribeCommand(pc.command));
  }
  PendingCommand pc = std::move(commands_.front());
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
      info_.continued_from_run_id = a.continued_execution_run_id();
      info_.first_run_id = a.first_execution_run_id().empty() ? info_.run_id : a.first_execution_run_id();
      info_.parent_workflow_id = a.parent_workflow_execution().workflow_id();
      info_.parent_run_id = a.parent_workflow_execution().run_id();
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
                                                    " fires timer " + id + ", which the code did not start");
      }
      timers_.erase(id);
      cancelled_timers_.erase(id);
      m->OnFired(e);
      return;
    }
    case E::kChildWorkflowExecutionStarted:
    case E::kStartChildWorkflowExecutionFailed:
    case E::kChildWorkflowExecutionCompleted:
    case E::kChildWorkflowExecutionFailed:
    case E::kChildWorkflowExecutionCanceled:
    case E::kChildWorkflowExecutionTimedOut:
    case E::kChildWorkflowExecutionTerminated: {
      int64_t id = InitiatedEventId(e);
      auto it = children_.find(id);
      if (it == children_.end()) {
        throw NonDeterminismError(e.event_id(), "history event " + std::to_string(e.event_id()) + " (" +
                                                    DescribeEvent(e) + ") is for a child workflow the code did not start");
      }
      auto m = it->second;
      m->OnEvent(e);
      if (m->done()) children_.erase(it);
      return;
    }
    case E::kExternalWorkflowExecutionSignaled:
    case E::kSignalExternalWorkflowExecutionFailed:
    case E::kExternalWorkflowExecutionCancelRequested:
    case E::kRequestCancelExternalWorkflowExecutionFailed: {
      int64_t id = InitiatedEventId(e);
      auto it = externals_.find(id);
      if (it == externals_.end()) {
        throw NonDeterminismError(e.event_id(), "history event " + std::to_string(e.event_id()) + " (" +
                                                    DescribeEvent(e) + ") is for a request the code did not send");
      }
      auto m = it->second;
      externals_.erase(it);
      m->OnEvent(e);
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
  recorded_patches_.clear();
  for (int i = from; i < events.size() && IsCommandEvent(events.Get(i)); ++i) {
    const auto& e = events.Get(i);
    if (!e.has_marker_recorded()) continue;
    if (auto seq = SideEffectSeq(e.marker_recorded())) {
      recorded_side_effects_[*seq] = SideEffectValue(e.marker_recorded());
    } else if (auto patch = PatchId(e.marker_recorded())) {
      recorded_patches_.insert(*patch);
    }
  }
}

// ---- activations ----

void RunDriver::Activate(bool replaying) {
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
  } catch (const ContinueAsNewRequest& request) {
    auto* a = c.mutable_continue_as_new_workflow_execution();
    a->set_workflow_type(request.options.workflow_type);
    a->set_task_queue(request.options.task_queue);
    *a->mutable_input() = ToProto(request.input);
    if (request.options.run_timeout > Duration::zero()) {
      *a->mutable_workflow_run_timeout() = ToProtoDuration(request.options.run_timeout);
    }
    if (request.options.task_timeout > Duration::zero()) {
      *a->mutable_workflow_task_timeout() = ToProtoDuration(request.options.task_timeout);
    }
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

Result<Payloads> RunDriver::Query(const std::string& name, const Payloads& args) {
  auto it = query_handlers_.find(name);
  if (it == query_handlers_.end()) {
    std::string known;
    for (const auto& [n, h] : query_handlers_) known += (known.empty() ? "" : ", ") + n;
    return InvalidArgument("workflow '" + info_.workflow_type + "' has no query '" + name + "' (registered: " +
                           (known.empty() ? "none" : known) + ")");
  }
  running_query_ = &name;
  struct Reset {
    const std::string*& p;
    ~Reset() { p = nullptr; }
  } reset{running_query_};
  try {
    return it->second(args);
  } catch (const QueryOperationRejected& e) {
    return FailedPrecondition(e.what());
  } catch (const std::exception& e) {
    return Status(StatusCode::kUnknown, "query handler '" + name + "' threw " + ExceptionTypeName(e) + ": " + e.what());
  }
}

void RunDriver::RejectInQuery(const char* operation) const {
  if (running_query_ == nullptr) return;
  throw QueryOperationRejected("query handler '" + *running_query_ + "' started an operation (" + operation +
                               "); query handlers must only read state");
}

// ---- commands and bookkeeping ----

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

void RunDriver::Track(std::shared_ptr<FutureStateBase> state, bool detached) {
  // Drop the finished ones now and then, so a long run does not grow these lists forever.
  auto prune = [](std::vector<std::weak_ptr<FutureStateBase>>& list) {
    if (list.size() >= 64 && (list.size() & (list.size() - 1)) == 0) {
      std::erase_if(list, [](const auto& w) {
        auto s = w.lock();
        return !s || s->ready();
      });
    }
  };
  prune(pending_);
  pending_.push_back(state);
  if (!detached) {
    prune(cancellable_);
    cancellable_.push_back(state);
  }
}

void RunDriver::RegisterActivity(int64_t scheduled_event_id, std::shared_ptr<ActivityMachine> m) {
  activities_[scheduled_event_id] = std::move(m);
}

void RunDriver::RegisterChild(int64_t initiated_event_id, std::shared_ptr<ChildWorkflowMachine> m) {
  children_[initiated_event_id] = std::move(m);
}

void RunDriver::RegisterExternal(int64_t initiated_event_id, std::shared_ptr<ExternalRequestMachine> m) {
  externals_[initiated_event_id] = std::move(m);
}

void RunDriver::CancelEverything() {
  auto cancellable = cancellable_;
  for (auto& w : cancellable) {
    if (auto s = w.lock()) s->Cancel();
  }
}

}  // namespace keel::internal
