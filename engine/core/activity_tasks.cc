// Activity tasks: handing attempts to workers, heartbeats, outcomes and retries. An
// attempt's start is not written when it is handed out (that would cost a commit per
// attempt): ActivityTaskStarted is written with the attempt's final outcome. Failed
// attempts that will be retried leave no event; describe shows them.
#include "engine/core/engine_impl.h"
#include "engine/core/retry.h"
#include "engine/core/validation.h"
#include "engine/history/convert.h"
#include "engine/log.h"

namespace keel::core {


void EngineImpl::ReleaseActivityLease(RunState& run, int64_t scheduled_event_id) {
  if (run.activity_leases.erase(scheduled_event_id) == 0) return;
  timers_->ClearDeadline(DeadlineKind::kActivityLease, run.exec_id, scheduled_event_id);
  timers_->ClearDeadline(DeadlineKind::kActivityHeartbeat, run.exec_id, scheduled_event_id);
  --leases_;
  NotifyActivity();
}

void EngineImpl::TakeUnsavedDetails(RunState& run, Mutation& m, int64_t id) {
  auto lease = run.activity_leases.find(id);
  if (lease == run.activity_leases.end() || !lease->second.unsaved_details) return;
  auto& st = m.state().mutable_activities()->at(id);
  *st.mutable_heartbeat_details() = *lease->second.unsaved_details;
  *st.mutable_last_heartbeat_time() = ToProtoTime(lease->second.unsaved_time);
  lease->second.unsaved_details.reset();
}

void EngineImpl::RecordActivityClosed(RunState& run, Mutation& m, int64_t id) {
  m.RemoveTask(store::TaskKind::kActivity, id);
  m.RemoveTimer(store::TimerKind::kActivityRetry, id);
  m.RemoveTimer(store::TimerKind::kActivityScheduleToStart, id);
  m.RemoveTimer(store::TimerKind::kActivityScheduleToClose, id);
  m.state().mutable_activities()->erase(id);
}

namespace {

// Writes the attempt's ActivityTaskStarted (if it started) and returns the outcome event
// for the caller to fill. started_event_id is -1 while both are buffered (fixed on flush).
v1::HistoryEvent* AppendOutcome(const RunState& run, Mutation& m, int64_t id, int64_t* started_id) {
  const v1::ActivityState& a = m.state().activities().at(id);
  *started_id = 0;
  auto lease = run.activity_leases.find(id);
  if (lease != run.activity_leases.end()) {
    auto* e = m.AddForWorkflow();
    auto* s = e->mutable_activity_task_started();
    s->set_scheduled_event_id(id);
    s->set_identity(lease->second.identity);
    s->set_attempt(a.attempt());
    if (a.has_last_failure()) *s->mutable_last_failure() = a.last_failure();
    *e->mutable_event_time() = ToProtoTime(lease->second.started_time);
    *started_id = e->event_id() == 0 ? -1 : e->event_id();
  }
  return m.AddForWorkflow();
}

}  // namespace

void EngineImpl::ActivityAttemptFailed(RunState& run, Mutation& m, int64_t id,
                                       const v1::Failure& failure, const std::string& identity) {
  v1::ActivityState& a = m.state().mutable_activities()->at(id);
  int64_t started_id = 0;
  if (a.cancel_requested()) {
    auto* e = AppendOutcome(run, m, id, &started_id)->mutable_activity_task_canceled();
    e->set_scheduled_event_id(id);
    e->set_started_event_id(started_id);
    e->set_latest_cancel_requested_event_id(a.cancel_requested_event_id());
    e->set_identity(identity);
    RecordActivityClosed(run, m, id);
    return;
  }
  std::optional<Time> deadline;
  Duration s2c = FromProtoDuration(a.schedule_to_close_timeout());
  if (s2c > Duration::zero()) deadline = FromProtoTime(a.scheduled_time()) + s2c;
  RetryDecision d = DecideRetry(a.retry_policy(), a.attempt(), failure, m.now(), deadline);
  if (d.retry) {
    if (d.counts) a.set_attempt(a.attempt() + 1);
    *a.mutable_last_failure() = failure;
    a.set_last_worker_identity(identity);
    m.RemoveTask(store::TaskKind::kActivity, id);
    m.RemoveTimer(store::TimerKind::kActivityScheduleToStart, id);
    if (d.delay > Duration::zero()) {
      a.set_backing_off(true);
      *a.mutable_retry_time() = ToProtoTime(m.now() + d.delay);
      m.AddTimer(store::TimerKind::kActivityRetry, id, m.now() + d.delay);
    } else {
      *a.mutable_current_attempt_scheduled_time() = ToProtoTime(m.now());
      ScheduleActivityAttempt(m, a);
    }
    return;
  }
  v1::HistoryEvent* e = AppendOutcome(run, m, id, &started_id);
  if (failure.has_timeout_failure_info()) {
    auto* t = e->mutable_activity_task_timed_out();
    *t->mutable_failure() = failure;
    t->set_scheduled_event_id(id);
    t->set_started_event_id(started_id);
    t->set_retry_state(d.state);
  } else {
    auto* f = e->mutable_activity_task_failed();
    *f->mutable_failure() = failure;
    f->set_scheduled_event_id(id);
    f->set_started_event_id(started_id);
    f->set_identity(identity);
    f->set_retry_state(d.state);
  }
  RecordActivityClosed(run, m, id);
}

Result<v1::PollActivityTaskQueueResponse> EngineImpl::LeaseActivityTask(RunState& run, const std::string& ns,
                                                                        int64_t id, const std::string& identity) {
  const v1::ActivityState& a = run.state.activities().at(id);
  auto input = run.activity_inputs.find(id);
  if (input == run.activity_inputs.end()) {
    auto scheduled = ReadEvents(run.exec_id, id, id);
    if (!scheduled.ok() || scheduled->empty() || !scheduled->front().has_activity_task_scheduled()) {
      return scheduled.ok() ? DataLoss("the ActivityTaskScheduled event of a pending activity is missing")
                            : scheduled.status();
    }
    input = run.activity_inputs.emplace(id, scheduled->front().activity_task_scheduled().input()).first;
  }
  const Time now = clock_.Now();
  ActivityLease lease;
  lease.lease_id = NewLeaseId();
  lease.started_time = now;
  lease.deadline = now + FromProtoDuration(a.start_to_close_timeout());
  Duration hb = FromProtoDuration(a.heartbeat_timeout());
  if (hb > Duration::zero()) lease.heartbeat_deadline = now + hb;
  lease.identity = identity;

  v1::TaskToken token;
  token.set_kind(v1::TaskToken::KIND_ACTIVITY);
  token.set_namespace_(ns);
  token.set_workflow_id(run.state.workflow_id());
  token.set_run_id(run.state.run_id());
  token.set_scheduled_event_id(id);
  token.set_attempt(a.attempt());
  token.set_lease_id(lease.lease_id);

  v1::PollActivityTaskQueueResponse resp;
  resp.set_task_token(NewToken(token));
  resp.set_workflow_namespace(ns);
  resp.set_workflow_type(run.state.workflow_type());
  resp.mutable_workflow_execution()->set_workflow_id(run.state.workflow_id());
  resp.mutable_workflow_execution()->set_run_id(run.state.run_id());
  resp.set_activity_type(a.activity_type());
  resp.set_activity_id(a.activity_id());
  *resp.mutable_input() = input->second;
  *resp.mutable_heartbeat_details() = a.heartbeat_details();
  *resp.mutable_scheduled_time() = a.scheduled_time();
  *resp.mutable_current_attempt_scheduled_time() = a.current_attempt_scheduled_time();
  *resp.mutable_started_time() = ToProtoTime(now);
  resp.set_attempt(a.attempt());
  *resp.mutable_schedule_to_close_timeout() = a.schedule_to_close_timeout();
  *resp.mutable_start_to_close_timeout() = a.start_to_close_timeout();
  *resp.mutable_heartbeat_timeout() = a.heartbeat_timeout();
  *resp.mutable_retry_policy() = a.retry_policy();
  resp.set_scheduled_event_id(id);

  timers_->SetDeadline(DeadlineKind::kActivityLease, run.exec_id, id, lease.deadline);
  if (lease.heartbeat_deadline) {
    timers_->SetDeadline(DeadlineKind::kActivityHeartbeat, run.exec_id, id, *lease.heartbeat_deadline);
  }
  run.activity_leases[id] = std::move(lease);
  ++leases_;
  return resp;
}

Status EngineImpl::CheckEagerRequest(bool requested, const std::string& identity) const {
  if (requested && identity.empty()) {
    return InvalidArgument("request_workflow_task needs the worker's identity (the task is leased to it)");
  }
  return Status::Ok();
}

bool EngineImpl::KeepWorkflowTaskForCaller(RunState& run, Mutation& m, int64_t id, bool requested) {
  // Only a worker polling the run's own task queue may run its workflow tasks.
  if (!requested || run.state.activities().at(id).task_queue() != run.state.task_queue()) return false;
  m.HandToCaller(store::TaskKind::kWorkflow, 0);
  return true;
}

void EngineImpl::HandWorkflowTaskToCaller(RunState& run, const std::string& ns, const std::string& identity,
                                          std::function<v1::PollWorkflowTaskQueueResponse*()> out) {
  if (!WorkflowTaskDue(run)) return;  // none scheduled, or it runs elsewhere (or ran inline)
  auto task = LeaseWorkflowTask(run, ns, identity);
  if (task.ok()) {
    *out() = std::move(task).value();
  } else {
    matcher_.Add(ns, run.state.task_queue(), store::TaskKind::kWorkflow, {run.exec_id, 0});
  }
}

void EngineImpl::HandActivityToCaller(RunState& run, const std::string& ns, int64_t id, const std::string& identity,
                                      std::function<v1::PollActivityTaskQueueResponse*()> out) {
  auto task = LeaseActivityTask(run, ns, id, identity);
  if (task.ok()) {
    *out() = std::move(task).value();
  } else {
    matcher_.Add(ns, run.state.task_queue(), store::TaskKind::kActivity, {run.exec_id, id});
  }
}

Result<EngineImpl::RunPtr> EngineImpl::LockActivityTask(const std::string& token_bytes,
                                                        v1::TaskToken& token, const std::string& identity,
                                                        RunLock& lock) {
  KEEL_ASSIGN_OR_RETURN(token, ParseToken(token_bytes, v1::TaskToken::KIND_ACTIVITY));
  v1::WorkflowExecution ex;
  ex.set_workflow_id(token.workflow_id());
  ex.set_run_id(token.run_id());
  KEEL_ASSIGN_OR_RETURN(RunPtr run, LockExecution(token.namespace_(), ex, lock));
  auto lease = run->activity_leases.find(token.scheduled_event_id());
  if (lease == run->activity_leases.end() && AdoptRecovered(*run, token, identity)) {
    lease = run->activity_leases.find(token.scheduled_event_id());
  }
  if (!run->Running() || !run->state.activities().count(token.scheduled_event_id()) ||
      lease == run->activity_leases.end() || lease->second.lease_id != token.lease_id()) {
    lock.unlock();
    return NotFound("activity task not found: it already completed, timed out or was cancelled, "
                    "or this attempt's lease expired");
  }
  return run;
}

Result<v1::RecordActivityTaskHeartbeatResponse> EngineImpl::RecordActivityTaskHeartbeat(
    const v1::RecordActivityTaskHeartbeatRequest& request) {
  KEEL_RETURN_IF_ERROR(CheckPayloads(request.details(), "heartbeat details"));
  KEEL_RETURN_IF_ERROR(ValidateName(request.identity(), "identity", false));
  v1::TaskToken token;
  RunLock lock;
  KEEL_ASSIGN_OR_RETURN(RunPtr run, LockActivityTask(request.task_token(), token, request.identity(), lock));
  const int64_t id = token.scheduled_event_id();
  const Time now = clock_.Now();
  ActivityLease& lease = run->activity_leases.at(id);
  const v1::ActivityState& a = run->state.activities().at(id);
  Duration hb = FromProtoDuration(a.heartbeat_timeout());
  if (hb > Duration::zero()) {
    lease.heartbeat_deadline = now + hb;
    timers_->SetDeadline(DeadlineKind::kActivityHeartbeat, run->exec_id, id, *lease.heartbeat_deadline);
  }
  if (request.has_details()) {
    if (lease.details_saved && now - *lease.details_saved < options_.heartbeat_save_interval) {
      lease.unsaved_details = request.details();  // written later (heartbeat_save_interval)
      lease.unsaved_time = now;
    } else {
      // Persisted so the next attempt sees them, also after a restart.
      Mutation m(*run, now);
      auto& st = m.state().mutable_activities()->at(id);
      *st.mutable_heartbeat_details() = request.details();
      *st.mutable_last_heartbeat_time() = ToProtoTime(now);
      KEEL_RETURN_IF_ERROR(Commit(*run, m));
      lease.details_saved = now;
      lease.unsaved_details.reset();
    }
  }
  v1::RecordActivityTaskHeartbeatResponse resp;
  resp.set_cancel_requested(run->state.activities().at(id).cancel_requested());
  return resp;
}

Result<v1::RespondActivityTaskCompletedResponse> EngineImpl::RespondActivityTaskCompleted(
    const v1::RespondActivityTaskCompletedRequest& request) {
  return Synchronously<v1::RespondActivityTaskCompletedResponse>([&](auto done) { CompleteActivityTask(request, CommitMode::kSync, std::move(done)); });
}

void EngineImpl::RespondActivityTaskCompleted(const v1::RespondActivityTaskCompletedRequest& request,
                                              Callback<v1::RespondActivityTaskCompletedResponse> done) {
  CompleteActivityTask(request, CallbackMode(), std::move(done));
}

void EngineImpl::CompleteActivityTask(const v1::RespondActivityTaskCompletedRequest& request, CommitMode mode,
                                      Callback<v1::RespondActivityTaskCompletedResponse> done) {
  Status bad = CheckPayloads(request.result(), "activity result");
  if (bad.ok()) bad = ValidateName(request.identity(), "identity", false);
  if (bad.ok()) bad = CheckEagerRequest(request.request_workflow_task(), request.identity());
  const bool has_on_result = request.has_workflow_task_on_result();
  const v1::WorkflowTaskOnResult& on_result = request.workflow_task_on_result();
  if (bad.ok() && has_on_result) bad = CheckWorkflowTaskOnResult(on_result, request.identity());
  if (!bad.ok()) return done(bad);
  // What the call holds until it is answered, perhaps on another thread (CommitThen).
  struct Call {
    explicit Call(EngineImpl& e) : async(e), busy(e) {}
    AsyncCallScope async;
    BusyScope busy;  // declared before the lock: notifies after it is released
    RunLock lock;
    RunPtr run;
    v1::TaskToken token;
    std::optional<Mutation> m;
    bool eager = false;
    bool applied = false;
    int64_t eager_id = 0;
    WorkflowTaskLease lease;
  };
  auto call = std::make_shared<Call>(*this);
  auto locked = LockActivityTask(request.task_token(), call->token, request.identity(), call->lock);
  if (!locked.ok()) return done(locked.status());
  call->run = std::move(locked).value();
  RunState& run = *call->run;
  const int64_t id = call->token.scheduled_event_id();
  const Time now = clock_.Now();
  Mutation& m = call->m.emplace(run, now);
  // Checked before the outcome is added: the worker's task assumed the outcome comes next.
  const bool on_result_fits = has_on_result && OnResultFits(run, id, on_result, now);
  call->eager = KeepWorkflowTaskForCaller(run, m, id, request.request_workflow_task());
  int64_t started_id = 0;
  auto* e = AppendOutcome(run, m, id, &started_id)->mutable_activity_task_completed();
  *e->mutable_result() = request.result();
  e->set_scheduled_event_id(id);
  e->set_started_event_id(started_id);
  e->set_identity(request.identity());
  RecordActivityClosed(run, m, id);

  // The worker's own run of the next workflow task, applied in this same transition.
  if (on_result_fits && CanCompleteInside(run, m) &&
      m.state().workflow_task().scheduled_event_id() == on_result.first_event_id() + 2) {
    call->lease = InsideLease(m, FromProtoTime(on_result.started_time()), request.identity());
    v1::RespondWorkflowTaskCompletedRequest completion;
    *completion.mutable_commands() = on_result.commands();
    completion.set_identity(request.identity());
    completion.set_binary_checksum(on_result.binary_checksum());
    completion.set_eager_activity_command(on_result.eager_activity_command());
    call->applied = CompleteInside(run, m, call->lease, completion, &call->eager_id);
  }
  auto answer = [this, call, &request, done = std::move(done)](Status st) {
    if (!st.ok()) {
      call->lock.unlock();
      return done(st);
    }
    RunState& run = *call->run;
    const v1::WorkflowTaskOnResult& on_result = request.workflow_task_on_result();
    ReleaseActivityLease(run, call->token.scheduled_event_id());
    v1::RespondActivityTaskCompletedResponse resp;
    const std::string ns = Namespace(call->token.namespace_());
    if (call->applied) {
      resp.set_workflow_task_applied(true);
      // Its commands may have caused events that need another task (kept for the caller).
      if (call->eager) {
        HandWorkflowTaskToCaller(run, ns, request.identity(), [&] { return resp.mutable_workflow_task(); });
      }
      if (on_result.return_new_events()) EventsAfter(*call->m, call->lease.started_event_id, resp.mutable_events());
      if (call->eager_id > 0) {
        HandActivityToCaller(run, ns, call->eager_id, request.identity(), [&] { return resp.mutable_activity_task(); });
      }
    } else if (call->eager) {
      HandWorkflowTaskToCaller(run, ns, request.identity(), [&] { return resp.mutable_workflow_task(); });
    }
    call->lock.unlock();
    done(std::move(resp));
  };
  if (mode == CommitMode::kAsync) {
    CommitThen(mode, run, m, /*hand_out=*/!call->applied, std::move(answer));
  } else {
    answer(call->applied ? Commit(run, m) : CommitWithInlineTask(run, m));
  }
}

Status EngineImpl::CheckWorkflowTaskOnResult(const v1::WorkflowTaskOnResult& w, const std::string& identity) const {
  if (identity.empty()) return InvalidArgument("workflow_task_on_result needs the worker's identity");
  KEEL_RETURN_IF_ERROR(ValidateTime(w.started_time(), "workflow_task_on_result.started_time"));
  KEEL_RETURN_IF_ERROR(ValidateName(w.binary_checksum(), "binary_checksum", false));
  const int eager = w.eager_activity_command();
  if (eager != 0 && (eager < 1 || eager > w.commands_size() || !w.commands(eager - 1).has_schedule_activity_task())) {
    return InvalidArgument("eager_activity_command " + std::to_string(eager) +
                           " must name a ScheduleActivityTask command (1-based)");
  }
  if (w.first_event_id() < 1) return InvalidArgument("workflow_task_on_result.first_event_id must be positive");
  return Status::Ok();
}

bool EngineImpl::OnResultFits(const RunState& run, int64_t id, const v1::WorkflowTaskOnResult& w, Time now) const {
  // Nothing else may have happened in the run since the worker's last task, and its
  // code's clock must be near the engine's (it becomes the task's recorded time).
  constexpr Duration kSkew = std::chrono::seconds(5);
  const Time started = FromProtoTime(w.started_time());
  const auto lease = run.activity_leases.find(id);
  return !run.workflow_task_lease && !run.state.has_workflow_task() && run.state.buffered_events_size() == 0 &&
         run.state.next_event_id() == w.first_event_id() &&
         run.state.activities().at(id).task_queue() == run.state.task_queue() && lease != run.activity_leases.end() &&
         started >= lease->second.started_time - kSkew && started <= now + kSkew;
}

Result<v1::RespondActivityTaskFailedResponse> EngineImpl::RespondActivityTaskFailed(
    const v1::RespondActivityTaskFailedRequest& request) {
  KEEL_RETURN_IF_ERROR(CheckPayloads(request.last_heartbeat_details(), "heartbeat details"));
  KEEL_RETURN_IF_ERROR(ValidateFailure(request.failure(), options_.max_payload_bytes, "failure"));
  KEEL_RETURN_IF_ERROR(ValidateName(request.identity(), "identity", false));
  KEEL_RETURN_IF_ERROR(CheckEagerRequest(request.request_workflow_task(), request.identity()));
  v1::TaskToken token;
  BusyScope busy(*this);  // declared before the lock: notifies after it is released
  RunLock lock;
  KEEL_ASSIGN_OR_RETURN(RunPtr run, LockActivityTask(request.task_token(), token, request.identity(), lock));
  const int64_t id = token.scheduled_event_id();
  Mutation m(*run, clock_.Now());
  const bool eager = KeepWorkflowTaskForCaller(*run, m, id, request.request_workflow_task());
  TakeUnsavedDetails(*run, m, id);
  if (request.has_last_heartbeat_details()) {
    *m.state().mutable_activities()->at(id).mutable_heartbeat_details() = request.last_heartbeat_details();
  }
  ActivityAttemptFailed(*run, m, id, request.failure(), request.identity());
  KEEL_RETURN_IF_ERROR(CommitWithInlineTask(*run, m));
  ReleaseActivityLease(*run, id);
  v1::RespondActivityTaskFailedResponse resp;
  if (eager) HandWorkflowTaskToCaller(*run, Namespace(token.namespace_()), request.identity(),
                                      [&] { return resp.mutable_workflow_task(); });
  return resp;
}

Result<v1::RespondActivityTaskCanceledResponse> EngineImpl::RespondActivityTaskCanceled(
    const v1::RespondActivityTaskCanceledRequest& request) {
  KEEL_RETURN_IF_ERROR(CheckPayloads(request.details(), "cancel details"));
  KEEL_RETURN_IF_ERROR(ValidateName(request.identity(), "identity", false));
  KEEL_RETURN_IF_ERROR(CheckEagerRequest(request.request_workflow_task(), request.identity()));
  v1::TaskToken token;
  BusyScope busy(*this);  // declared before the lock: notifies after it is released
  RunLock lock;
  KEEL_ASSIGN_OR_RETURN(RunPtr run, LockActivityTask(request.task_token(), token, request.identity(), lock));
  const int64_t id = token.scheduled_event_id();
  Mutation m(*run, clock_.Now());
  const bool eager = KeepWorkflowTaskForCaller(*run, m, id, request.request_workflow_task());
  const v1::ActivityState& a = m.state().activities().at(id);
  int64_t started_id = 0;
  int64_t cancel_event = a.cancel_requested_event_id();
  auto* e = AppendOutcome(*run, m, id, &started_id)->mutable_activity_task_canceled();
  *e->mutable_details() = request.details();
  e->set_scheduled_event_id(id);
  e->set_started_event_id(started_id);
  e->set_latest_cancel_requested_event_id(cancel_event);
  e->set_identity(request.identity());
  RecordActivityClosed(*run, m, id);
  KEEL_RETURN_IF_ERROR(CommitWithInlineTask(*run, m));
  ReleaseActivityLease(*run, id);
  v1::RespondActivityTaskCanceledResponse resp;
  if (eager) HandWorkflowTaskToCaller(*run, Namespace(token.namespace_()), request.identity(),
                                      [&] { return resp.mutable_workflow_task(); });
  return resp;
}

}  // namespace keel::core
