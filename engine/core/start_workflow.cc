// Starting runs: id uniqueness, the id-reuse policy, request-id dedup, signal-with-start.
#include "engine/core/engine_impl.h"
#include "engine/core/validation.h"
#include "engine/history/convert.h"
#include "engine/log.h"

namespace keel::core {

namespace {

bool ClosedUnsuccessfully(int status) {
  return status == v1::WORKFLOW_EXECUTION_STATUS_FAILED ||
         status == v1::WORKFLOW_EXECUTION_STATUS_CANCELED ||
         status == v1::WORKFLOW_EXECUTION_STATUS_TERMINATED ||
         status == v1::WORKFLOW_EXECUTION_STATUS_TIMED_OUT;
}

Status ValidateStart(const v1::StartWorkflowExecutionRequest& r) {
  KEEL_RETURN_IF_ERROR(ValidateName(r.namespace_(), "namespace", false));
  KEEL_RETURN_IF_ERROR(ValidateName(r.workflow_id(), "workflow_id"));
  KEEL_RETURN_IF_ERROR(ValidateName(r.workflow_type(), "workflow_type"));
  KEEL_RETURN_IF_ERROR(ValidateName(r.task_queue(), "task_queue", false));
  KEEL_RETURN_IF_ERROR(ValidateName(r.request_id(), "request_id", false));
  for (const auto* d : {&r.workflow_execution_timeout(), &r.workflow_run_timeout(),
                        &r.workflow_task_timeout()}) {
    if (d->seconds() < 0 || d->nanos() < 0) return InvalidArgument("timeouts must not be negative");
  }
  if (!v1::WorkflowIdReusePolicy_IsValid(r.workflow_id_reuse_policy())) {
    return InvalidArgument("unknown workflow_id_reuse_policy");
  }
  return Status::Ok();
}

}  // namespace

std::mutex& EngineImpl::WorkflowIdLock(const std::string& ns, const std::string& workflow_id) {
  return workflow_id_locks_[std::hash<std::string>()(ns + '\0' + workflow_id) %
                            workflow_id_locks_.size()];
}

Result<v1::StartWorkflowExecutionResponse> EngineImpl::StartWorkflowExecution(
    const v1::StartWorkflowExecutionRequest& request) {
  KEEL_ASSIGN_OR_RETURN(StartOutcome out, StartLocked(request, nullptr));
  v1::StartWorkflowExecutionResponse resp;
  resp.set_run_id(out.run_id);
  resp.set_started(out.started);
  return resp;
}

Result<v1::SignalWithStartWorkflowExecutionResponse> EngineImpl::SignalWithStartWorkflowExecution(
    const v1::SignalWithStartWorkflowExecutionRequest& request) {
  KEEL_RETURN_IF_ERROR(ValidateName(request.signal_name(), "signal_name"));
  KEEL_RETURN_IF_ERROR(CheckPayloads(request.signal_input(), "signal input"));
  KEEL_ASSIGN_OR_RETURN(StartOutcome out, StartLocked(request.start(), &request));
  v1::SignalWithStartWorkflowExecutionResponse resp;
  resp.set_run_id(out.run_id);
  resp.set_started(out.started);
  return resp;
}

Result<EngineImpl::StartOutcome> EngineImpl::StartLocked(
    const v1::StartWorkflowExecutionRequest& request,
    const v1::SignalWithStartWorkflowExecutionRequest* with_signal) {
  KEEL_RETURN_IF_ERROR(ValidateStart(request));
  KEEL_RETURN_IF_ERROR(CheckPayloads(request.input(), "workflow input"));
  const std::string ns = Namespace(request.namespace_());
  std::lock_guard<std::mutex> id_lock(WorkflowIdLock(ns, request.workflow_id()));

  KEEL_ASSIGN_OR_RETURN(auto current, store_->GetCurrentExecution(ns, request.workflow_id()));
  if (current) {
    if (!request.request_id().empty() && current->start_request_id == request.request_id()) {
      return StartOutcome{current->run_id, false};
    }
    if (current->status == v1::WORKFLOW_EXECUTION_STATUS_RUNNING) {
      if (with_signal) {
        v1::SignalWorkflowExecutionRequest sig;
        sig.set_namespace_(ns);
        sig.mutable_workflow_execution()->set_workflow_id(request.workflow_id());
        sig.mutable_workflow_execution()->set_run_id(current->run_id);
        sig.set_signal_name(with_signal->signal_name());
        *sig.mutable_input() = with_signal->signal_input();
        sig.set_identity(request.identity());
        sig.set_request_id(request.request_id());
        KEEL_RETURN_IF_ERROR(SignalWorkflowExecution(sig).status());
        return StartOutcome{current->run_id, false};
      }
      return AlreadyExists("workflow '" + request.workflow_id() + "' is already running (run " +
                           current->run_id + ")");
    }
    auto policy = request.workflow_id_reuse_policy();
    if (policy == v1::WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE) {
      return AlreadyExists("workflow id '" + request.workflow_id() +
                           "' was used before and the reuse policy rejects duplicates");
    }
    if (policy == v1::WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE_FAILED_ONLY &&
        !ClosedUnsuccessfully(current->status)) {
      return AlreadyExists("workflow id '" + request.workflow_id() +
                           "' completed successfully and the reuse policy allows reuse only "
                           "after a failure");
    }
  }

  const Time now = clock_.Now();
  const int64_t exec_id = next_exec_id_.fetch_add(1);
  v1::ExecutionState s;
  s.set_namespace_(ns);
  s.set_workflow_id(request.workflow_id());
  s.set_run_id(random_.Uuid());
  s.set_workflow_type(request.workflow_type());
  s.set_task_queue(request.task_queue().empty() ? "default" : request.task_queue());
  s.set_status(v1::WORKFLOW_EXECUTION_STATUS_RUNNING);
  *s.mutable_start_time() = ToProtoTime(now);
  s.set_start_request_id(request.request_id());
  Duration task_timeout = FromProtoDuration(request.workflow_task_timeout());
  if (task_timeout <= Duration::zero()) task_timeout = options_.default_workflow_task_timeout;
  *s.mutable_workflow_task_timeout() = ToProtoDuration(task_timeout);
  Duration exec_timeout = FromProtoDuration(request.workflow_execution_timeout());
  Duration run_timeout = FromProtoDuration(request.workflow_run_timeout());
  if (exec_timeout > Duration::zero()) *s.mutable_execution_expiration_time() = ToProtoTime(now + exec_timeout);
  if (run_timeout > Duration::zero()) *s.mutable_run_expiration_time() = ToProtoTime(now + run_timeout);
  *s.mutable_memo() = request.memo();
  *s.mutable_search_attributes() = request.search_attributes();
  s.set_first_execution_run_id(s.run_id());
  if (request.has_retry_policy()) *s.mutable_retry_policy() = request.retry_policy();
  s.set_attempt(1);

  Mutation m(exec_id, s, now);
  auto* started = m.Append()->mutable_workflow_execution_started();
  started->set_workflow_type(s.workflow_type());
  started->set_task_queue(s.task_queue());
  *started->mutable_input() = request.input();
  *started->mutable_workflow_execution_timeout() = request.workflow_execution_timeout();
  *started->mutable_workflow_run_timeout() = request.workflow_run_timeout();
  *started->mutable_workflow_task_timeout() = s.workflow_task_timeout();
  started->set_identity(request.identity());
  started->set_request_id(request.request_id());
  started->set_attempt(1);
  if (request.has_retry_policy()) *started->mutable_retry_policy() = request.retry_policy();
  started->set_first_execution_run_id(s.run_id());
  *started->mutable_memo() = request.memo();
  *started->mutable_search_attributes() = request.search_attributes();
  if (s.has_execution_expiration_time()) {
    *started->mutable_workflow_execution_expiration_time() = s.execution_expiration_time();
  }
  if (with_signal) {
    auto* sig = m.Append()->mutable_workflow_execution_signaled();
    sig->set_signal_name(with_signal->signal_name());
    *sig->mutable_input() = with_signal->signal_input();
    sig->set_identity(request.identity());
    sig->set_request_id(request.request_id());
    if (!request.request_id().empty()) m.state().add_signal_request_ids(request.request_id());
  }
  m.ScheduleWorkflowTask();
  if (exec_timeout > Duration::zero()) {
    m.AddTimer(store::TimerKind::kWorkflowExecutionTimeout, 0, now + exec_timeout);
  }
  if (run_timeout > Duration::zero()) {
    m.AddTimer(store::TimerKind::kWorkflowRunTimeout, 0, now + run_timeout);
  }

  // The run is cached before its commit so that a poller that gets its first task finds
  // this RunState (and waits on its lock) instead of loading a second copy.
  auto run = std::make_shared<RunState>();
  run->exec_id = exec_id;
  run->recent_events_valid = true;  // all its events pass through Commit
  std::unique_lock<std::mutex> run_lock(run->mu);
  {
    std::lock_guard<std::mutex> g(cache_mu_);
    runs_[exec_id] = run;
    run_ids_[s.run_id()] = exec_id;
  }
  Status st = Commit(*run, m);
  if (!st.ok()) {
    std::lock_guard<std::mutex> g(cache_mu_);
    runs_.erase(exec_id);
    run_ids_.erase(s.run_id());
    return st;
  }
  run_lock.unlock();
  MaybeEvict();
  return StartOutcome{s.run_id(), true};
}

}  // namespace keel::core
