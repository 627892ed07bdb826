// Starting runs: id uniqueness, the id-reuse policy, request-id dedup, signal-with-start.
#include "engine/core/engine_impl.h"
#include "engine/core/validation.h"
#include "engine/history/convert.h"
#include "engine/log.h"

namespace keel::core {

namespace {

// The result read a start that waits makes for run `run_id`.
v1::GetWorkflowExecutionResultRequest ResultWait(const v1::StartWorkflowExecutionRequest& request,
                                                 const std::string& run_id) {
  v1::GetWorkflowExecutionResultRequest wait;
  wait.set_namespace_(request.namespace_());
  wait.mutable_workflow_execution()->set_workflow_id(request.workflow_id());
  wait.mutable_workflow_execution()->set_run_id(run_id);
  wait.set_wait(true);
  wait.set_follow_runs(true);
  return wait;
}

// Answers the start with `resp` and what the wait gave. The run exists whatever the wait
// gives: a failed wait leaves `result` unset (the caller asks again) rather than making
// the start look failed.
Engine::Callback<v1::GetWorkflowExecutionResultResponse> WithResult(
    v1::StartWorkflowExecutionResponse resp, Engine::Callback<v1::StartWorkflowExecutionResponse> done) {
  return [done = std::move(done), resp = std::move(resp)](Result<v1::GetWorkflowExecutionResultResponse> result) mutable {
    if (result.ok()) {
      *resp.mutable_result() = std::move(result).value();
    } else {
      Log().debug("engine: waiting for the result of run {} failed: {}", resp.run_id(), result.status().ToString());
    }
    done(std::move(resp));
  };
}


bool ClosedUnsuccessfully(int status) {
  return status == v1::WORKFLOW_EXECUTION_STATUS_FAILED ||
         status == v1::WORKFLOW_EXECUTION_STATUS_CANCELED ||
         status == v1::WORKFLOW_EXECUTION_STATUS_TERMINATED ||
         status == v1::WORKFLOW_EXECUTION_STATUS_TIMED_OUT;
}

Status ValidateStart(const v1::StartWorkflowExecutionRequest& r, size_t max_payload_bytes) {
  KEEL_RETURN_IF_ERROR(ValidateName(r.namespace_(), "namespace", false));
  KEEL_RETURN_IF_ERROR(ValidateName(r.workflow_id(), "workflow_id"));
  KEEL_RETURN_IF_ERROR(ValidateName(r.workflow_type(), "workflow_type"));
  KEEL_RETURN_IF_ERROR(ValidateName(r.task_queue(), "task_queue", false));
  KEEL_RETURN_IF_ERROR(ValidateName(r.request_id(), "request_id", false));
  KEEL_RETURN_IF_ERROR(ValidateName(r.identity(), "identity", false));
  KEEL_RETURN_IF_ERROR(ValidateDuration(r.workflow_execution_timeout(), "workflow_execution_timeout"));
  KEEL_RETURN_IF_ERROR(ValidateDuration(r.workflow_run_timeout(), "workflow_run_timeout"));
  KEEL_RETURN_IF_ERROR(ValidateDuration(r.workflow_task_timeout(), "workflow_task_timeout"));
  if (!v1::WorkflowIdReusePolicy_IsValid(r.workflow_id_reuse_policy())) {
    return InvalidArgument("unknown workflow_id_reuse_policy " + std::to_string(r.workflow_id_reuse_policy()));
  }
  if (r.has_retry_policy()) KEEL_RETURN_IF_ERROR(ValidateRetryPolicy(r.retry_policy(), "retry_policy"));
  return ValidateMemoAndSearchAttributes(r.memo(), r.search_attributes(), max_payload_bytes);
}

}  // namespace

RunMutex& EngineImpl::WorkflowIdLock(const std::string& ns, const std::string& workflow_id) {
  return workflow_id_locks_[std::hash<std::string>()(ns + '\0' + workflow_id) %
                            workflow_id_locks_.size()];
}

Result<v1::StartWorkflowExecutionResponse> EngineImpl::StartWorkflowExecution(
    const v1::StartWorkflowExecutionRequest& request) {
  return StartWorkflowExecution(request, options_.poll_timeout);
}

Result<v1::StartWorkflowExecutionResponse> EngineImpl::StartWorkflowExecution(
    const v1::StartWorkflowExecutionRequest& request, Duration max_wait) {
  return Synchronously<v1::StartWorkflowExecutionResponse>(
      [&](auto done) { StartCall(request, max_wait, CommitMode::kSync, std::move(done)); });
}

void EngineImpl::StartWorkflowExecution(const v1::StartWorkflowExecutionRequest& request, Duration max_wait,
                                        Callback<v1::StartWorkflowExecutionResponse> done) {
  StartCall(request, max_wait, CallbackMode(), std::move(done));
}

void EngineImpl::StartCall(const v1::StartWorkflowExecutionRequest& request, Duration max_wait, CommitMode mode,
                           Callback<v1::StartWorkflowExecutionResponse> done) {
  // The wait ends `max_wait` after the call came (the caller's deadline), not after the commit.
  const Time deadline = clock_.Now() + std::min(options_.poll_timeout, max_wait);
  // Asynchronously, a new run's wait is registered as its commit completes, while the run
  // is still locked: it cannot close before, and nothing has to look for it.
  const bool wait_on_commit = request.wait_for_result() && mode == CommitMode::kAsync;
  std::function<void(const RunState&)> committed;
  if (wait_on_commit) {
    committed = [this, &request, deadline, done](const RunState& run) {
      v1::StartWorkflowExecutionResponse resp;
      resp.set_run_id(run.state.run_id());
      resp.set_started(true);
      WaitForClose(run, ResultWait(request, run.state.run_id()), deadline, WithResult(std::move(resp), done));
    };
  }
  StartRunCall(
      request, nullptr, nullptr, mode,
      [this, &request, max_wait, deadline, mode, done, wait_on_commit](Result<StartOutcome> out) {
        if (!out.ok()) return done(out.status());
        if (wait_on_commit && out->started) return;  // answered at the close (`committed`)
        v1::StartWorkflowExecutionResponse resp;
        resp.set_run_id(out->run_id);
        resp.set_started(out->started);
        if (!request.wait_for_result()) return done(std::move(resp));
        auto wait = ResultWait(request, out->run_id);
        auto answer = WithResult(std::move(resp), done);
        if (mode == CommitMode::kSync) {
          answer(GetWorkflowExecutionResult(wait, max_wait));
          return;
        }
        // An existing run (a repeated start): on the waits' thread, as looking takes the
        // run's lock, which a commit's callback must not wait for (CloseWaits::Post).
        close_waits_->Post([this, wait = std::move(wait), deadline, answer = std::move(answer)](bool running) mutable {
          if (!running) return answer(Unavailable("the engine is shutting down"));
          AwaitResult(std::move(wait), deadline, std::move(answer));
        });
      },
      std::move(committed));
}

Result<v1::SignalWithStartWorkflowExecutionResponse> EngineImpl::SignalWithStartWorkflowExecution(
    const v1::SignalWithStartWorkflowExecutionRequest& request) {
  if (request.start().wait_for_result()) {
    return InvalidArgument("wait_for_result is for StartWorkflowExecution only (signal-with-start "
                           "returns at once; wait with GetWorkflowExecutionResult)");
  }
  KEEL_RETURN_IF_ERROR(ValidateName(request.signal_name(), "signal_name"));
  KEEL_RETURN_IF_ERROR(CheckPayloads(request.signal_input(), "signal input"));
  KEEL_ASSIGN_OR_RETURN(StartOutcome out, StartLocked(request.start(), &request, nullptr));
  v1::SignalWithStartWorkflowExecutionResponse resp;
  resp.set_run_id(out.run_id);
  resp.set_started(out.started);
  return resp;
}

Result<EngineImpl::StartOutcome> EngineImpl::StartLocked(
    const v1::StartWorkflowExecutionRequest& request,
    const v1::SignalWithStartWorkflowExecutionRequest* with_signal, const v1::ParentInfo* parent) {
  return Synchronously<StartOutcome>(
      [&](auto done) { StartRunCall(request, with_signal, parent, CommitMode::kSync, std::move(done)); });
}

void EngineImpl::StartRunCall(const v1::StartWorkflowExecutionRequest& request,
                              const v1::SignalWithStartWorkflowExecutionRequest* with_signal,
                              const v1::ParentInfo* parent, CommitMode mode,
                              std::function<void(Result<StartOutcome>)> done,
                              std::function<void(const RunState&)> committed) {
  Status bad = ValidateStart(request, options_.max_payload_bytes);
  if (bad.ok()) bad = CheckPayloads(request.input(), "workflow input");
  if (!bad.ok()) return done(bad);
  const std::string ns = Namespace(request.namespace_());
  // What the call holds until it is answered, perhaps on another thread (CommitThen).
  struct Call {
    explicit Call(EngineImpl& e) : async(e) {}
    AsyncCallScope async;
    std::unique_lock<RunMutex> id_lock;
    NewRun fresh;
    RunLock run_lock;
  };
  auto call = std::make_shared<Call>(*this);
  call->id_lock = std::unique_lock<RunMutex>(WorkflowIdLock(ns, request.workflow_id()));
  // Answers given before the commit: the id lock is released first, as at a return.
  auto answer_now = [&](Result<StartOutcome> out) {
    call->id_lock.unlock();
    done(std::move(out));
  };

  auto current = store_->GetCurrentExecution(ns, request.workflow_id());
  if (!current.ok()) return answer_now(current.status());
  if (*current) {
    const store::ExecutionRow& row = **current;
    if (!request.request_id().empty() && row.start_request_id == request.request_id()) {
      return answer_now(StartOutcome{row.run_id, false});
    }
    if (row.status == v1::WORKFLOW_EXECUTION_STATUS_RUNNING) {
      if (with_signal) {
        v1::SignalWorkflowExecutionRequest sig;
        sig.set_namespace_(ns);
        sig.mutable_workflow_execution()->set_workflow_id(request.workflow_id());
        sig.mutable_workflow_execution()->set_run_id(row.run_id);
        sig.set_signal_name(with_signal->signal_name());
        *sig.mutable_input() = with_signal->signal_input();
        sig.set_identity(request.identity());
        sig.set_request_id(request.request_id());
        Status signaled = SignalWorkflowExecution(sig).status();
        if (!signaled.ok()) return answer_now(signaled);
        return answer_now(StartOutcome{row.run_id, false});
      }
      return answer_now(AlreadyExists("workflow '" + request.workflow_id() + "' is already running (run " +
                                      row.run_id + ")"));
    }
    auto policy = request.workflow_id_reuse_policy();
    if (policy == v1::WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE) {
      return answer_now(AlreadyExists("workflow id '" + request.workflow_id() +
                                      "' was used before and the reuse policy rejects duplicates"));
    }
    if (policy == v1::WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE_FAILED_ONLY && !ClosedUnsuccessfully(row.status)) {
      return answer_now(AlreadyExists("workflow id '" + request.workflow_id() +
                                      "' completed successfully and the reuse policy allows reuse only "
                                      "after a failure"));
    }
  }

  const Time now = clock_.Now();
  const Duration exec_timeout = FromProtoDuration(request.workflow_execution_timeout());
  v1::WorkflowExecutionStartedEventAttributes started;
  started.set_workflow_type(request.workflow_type());
  started.set_task_queue(request.task_queue());
  *started.mutable_input() = request.input();
  *started.mutable_workflow_execution_timeout() = request.workflow_execution_timeout();
  *started.mutable_workflow_run_timeout() = request.workflow_run_timeout();
  *started.mutable_workflow_task_timeout() = request.workflow_task_timeout();
  started.set_identity(request.identity());
  started.set_request_id(request.request_id());
  started.set_attempt(1);
  if (request.has_retry_policy()) *started.mutable_retry_policy() = request.retry_policy();
  *started.mutable_memo() = request.memo();
  *started.mutable_search_attributes() = request.search_attributes();
  if (exec_timeout > Duration::zero()) {
    *started.mutable_workflow_execution_expiration_time() = ToProtoTime(now + exec_timeout);
  }
  if (parent) {
    started.set_parent_workflow_namespace(parent->namespace_());
    *started.mutable_parent_workflow_execution() = parent->execution();
    started.set_parent_initiated_event_id(parent->initiated_event_id());
  }
  std::string run_id = random_.Uuid();
  started.set_first_execution_run_id(run_id);

  call->fresh = StartNewRun(ns, request.workflow_id(), run_id, started, now);
  Mutation& m = *call->fresh.mutation;
  if (with_signal) {
    auto* sig = m.Append()->mutable_workflow_execution_signaled();
    sig->set_signal_name(with_signal->signal_name());
    *sig->mutable_input() = with_signal->signal_input();
    sig->set_identity(request.identity());
    sig->set_request_id(request.request_id());
    m.RememberSignalRequestId(request.request_id());
  }
  m.ScheduleWorkflowTask();
  call->run_lock = RunLock(call->fresh.run->mu);
  auto answer = [this, call, run_id, done, committed = std::move(committed)](Status st) {
    if (!st.ok()) DropNewRun(*call->fresh.run);
    if (st.ok() && committed) committed(*call->fresh.run);
    call->run_lock.unlock();
    if (st.ok()) MaybeEvict();
    call->id_lock.unlock();
    if (!st.ok()) return done(st);
    done(StartOutcome{run_id, true});
  };
  if (mode == CommitMode::kAsync) {
    CommitThen(mode, *call->fresh.run, m, /*hand_out=*/true, std::move(answer));
  } else {
    answer(CommitWithInlineTask(*call->fresh.run, m));
  }
}

EngineImpl::NewRun EngineImpl::StartNewRun(const std::string& ns, const std::string& workflow_id,
                                           const std::string& run_id,
                                           v1::WorkflowExecutionStartedEventAttributes started, Time now) {
  const int64_t exec_id = next_exec_id_.fetch_add(1);
  if (started.task_queue().empty()) started.set_task_queue("default");
  if (FromProtoDuration(started.workflow_task_timeout()) <= Duration::zero()) {
    *started.mutable_workflow_task_timeout() = ToProtoDuration(options_.default_workflow_task_timeout);
  }
  v1::ExecutionState s;
  s.set_namespace_(ns);
  s.set_workflow_id(workflow_id);
  s.set_run_id(run_id);
  s.set_workflow_type(started.workflow_type());
  s.set_task_queue(started.task_queue());
  s.set_status(v1::WORKFLOW_EXECUTION_STATUS_RUNNING);
  *s.mutable_start_time() = ToProtoTime(now);
  s.set_start_request_id(started.request_id());
  *s.mutable_workflow_task_timeout() = started.workflow_task_timeout();
  if (started.has_workflow_execution_expiration_time()) {
    *s.mutable_execution_expiration_time() = started.workflow_execution_expiration_time();
  }
  Duration run_timeout = FromProtoDuration(started.workflow_run_timeout());
  if (run_timeout > Duration::zero()) *s.mutable_run_expiration_time() = ToProtoTime(now + run_timeout);
  *s.mutable_memo() = started.memo();
  s.set_first_execution_run_id(started.first_execution_run_id().empty() ? run_id
                                                                         : started.first_execution_run_id());
  if (started.has_retry_policy()) *s.mutable_retry_policy() = started.retry_policy();
  s.set_attempt(std::max(1, started.attempt()));
  if (started.has_parent_workflow_execution()) {
    s.mutable_parent()->set_namespace_(started.parent_workflow_namespace());
    *s.mutable_parent()->mutable_execution() = started.parent_workflow_execution();
    s.mutable_parent()->set_initiated_event_id(started.parent_initiated_event_id());
  }

  NewRun out;
  out.mutation = std::make_unique<Mutation>(exec_id, s, now);
  Mutation& m = *out.mutation;
  *m.Append()->mutable_workflow_execution_started() = started;
  for (const auto& [name, value] : started.search_attributes()) m.SetSearchAttribute(name, value);
  if (s.has_execution_expiration_time()) {
    m.AddTimer(store::TimerKind::kWorkflowExecutionTimeout, 0, FromProtoTime(s.execution_expiration_time()));
  }
  if (run_timeout > Duration::zero()) {
    m.AddTimer(store::TimerKind::kWorkflowRunTimeout, 0, now + run_timeout);
  }
  // The run is cached before its commit so that a poller that gets its first task finds
  // this RunState (and waits on its lock) instead of loading a second copy.
  out.run = std::make_shared<RunState>();
  out.run->exec_id = exec_id;
  out.run->recent_events_valid = true;  // all its events pass through Commit
  {
    std::lock_guard<std::mutex> g(cache_mu_);
    runs_[exec_id] = out.run;
    run_ids_[run_id] = exec_id;
  }
  return out;
}

void EngineImpl::DropNewRun(RunState& run) {
  std::lock_guard<std::mutex> g(cache_mu_);
  runs_.erase(run.exec_id);
  for (auto it = run_ids_.begin(); it != run_ids_.end(); ++it) {
    if (it->second == run.exec_id) {
      run_ids_.erase(it);
      break;
    }
  }
}


}  // namespace keel::core
