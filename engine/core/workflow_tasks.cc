// Workflow tasks: handing a run's new events to a worker, and taking back its commands.
// A task's WorkflowTaskStarted is not written when the task is handed out (that would
// cost a commit per task); it is written together with the outcome. Events that arrive
// meanwhile are buffered and appended after the task's own events.
#include <algorithm>

#include "engine/core/engine_impl.h"
#include "engine/core/retry.h"
#include "engine/core/validation.h"
#include "engine/history/convert.h"
#include "engine/history/event_util.h"
#include "engine/log.h"

namespace keel::core {

namespace {

constexpr auto kMaxWorkflowTaskBackoff = std::chrono::minutes(10);

bool IsCloseCommand(const v1::Command& c) {
  return c.has_complete_workflow_execution() || c.has_fail_workflow_execution() ||
         c.has_cancel_workflow_execution() || c.has_continue_as_new_workflow_execution();
}

// Whether events the code has not seen arrived while its task ran, other than firings of
// timers this very completion cancels (those are dropped unseen).
bool HasUnseenEvents(const v1::ExecutionState& s,
                     const google::protobuf::RepeatedPtrField<v1::Command>& commands) {
  for (const auto& e : s.buffered_events()) {
    bool cancelled = e.has_timer_fired() &&
                     std::any_of(commands.begin(), commands.end(), [&](const v1::Command& c) {
                       return c.has_cancel_timer() && c.cancel_timer().timer_id() == e.timer_fired().timer_id();
                     });
    if (!cancelled) return true;
  }
  return false;
}

}  // namespace

void EngineImpl::ReleaseWorkflowTaskLease(RunState& run) {
  if (!run.workflow_task_lease) return;
  run.workflow_task_lease.reset();
  timers_->ClearDeadline(DeadlineKind::kWorkflowTaskLease, run.exec_id, 0);
  --leases_;
  NotifyActivity();
}

bool EngineImpl::WorkflowTaskDue(const RunState& run) const {
  const v1::ExecutionState& s = run.state;
  return run.Running() && s.has_workflow_task() && !s.workflow_task().backing_off() && !run.workflow_task_lease;
}

Result<v1::PollWorkflowTaskQueueResponse> EngineImpl::LeaseWorkflowTask(RunState& run, const std::string& ns,
                                                                        const std::string& identity) {
  const v1::ExecutionState& s = run.state;
  const Time now = clock_.Now();
  if (s.buffered_events_size() > 0) {
    // Left over from an attempt that ended without completing (lease expiry, restart).
    Mutation m(run, now);
    m.FlushBuffered();
    Status st = Commit(run, m);
    KEEL_RETURN_IF_ERROR(st);
  }
  const auto& wt = s.workflow_task();
  const bool transient = wt.scheduled_event_id() == 0;
  WorkflowTaskLease lease;
  lease.lease_id = NewLeaseId();
  lease.started_time = std::max(now, FromProtoTime(s.start_time()));
  lease.scheduled_event_id = transient ? s.next_event_id() : wt.scheduled_event_id();
  lease.started_event_id = transient ? s.next_event_id() + 1 : s.next_event_id();
  lease.identity = identity;

  KEEL_ASSIGN_OR_RETURN(v1::PollWorkflowTaskQueueResponse resp, WorkflowTaskFor(run, s, nullptr, lease, ns));
  RecordWorkflowTaskLease(run, lease, s);
  return resp;
}

Result<v1::PollWorkflowTaskQueueResponse> EngineImpl::WorkflowTaskFor(RunState& run, const v1::ExecutionState& s,
                                                                      const v1::HistoryBatch* pending,
                                                                      const WorkflowTaskLease& lease,
                                                                      const std::string& ns) {
  const auto& wt = s.workflow_task();
  const int64_t from = s.previous_started_event_id();
  if (!run.recent_events_valid) {
    auto events = ReadEvents(run.exec_id, from + 1, run.state.next_event_id() - 1);
    if (!events.ok()) return events.status();
    run.recent_events = std::move(events).value();
    run.recent_events_valid = true;
  }
  v1::PollWorkflowTaskQueueResponse resp;
  resp.mutable_events()->Reserve(static_cast<int>(run.recent_events.size()) +
                                 (pending ? pending->events_size() : 0) + 2);
  for (const auto& e : run.recent_events) {
    if (e.event_id() > from) *resp.add_events() = e;
  }
  if (pending) {
    for (const auto& e : pending->events()) {
      if (e.event_id() > from) *resp.add_events() = e;
    }
  }
  if (wt.scheduled_event_id() == 0) {  // transient: its scheduled event is written with its completion
    auto* e = resp.add_events();
    e->set_event_id(lease.scheduled_event_id);
    *e->mutable_event_time() = wt.scheduled_time();
    auto* a = e->mutable_workflow_task_scheduled();
    a->set_task_queue(s.task_queue());
    *a->mutable_start_to_close_timeout() = s.workflow_task_timeout();
    a->set_attempt(wt.attempt());
  }
  auto* started = resp.add_events();
  started->set_event_id(lease.started_event_id);
  *started->mutable_event_time() = ToProtoTime(lease.started_time);
  started->mutable_workflow_task_started()->set_scheduled_event_id(lease.scheduled_event_id);
  started->mutable_workflow_task_started()->set_identity(lease.identity);

  if (!ns.empty()) {
    v1::TaskToken token;
    token.set_kind(v1::TaskToken::KIND_WORKFLOW);
    token.set_namespace_(ns);
    token.set_workflow_id(s.workflow_id());
    token.set_run_id(s.run_id());
    token.set_attempt(wt.attempt());
    token.set_lease_id(lease.lease_id);
    resp.set_task_token(NewToken(token));
  }
  resp.mutable_workflow_execution()->set_workflow_id(s.workflow_id());
  resp.mutable_workflow_execution()->set_run_id(s.run_id());
  resp.set_workflow_type(s.workflow_type());
  resp.set_previous_started_event_id(from);
  resp.set_started_event_id(lease.started_event_id);
  resp.set_attempt(wt.attempt());
  // As it will be once `pending` is committed (the commit adds the batch's size).
  resp.set_history_size_bytes(s.history_size_bytes() + (pending ? static_cast<int64_t>(pending->ByteSizeLong()) : 0));
  return resp;
}

void EngineImpl::RecordWorkflowTaskLease(RunState& run, const WorkflowTaskLease& lease, const v1::ExecutionState& s) {
  run.workflow_task_lease = lease;
  ++leases_;
  run.last_workflow_task_note.clear();
  timers_->SetDeadline(DeadlineKind::kWorkflowTaskLease, run.exec_id, 0,
                       lease.started_time + FromProtoDuration(s.workflow_task_timeout()));
}

// Appends the in-flight task's WorkflowTaskScheduled (when transient) and WorkflowTaskStarted.
int64_t AppendStartedEvents(Mutation& m, const WorkflowTaskLease& lease) {
  const auto& wt = m.state().workflow_task();
  if (wt.scheduled_event_id() == 0) {
    auto* e = m.Append();
    *e->mutable_event_time() = wt.scheduled_time();
    auto* a = e->mutable_workflow_task_scheduled();
    a->set_task_queue(m.state().task_queue());
    *a->mutable_start_to_close_timeout() = m.state().workflow_task_timeout();
    a->set_attempt(wt.attempt());
  }
  auto* e = m.Append();
  *e->mutable_event_time() = ToProtoTime(lease.started_time);
  auto* a = e->mutable_workflow_task_started();
  a->set_scheduled_event_id(lease.scheduled_event_id);
  a->set_identity(lease.identity);
  a->set_request_id(lease.request_id);
  return e->event_id();
}

int64_t EngineImpl::EagerActivityId(const RunState& run, const Mutation& m,
                                    const v1::RespondWorkflowTaskCompletedRequest& request) const {
  const int eager = request.eager_activity_command();
  if (eager == 0) return 0;
  // The n-th ScheduleActivityTask command wrote the n-th ActivityTaskScheduled event.
  int n = 0;
  for (int i = 0; i < eager - 1; ++i) n += request.commands(i).has_schedule_activity_task() ? 1 : 0;
  for (const auto& e : m.events().events()) {
    if (!e.has_activity_task_scheduled() || n-- > 0) continue;
    // Only an activity on the run's own task queue (the one this worker polls) and
    // still pending (not cancelled by a later command of the same completion).
    bool pending = m.state().activities().count(e.event_id()) > 0;
    return pending && e.activity_task_scheduled().task_queue() == m.state().task_queue() ? e.event_id() : 0;
  }
  return 0;
}

void EngineImpl::FailWorkflowTask(RunState& run, Mutation& m, v1::WorkflowTaskFailedCause cause,
                                  const v1::Failure& failure, bool write_events) {
  auto* wt = m.state().mutable_workflow_task();
  if (write_events && run.workflow_task_lease) {
    int64_t started_id = AppendStartedEvents(m, *run.workflow_task_lease);
    auto* a = m.Append()->mutable_workflow_task_failed();
    a->set_scheduled_event_id(run.workflow_task_lease->scheduled_event_id);
    a->set_started_event_id(started_id);
    a->set_cause(cause);
    *a->mutable_failure() = failure;
    a->set_identity(run.workflow_task_lease->identity);
  }
  m.FlushBuffered();
  int failed_attempt = wt->attempt();
  v1::RetryPolicy policy;
  Duration backoff = std::min<Duration>(RetryBackoff(WithRetryDefaults(policy), failed_attempt),
                                        kMaxWorkflowTaskBackoff);
  wt->set_attempt(failed_attempt + 1);
  wt->set_scheduled_event_id(0);  // retries are transient until one completes
  wt->set_backing_off(true);
  *wt->mutable_retry_time() = ToProtoTime(m.now() + backoff);
  *wt->mutable_last_failure() = failure;
  wt->set_last_failure_cause(cause);
  m.RemoveTask(store::TaskKind::kWorkflow, 0);
  m.AddTimer(store::TimerKind::kWorkflowTaskRetry, 0, m.now() + backoff);
}

Result<v1::RespondWorkflowTaskCompletedResponse> EngineImpl::RespondWorkflowTaskCompleted(
    const v1::RespondWorkflowTaskCompletedRequest& request) {
  return Synchronously<v1::RespondWorkflowTaskCompletedResponse>([&](auto done) { CompleteWorkflowTaskCall(request, CommitMode::kSync, std::move(done)); });
}

void EngineImpl::RespondWorkflowTaskCompleted(const v1::RespondWorkflowTaskCompletedRequest& request,
                                              Callback<v1::RespondWorkflowTaskCompletedResponse> done) {
  CompleteWorkflowTaskCall(request, CallbackMode(), std::move(done));
}

void EngineImpl::CompleteWorkflowTaskCall(const v1::RespondWorkflowTaskCompletedRequest& request, CommitMode mode,
                                          Callback<v1::RespondWorkflowTaskCompletedResponse> done) {
  auto parsed = ParseToken(request.task_token(), v1::TaskToken::KIND_WORKFLOW);
  if (!parsed.ok()) return done(parsed.status());
  Status bad = ValidateName(request.identity(), "identity", false);
  if (bad.ok()) bad = ValidateName(request.binary_checksum(), "binary_checksum", false);
  const int eager = request.eager_activity_command();
  if (bad.ok() && eager != 0 &&
      (eager < 1 || eager > request.commands_size() || !request.commands(eager - 1).has_schedule_activity_task() ||
       request.identity().empty())) {
    bad = InvalidArgument("eager_activity_command " + std::to_string(eager) +
                          " must name a ScheduleActivityTask command (1-based) and needs the worker's identity");
  }
  if (!bad.ok()) return done(bad);
  // What the call holds until it is answered, perhaps on another thread (CommitThen).
  struct Call {
    explicit Call(EngineImpl& e) : async(e), busy(e) {}
    AsyncCallScope async;
    BusyScope busy;  // declared before the lock: notifies after it is released
    RunLock lock;
    RunPtr run;
    v1::TaskToken token;
    WorkflowTaskLease lease;
    std::optional<Mutation> m;
    bool closed = false;
    int64_t eager_id = 0;
  };
  auto call = std::make_shared<Call>(*this);
  call->token = std::move(parsed).value();
  const v1::TaskToken& token = call->token;
  v1::WorkflowExecution ex;
  ex.set_workflow_id(token.workflow_id());
  ex.set_run_id(token.run_id());
  auto locked = LockExecution(token.namespace_(), ex, call->lock);
  if (!locked.ok()) return done(locked.status());
  call->run = std::move(locked).value();
  RunState& run = *call->run;
  // Every answer below is given with the run unlocked, as the plain API's caller gets it
  // (`done` may call the engine about the same run).
  auto answer_now = [&](Status st) {
    call->lock.unlock();
    done(std::move(st));
  };
  if (!run.Running() || !run.workflow_task_lease || run.workflow_task_lease->lease_id != token.lease_id()) {
    return answer_now(NotFound("workflow task not found: its lease expired, or the run ended or moved on"));
  }
  const WorkflowTaskLease& lease = call->lease = *run.workflow_task_lease;
  const Time now = clock_.Now();

  bool closes = std::any_of(request.commands().begin(), request.commands().end(), IsCloseCommand);
  if (closes && HasUnseenEvents(run.state, request.commands())) {
    // New events (a signal, say) arrived while the code decided to finish: run the task
    // again so the code sees them. Nothing of this attempt is kept.
    Mutation m(run, now);
    int64_t started_id = AppendStartedEvents(m, lease);
    auto* a = m.Append()->mutable_workflow_task_failed();
    a->set_scheduled_event_id(lease.scheduled_event_id);
    a->set_started_event_id(started_id);
    a->set_cause(v1::WORKFLOW_TASK_FAILED_CAUSE_UNHANDLED_COMMAND);
    a->mutable_failure()->set_message("new events arrived while the workflow task ran");
    a->set_identity(lease.identity);
    m.FlushBuffered();
    m.state().clear_workflow_task();
    m.RemoveTask(store::TaskKind::kWorkflow, 0);
    m.ScheduleWorkflowTask();
    Status st = Commit(run, m);
    if (!st.ok()) return answer_now(st);
    ReleaseWorkflowTaskLease(run);
    return answer_now(FailedPrecondition("new events arrived while the workflow task ran; it will run again"));
  }

  Mutation& m = call->m.emplace(run, now);
  ContinueAsNewPlan plan;
  bad = CompleteWorkflowTask(run, m, lease, request, call->closed, &plan);
  if (!bad.ok()) {
    // The commands cannot be applied; fail the task (nothing of it is kept) so that a
    // fixed build can try again.
    Mutation fm(run, now);
    v1::Failure f;
    f.set_message(bad.message());
    f.set_source("keel-engine");
    FailWorkflowTask(run, fm, v1::WORKFLOW_TASK_FAILED_CAUSE_BAD_COMMAND, f,
                     run.state.workflow_task().attempt() == 1 &&
                         run.state.workflow_task().scheduled_event_id() != 0);
    Status st = Commit(run, fm);
    if (!st.ok()) return answer_now(st);
    ReleaseWorkflowTaskLease(run);
    Log().warn("workflow {} (run {}): workflow task failed: {}", run.state.workflow_id(),
               run.state.run_id(), ForLog(bad.message()));
    return answer_now(bad);
  }
  if (!call->closed && m.FlushBuffered() > 0) m.ScheduleWorkflowTask();
  call->eager_id = call->closed ? 0 : EagerActivityId(run, m, request);
  if (call->eager_id > 0) m.HandToCaller(store::TaskKind::kActivity, call->eager_id);
  auto answer = [this, call, &request, done = std::move(done)](Status st) {
    if (!st.ok()) {
      call->lock.unlock();
      return done(st);
    }
    RunState& run = *call->run;
    ReleaseWorkflowTaskLease(run);
    v1::RespondWorkflowTaskCompletedResponse resp;
    if (request.return_new_events() && !call->closed) {
      EventsAfter(*call->m, call->lease.started_event_id, resp.mutable_events());
    }
    if (call->eager_id > 0) {
      HandActivityToCaller(run, Namespace(call->token.namespace_()), call->eager_id, request.identity(),
                           [&] { return resp.mutable_activity_task(); });
    }
    call->lock.unlock();
    done(std::move(resp));
  };
  if (plan.continued) {
    answer(ContinueAsNew(run, m, plan, now));
  } else if (mode == CommitMode::kAsync) {
    CommitThen(mode, run, m, /*hand_out=*/false, std::move(answer));
  } else {
    answer(Commit(run, m));
  }
}

Status EngineImpl::CompleteWorkflowTask(RunState& run, Mutation& m, const WorkflowTaskLease& lease,
                                        const v1::RespondWorkflowTaskCompletedRequest& request, bool& closed,
                                        ContinueAsNewPlan* plan) {
  int64_t started_id = AppendStartedEvents(m, lease);
  auto* done = m.Append();
  auto* a = done->mutable_workflow_task_completed();
  a->set_scheduled_event_id(lease.scheduled_event_id);
  a->set_started_event_id(started_id);
  a->set_identity(request.identity());
  a->set_binary_checksum(request.binary_checksum());
  m.state().set_previous_started_event_id(started_id);
  m.state().clear_workflow_task();
  m.RemoveTask(store::TaskKind::kWorkflow, 0);
  return ApplyCommands(run, m, request.commands(), done->event_id(), closed, plan);
}

Status EngineImpl::ContinueAsNew(RunState& run, Mutation& m, const ContinueAsNewPlan& plan, Time now) {
  const v1::ExecutionState& old = m.state();
  const auto& c = *plan.continued;
  v1::WorkflowExecutionStartedEventAttributes started;
  started.set_workflow_type(c.workflow_type());
  started.set_task_queue(c.task_queue());
  *started.mutable_input() = c.input();
  *started.mutable_workflow_run_timeout() = c.workflow_run_timeout();
  *started.mutable_workflow_task_timeout() =
      FromProtoDuration(c.workflow_task_timeout()) > Duration::zero() ? c.workflow_task_timeout()
                                                                       : old.workflow_task_timeout();
  started.set_attempt(1);
  if (old.has_retry_policy()) *started.mutable_retry_policy() = old.retry_policy();
  *started.mutable_memo() = plan.memo.empty() ? old.memo() : plan.memo;
  *started.mutable_search_attributes() = plan.search_attributes.empty() ? old.search_attributes() : plan.search_attributes;
  if (old.has_execution_expiration_time()) {
    *started.mutable_workflow_execution_expiration_time() = old.execution_expiration_time();
  }
  if (old.has_parent()) {
    started.set_parent_workflow_namespace(old.parent().namespace_());
    *started.mutable_parent_workflow_execution() = old.parent().execution();
    started.set_parent_initiated_event_id(old.parent().initiated_event_id());
  }
  started.set_continued_execution_run_id(old.run_id());
  started.set_first_execution_run_id(old.first_execution_run_id());
  NewRun next = StartNewRun(old.namespace_(), old.workflow_id(), c.new_execution_run_id(), started, now);
  next.mutation->ScheduleWorkflowTask();
  RunLock next_lock(next.run->mu);
  Status st = CommitBoth(run, m, *next.run, *next.mutation);
  if (!st.ok()) DropNewRun(*next.run);
  return st;
}

Result<v1::RespondWorkflowTaskFailedResponse> EngineImpl::RespondWorkflowTaskFailed(
    const v1::RespondWorkflowTaskFailedRequest& request) {
  KEEL_ASSIGN_OR_RETURN(v1::TaskToken token, ParseToken(request.task_token(), v1::TaskToken::KIND_WORKFLOW));
  KEEL_RETURN_IF_ERROR(ValidateName(request.identity(), "identity", false));
  if (!v1::WorkflowTaskFailedCause_IsValid(request.cause())) {
    return InvalidArgument("unknown workflow task failure cause " + std::to_string(request.cause()));
  }
  KEEL_RETURN_IF_ERROR(ValidateFailure(request.failure(), options_.max_payload_bytes, "failure"));
  v1::WorkflowExecution ex;
  ex.set_workflow_id(token.workflow_id());
  ex.set_run_id(token.run_id());
  RunLock lock;
  KEEL_ASSIGN_OR_RETURN(RunPtr run_ptr, LockExecution(token.namespace_(), ex, lock));
  RunState& run = *run_ptr;
  if (!run.Running() || !run.workflow_task_lease || run.workflow_task_lease->lease_id != token.lease_id()) {
    return NotFound("workflow task not found: its lease expired, or the run ended or moved on");
  }
  const auto& wt = run.state.workflow_task();
  Mutation m(run, clock_.Now());
  FailWorkflowTask(run, m, request.cause(), request.failure(),
                   wt.attempt() == 1 && wt.scheduled_event_id() != 0);
  KEEL_RETURN_IF_ERROR(Commit(run, m));
  ReleaseWorkflowTaskLease(run);
  Log().warn("workflow {} (run {}): workflow task attempt {} failed ({}): {}", run.state.workflow_id(),
             run.state.run_id(), run.state.workflow_task().attempt() - 1,
             v1::WorkflowTaskFailedCause_Name(request.cause()), ForLog(request.failure().message()));
  return v1::RespondWorkflowTaskFailedResponse();
}

}  // namespace keel::core
