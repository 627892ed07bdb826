// Client requests on existing runs: signal, cancel, terminate, describe, list, history
// and result (the last two can long-poll).
#include <algorithm>
#include <optional>

#include <nlohmann/json.hpp>

#include "engine/core/engine_impl.h"
#include "engine/core/validation.h"
#include "engine/history/convert.h"
#include "engine/history/event_util.h"

namespace keel::core {

namespace {

std::string StatusWord(int status) {
  switch (status) {
    case v1::WORKFLOW_EXECUTION_STATUS_RUNNING: return "running";
    case v1::WORKFLOW_EXECUTION_STATUS_COMPLETED: return "completed";
    case v1::WORKFLOW_EXECUTION_STATUS_FAILED: return "failed";
    case v1::WORKFLOW_EXECUTION_STATUS_CANCELED: return "canceled";
    case v1::WORKFLOW_EXECUTION_STATUS_TERMINATED: return "terminated";
    case v1::WORKFLOW_EXECUTION_STATUS_CONTINUED_AS_NEW: return "continued as new";
    case v1::WORKFLOW_EXECUTION_STATUS_TIMED_OUT: return "timed out";
  }
  return "unknown";
}

Status NotRunning(const v1::ExecutionState& s) {
  return NotFound("workflow '" + s.workflow_id() + "' (run " + s.run_id() + ") is not running; it " +
                  (s.status() == v1::WORKFLOW_EXECUTION_STATUS_CONTINUED_AS_NEW ? "continued as new"
                                                                                : "is " + StatusWord(s.status())));
}

v1::WorkflowExecutionInfo InfoFromState(const v1::ExecutionState& s) {
  v1::WorkflowExecutionInfo info;
  info.mutable_execution()->set_workflow_id(s.workflow_id());
  info.mutable_execution()->set_run_id(s.run_id());
  info.set_workflow_type(s.workflow_type());
  info.set_task_queue(s.task_queue());
  info.set_status(s.status());
  *info.mutable_start_time() = s.start_time();
  if (s.has_close_time()) *info.mutable_close_time() = s.close_time();
  info.set_history_length(s.next_event_id() - 1);
  *info.mutable_memo() = s.memo();
  *info.mutable_search_attributes() = s.search_attributes();
  return info;
}

Status ValidateExecution(const std::string& ns, const v1::WorkflowExecution& ex) {
  KEEL_RETURN_IF_ERROR(ValidateName(ns, "namespace", false));
  KEEL_RETURN_IF_ERROR(ValidateName(ex.workflow_id(), "workflow_id", ex.run_id().empty()));
  return ValidateName(ex.run_id(), "run_id", false);
}

// Page tokens are decimal ids that this file handed out; anything else is malformed.
Result<int64_t> ParsePageToken(const std::string& token) {
  int64_t value = 0;
  if (token.empty() || token.size() > 18 || token.find_first_not_of("0123456789") != std::string::npos ||
      (value = std::stoll(token)) <= 0) {
    return InvalidArgument("malformed next_page_token");
  }
  return value;
}

}  // namespace

Result<v1::SignalWorkflowExecutionResponse> EngineImpl::SignalWorkflowExecution(
    const v1::SignalWorkflowExecutionRequest& request) {
  KEEL_RETURN_IF_ERROR(ValidateExecution(request.namespace_(), request.workflow_execution()));
  KEEL_RETURN_IF_ERROR(ValidateName(request.signal_name(), "signal_name"));
  KEEL_RETURN_IF_ERROR(ValidateName(request.request_id(), "request_id", false));
  KEEL_RETURN_IF_ERROR(ValidateName(request.identity(), "identity", false));
  KEEL_RETURN_IF_ERROR(CheckPayloads(request.input(), "signal input"));
  RunLock lock;
  KEEL_ASSIGN_OR_RETURN(RunPtr run, LockExecution(request.namespace_(), request.workflow_execution(), lock));
  if (!run->Running()) return NotRunning(run->state);
  const auto& seen = run->state.signal_request_ids();
  if (!request.request_id().empty() &&
      std::find(seen.begin(), seen.end(), request.request_id()) != seen.end()) {
    return v1::SignalWorkflowExecutionResponse();  // a retry of a recorded signal
  }
  Mutation m(*run, clock_.Now());
  auto* a = m.AddForWorkflow()->mutable_workflow_execution_signaled();
  a->set_signal_name(request.signal_name());
  *a->mutable_input() = request.input();
  a->set_identity(request.identity());
  a->set_request_id(request.request_id());
  m.RememberSignalRequestId(request.request_id());
  KEEL_RETURN_IF_ERROR(CommitWithInlineTask(*run, m));
  return v1::SignalWorkflowExecutionResponse();
}

Result<v1::RequestCancelWorkflowExecutionResponse> EngineImpl::RequestCancelWorkflowExecution(
    const v1::RequestCancelWorkflowExecutionRequest& request) {
  KEEL_RETURN_IF_ERROR(ValidateExecution(request.namespace_(), request.workflow_execution()));
  KEEL_RETURN_IF_ERROR(ValidateName(request.identity(), "identity", false));
  KEEL_RETURN_IF_ERROR(ValidateName(request.request_id(), "request_id", false));
  KEEL_RETURN_IF_ERROR(ValidateText(request.reason(), "reason"));
  RunLock lock;
  KEEL_ASSIGN_OR_RETURN(RunPtr run, LockExecution(request.namespace_(), request.workflow_execution(), lock));
  if (!run->Running()) return NotRunning(run->state);
  if (run->state.cancel_requested()) return v1::RequestCancelWorkflowExecutionResponse();
  Mutation m(*run, clock_.Now());
  auto* a = m.AddForWorkflow()->mutable_workflow_execution_cancel_requested();
  a->set_cause(request.reason());
  a->set_identity(request.identity());
  a->set_request_id(request.request_id());
  m.state().set_cancel_requested(true);
  KEEL_RETURN_IF_ERROR(Commit(*run, m));
  return v1::RequestCancelWorkflowExecutionResponse();
}

Result<v1::TerminateWorkflowExecutionResponse> EngineImpl::TerminateWorkflowExecution(
    const v1::TerminateWorkflowExecutionRequest& request) {
  KEEL_RETURN_IF_ERROR(ValidateExecution(request.namespace_(), request.workflow_execution()));
  KEEL_RETURN_IF_ERROR(ValidateName(request.identity(), "identity", false));
  KEEL_RETURN_IF_ERROR(ValidateText(request.reason(), "reason"));
  KEEL_RETURN_IF_ERROR(CheckPayloads(request.details(), "terminate details"));
  RunLock lock;
  KEEL_ASSIGN_OR_RETURN(RunPtr run, LockExecution(request.namespace_(), request.workflow_execution(), lock));
  if (!run->Running()) return NotRunning(run->state);
  Mutation m(*run, clock_.Now());
  m.FlushBuffered();
  auto* a = m.Append()->mutable_workflow_execution_terminated();
  a->set_reason(request.reason());
  *a->mutable_details() = request.details();
  a->set_identity(request.identity());
  m.Close(v1::WORKFLOW_EXECUTION_STATUS_TERMINATED);
  KEEL_RETURN_IF_ERROR(Commit(*run, m));
  ReleaseWorkflowTaskLease(*run);
  for (auto it = run->activity_leases.begin(); it != run->activity_leases.end();) {
    int64_t id = it->first;
    ++it;
    ReleaseActivityLease(*run, id);
  }
  return v1::TerminateWorkflowExecutionResponse();
}

Result<v1::DescribeWorkflowExecutionResponse> EngineImpl::DescribeWorkflowExecution(
    const v1::DescribeWorkflowExecutionRequest& request) {
  KEEL_RETURN_IF_ERROR(ValidateExecution(request.namespace_(), request.workflow_execution()));
  RunLock lock;
  KEEL_ASSIGN_OR_RETURN(RunPtr run, LockExecution(request.namespace_(), request.workflow_execution(), lock));
  const v1::ExecutionState& s = run->state;
  v1::DescribeWorkflowExecutionResponse resp;
  *resp.mutable_info() = InfoFromState(s);
  resp.set_cancel_requested(s.cancel_requested());
  for (const auto& [id, a] : s.activities()) {
    auto* p = resp.add_pending_activities();
    p->set_activity_id(a.activity_id());
    p->set_activity_type(a.activity_type());
    p->set_scheduled_event_id(id);
    p->set_attempt(a.attempt());
    p->set_maximum_attempts(a.retry_policy().maximum_attempts());
    *p->mutable_heartbeat_details() = a.heartbeat_details();
    if (a.has_last_heartbeat_time()) *p->mutable_last_heartbeat_time() = a.last_heartbeat_time();
    if (a.has_last_failure()) *p->mutable_last_failure() = a.last_failure();
    p->set_last_worker_identity(a.last_worker_identity());
    auto lease = run->activity_leases.find(id);
    const bool held = lease == run->activity_leases.end() && Held(run->exec_id, id);
    if (held) *p->mutable_held_until() = ToProtoTime(recovered_until_);
    if (a.cancel_requested()) {
      p->set_state(v1::PendingActivityInfo::STATE_CANCEL_REQUESTED);
    } else if (lease != run->activity_leases.end()) {
      p->set_state(v1::PendingActivityInfo::STATE_STARTED);
    } else if (held) {
      p->set_state(v1::PendingActivityInfo::STATE_HELD);
    } else if (a.backing_off()) {
      p->set_state(v1::PendingActivityInfo::STATE_BACKING_OFF);
      *p->mutable_next_attempt_schedule_time() = a.retry_time();
    } else {
      p->set_state(v1::PendingActivityInfo::STATE_SCHEDULED);
    }
    if (lease != run->activity_leases.end()) {
      *p->mutable_last_started_time() = ToProtoTime(lease->second.started_time);
      p->set_last_worker_identity(lease->second.identity);
      if (lease->second.unsaved_details) {  // newer than those written
        *p->mutable_heartbeat_details() = *lease->second.unsaved_details;
        *p->mutable_last_heartbeat_time() = ToProtoTime(lease->second.unsaved_time);
      }
    }
  }
  for (const auto& [id, t] : s.timers()) {
    auto* p = resp.add_pending_timers();
    p->set_timer_id(t.timer_id());
    *p->mutable_fire_time() = t.fire_time();
  }
  if (s.has_workflow_task()) {
    const auto& wt = s.workflow_task();
    auto* p = resp.mutable_pending_workflow_task();
    p->set_attempt(wt.attempt());
    *p->mutable_scheduled_time() = wt.scheduled_time();
    if (wt.has_last_failure()) *p->mutable_last_failure() = wt.last_failure();
    p->set_last_failure_cause(wt.last_failure_cause());
    if (run->workflow_task_lease) {
      p->set_state(v1::PendingWorkflowTaskInfo::STATE_STARTED);
    } else if (wt.backing_off()) {
      p->set_state(v1::PendingWorkflowTaskInfo::STATE_BACKING_OFF);
      *p->mutable_next_attempt_time() = wt.retry_time();
    } else {
      p->set_state(v1::PendingWorkflowTaskInfo::STATE_SCHEDULED);
    }
    p->set_note(run->last_workflow_task_note);
  }
  return resp;
}

Result<v1::ListWorkflowExecutionsResponse> EngineImpl::ListWorkflowExecutions(
    const v1::ListWorkflowExecutionsRequest& request) {
  KEEL_RETURN_IF_ERROR(ValidateName(request.namespace_(), "namespace", false));
  KEEL_RETURN_IF_ERROR(ValidateName(request.workflow_type(), "workflow_type", false));
  KEEL_RETURN_IF_ERROR(ValidateName(request.workflow_id(), "workflow_id", false));
  if (request.page_size() < 0 || request.page_size() > 10000) {
    return InvalidArgument("page_size must be between 0 and 10000");
  }
  if (!v1::WorkflowExecutionStatus_IsValid(request.status())) return InvalidArgument("unknown status");
  store::ListFilter f;
  f.namespace_name = Namespace(request.namespace_());
  f.workflow_type = request.workflow_type();
  f.workflow_id = request.workflow_id();
  f.status = request.status();
  if (request.has_start_time_min()) KEEL_RETURN_IF_ERROR(ValidateTime(request.start_time_min(), "start_time_min"));
  if (request.has_start_time_max()) KEEL_RETURN_IF_ERROR(ValidateTime(request.start_time_max(), "start_time_max"));
  if (request.has_start_time_min()) f.start_time_min_us = ToMicros(FromProtoTime(request.start_time_min()));
  if (request.has_start_time_max()) f.start_time_max_us = ToMicros(FromProtoTime(request.start_time_max()));
  f.limit = request.page_size() == 0 ? 100 : request.page_size();
  for (const auto& [name, value] : request.search_attributes()) {
    KEEL_RETURN_IF_ERROR(ValidateName(name, "search attribute name"));
    try {
      f.search_attributes.emplace_back(name, nlohmann::json::parse(value.data()).dump());
    } catch (const nlohmann::json::exception&) {
      return InvalidArgument("search attribute '" + name + "' filter value is not JSON");
    }
  }
  std::sort(f.search_attributes.begin(), f.search_attributes.end());  // one statement per set
  if (!request.next_page_token().empty()) {
    KEEL_ASSIGN_OR_RETURN(f.before_exec_id, ParsePageToken(request.next_page_token()));
  }
  KEEL_ASSIGN_OR_RETURN(auto rows, store_->ListExecutions(f));
  v1::ListWorkflowExecutionsResponse resp;
  for (const auto& r : rows) {
    auto* info = resp.add_executions();
    info->mutable_execution()->set_workflow_id(r.workflow_id);
    info->mutable_execution()->set_run_id(r.run_id);
    info->set_workflow_type(r.workflow_type);
    info->set_task_queue(r.task_queue);
    info->set_status(static_cast<v1::WorkflowExecutionStatus>(r.status));
    *info->mutable_start_time() = ToProtoTime(FromMicros(r.start_time_us));
    if (r.close_time_us) *info->mutable_close_time() = ToProtoTime(FromMicros(r.close_time_us));
    info->set_history_length(r.history_length);
  }
  if (static_cast<int>(rows.size()) == f.limit) {
    resp.set_next_page_token(std::to_string(rows.back().exec_id));
  }
  return resp;
}

Result<v1::GetWorkflowExecutionHistoryResponse> EngineImpl::GetWorkflowExecutionHistory(
    const v1::GetWorkflowExecutionHistoryRequest& request) {
  return GetWorkflowExecutionHistory(request, options_.poll_timeout);
}

Result<v1::GetWorkflowExecutionHistoryResponse> EngineImpl::GetWorkflowExecutionHistory(
    const v1::GetWorkflowExecutionHistoryRequest& request, Duration max_wait) {
  KEEL_RETURN_IF_ERROR(ValidateExecution(request.namespace_(), request.workflow_execution()));
  if (request.first_event_id() < 0 || request.last_event_id() < 0 || request.maximum_page_size() < 0) {
    return InvalidArgument("event ids and page size must not be negative");
  }
  int64_t first = request.first_event_id() > 0 ? request.first_event_id() : 1;
  if (!request.next_page_token().empty()) {
    KEEL_ASSIGN_OR_RETURN(first, ParsePageToken(request.next_page_token()));
  }
  // Only the fields read below: a run's whole state (pending activities with their
  // inputs, buffered events) is not worth copying for a history read.
  auto snapshot = [](const v1::ExecutionState& state) {
    v1::ExecutionState s;
    s.set_namespace_(state.namespace_());
    s.set_workflow_id(state.workflow_id());
    s.set_run_id(state.run_id());
    s.set_workflow_type(state.workflow_type());
    s.set_status(state.status());
    s.set_next_event_id(state.next_event_id());
    return s;
  };
  int64_t exec_id;
  v1::ExecutionState s;
  {
    RunLock lock;
    KEEL_ASSIGN_OR_RETURN(RunPtr run, LockExecution(request.namespace_(), request.workflow_execution(), lock));
    exec_id = run->exec_id;
    s = snapshot(run->state);
  }
  if (request.wait_new_event() && s.next_event_id() <= first && s.status() == v1::WORKFLOW_EXECUTION_STATUS_RUNNING) {
    uint64_t version = Watch(exec_id);
    Time deadline = clock_.Now() + std::min(options_.poll_timeout, max_wait);
    while (true) {
      {
        RunLock lock;
        auto run = LockRun(exec_id, lock);
        if (!run.ok()) break;
        s = snapshot((*run)->state);
      }
      if (s.next_event_id() > first || s.status() != v1::WORKFLOW_EXECUTION_STATUS_RUNNING) break;
      if (!WaitChanged(exec_id, version, deadline)) break;
    }
    Unwatch(exec_id);
    if (closing_) return Unavailable("the engine is shutting down");
  }
  int64_t last = s.next_event_id() - 1;
  if (request.last_event_id() > 0) last = std::min(last, request.last_event_id());
  int64_t page = request.maximum_page_size() > 0 ? request.maximum_page_size() : 0;
  int64_t to = last;
  if (page > 0 && last - first >= page) to = first + page - 1;  // never first + page: it may overflow
  v1::GetWorkflowExecutionHistoryResponse resp;
  auto* h = resp.mutable_history();
  h->set_namespace_(s.namespace_());
  h->mutable_workflow_execution()->set_workflow_id(s.workflow_id());
  h->mutable_workflow_execution()->set_run_id(s.run_id());
  h->set_workflow_type(s.workflow_type());
  if (first <= to) {
    KEEL_ASSIGN_OR_RETURN(auto events, ReadEvents(exec_id, first, to));
    for (auto& e : events) *h->add_events() = std::move(e);
  }
  if (to < last) resp.set_next_page_token(std::to_string(to + 1));
  return resp;
}

Result<v1::GetWorkflowExecutionResultResponse> EngineImpl::GetWorkflowExecutionResult(
    const v1::GetWorkflowExecutionResultRequest& request) {
  return GetWorkflowExecutionResult(request, options_.poll_timeout);
}

void EngineImpl::GetWorkflowExecutionResult(const v1::GetWorkflowExecutionResultRequest& request, Duration max_wait,
                                            Callback<v1::GetWorkflowExecutionResultResponse> done) {
  if (!request.wait()) return done(GetWorkflowExecutionResult(request));
  Status bad = ValidateExecution(request.namespace_(), request.workflow_execution());
  if (!bad.ok()) return done(bad);
  AwaitResult(request, clock_.Now() + std::min(options_.poll_timeout, max_wait), std::move(done));
}

void EngineImpl::AwaitResult(v1::GetWorkflowExecutionResultRequest request, Time deadline,
                             Callback<v1::GetWorkflowExecutionResultResponse> done) {
  request.set_wait(false);
  auto now = GetWorkflowExecutionResult(request);
  if (!now.ok() || now->status() != v1::WORKFLOW_EXECUTION_STATUS_RUNNING) return done(std::move(now));
  // Still running (perhaps a run it continued as): wait for that run's close. Added under
  // the run's lock, so that the close (reported under it) cannot come in between.
  request.mutable_workflow_execution()->set_run_id(now->run_id());
  RunLock lock;
  auto run = LockExecution(request.namespace_(), request.workflow_execution(), lock);
  if (!run.ok()) return done(run.status());
  if (!(*run)->Running()) {
    lock.unlock();
    return AwaitResult(std::move(request), deadline, std::move(done));  // it closed meanwhile
  }
  if (clock_.Now() >= deadline) {
    lock.unlock();
    return done(std::move(now));  // nothing yet
  }
  WaitForClose(**run, std::move(request), deadline, std::move(done));
}

void EngineImpl::WaitForClose(const RunState& run, v1::GetWorkflowExecutionResultRequest request, Time deadline,
                              Callback<v1::GetWorkflowExecutionResultResponse> done) {
  v1::GetWorkflowExecutionResultResponse running;  // what the wait gives at its deadline
  running.set_status(v1::WORKFLOW_EXECUTION_STATUS_RUNNING);
  running.set_run_id(run.state.run_id());
  request.mutable_workflow_execution()->set_run_id(run.state.run_id());
  close_waits_->AddForResult(
      run.exec_id, deadline,
      [this, request = std::move(request), deadline, done = std::move(done), running = std::move(running)](
          bool closed, const v1::GetWorkflowExecutionResultResponse* result) {
        if (closing_) return done(Unavailable("the engine is shutting down"));
        if (!closed) return done(running);  // nothing yet
        if (result) return done(*result);   // given with the close, under the run's lock
        AwaitResult(request, deadline, done);  // on the waits' thread: look (and follow a continue-as-new)
      });
}

Result<v1::GetWorkflowExecutionResultResponse> EngineImpl::GetWorkflowExecutionResult(
    const v1::GetWorkflowExecutionResultRequest& request, Duration max_wait) {
  KEEL_RETURN_IF_ERROR(ValidateExecution(request.namespace_(), request.workflow_execution()));
  v1::WorkflowExecution ex = request.workflow_execution();
  Time deadline = clock_.Now() + std::min(options_.poll_timeout, max_wait);
  while (true) {
    int64_t exec_id;
    v1::ExecutionState s;                // only what is needed here, not the whole state
    std::optional<v1::HistoryEvent> last;  // the close event, when the run's cache has it
    {
      RunLock lock;
      KEEL_ASSIGN_OR_RETURN(RunPtr run, LockExecution(request.namespace_(), ex, lock));
      exec_id = run->exec_id;
      s.set_status(run->state.status());
      s.set_run_id(run->state.run_id());
      s.set_next_event_id(run->state.next_event_id());
      s.set_new_execution_run_id(run->state.new_execution_run_id());
      if (!run->Running() && run->recent_events_valid && !run->recent_events.empty() &&
          run->recent_events.back().event_id() == s.next_event_id() - 1) {
        last = run->recent_events.back();
      }
    }
    if (s.status() == v1::WORKFLOW_EXECUTION_STATUS_RUNNING) {
      if (!request.wait()) {
        v1::GetWorkflowExecutionResultResponse resp;
        resp.set_status(s.status());
        resp.set_run_id(s.run_id());
        return resp;
      }
      // Wait for this run to close, then look again.
      Watch(exec_id, /*every_change=*/false);
      bool closed_meanwhile = false;
      {
        RunLock lock;
        auto run = LockRun(exec_id, lock);
        closed_meanwhile = run.ok() && !(*run)->Running();
      }
      bool changed = closed_meanwhile || WaitClosed(exec_id, deadline);
      Unwatch(exec_id, /*every_change=*/false);
      if (closing_) return Unavailable("the engine is shutting down");
      if (!changed) {
        v1::GetWorkflowExecutionResultResponse resp;
        resp.set_status(v1::WORKFLOW_EXECUTION_STATUS_RUNNING);
        resp.set_run_id(s.run_id());
        return resp;
      }
      ex.set_run_id(s.run_id());
      continue;
    }
    if (request.follow_runs() && s.status() == v1::WORKFLOW_EXECUTION_STATUS_CONTINUED_AS_NEW &&
        !s.new_execution_run_id().empty()) {
      ex.set_run_id(s.new_execution_run_id());
      continue;
    }
    if (!last) {
      KEEL_ASSIGN_OR_RETURN(auto events, ReadEvents(exec_id, s.next_event_id() - 1, s.next_event_id() - 1));
      if (!events.empty()) last = std::move(events.back());
    }
    if (!last || !IsCloseEvent(*last)) {
      return Internal("run " + s.run_id() + " is closed but its last event is not a close event");
    }
    return ClosedRunResult(s.run_id(), s.status(), *last);
  }
}

v1::GetWorkflowExecutionResultResponse EngineImpl::ClosedRunResult(const std::string& run_id,
                                                                   v1::WorkflowExecutionStatus status,
                                                                   const v1::HistoryEvent& e) {
  v1::GetWorkflowExecutionResultResponse resp;
  resp.set_status(status);
  resp.set_run_id(run_id);
  if (e.has_workflow_execution_completed()) {
    *resp.mutable_result() = e.workflow_execution_completed().result();
  } else if (e.has_workflow_execution_failed()) {
    *resp.mutable_failure() = e.workflow_execution_failed().failure();
  } else if (e.has_workflow_execution_canceled()) {
    auto* f = resp.mutable_failure();
    f->set_message("workflow canceled");
    *f->mutable_canceled_failure_info()->mutable_details() = e.workflow_execution_canceled().details();
  } else if (e.has_workflow_execution_terminated()) {
    auto* f = resp.mutable_failure();
    f->set_message("workflow terminated" + (e.workflow_execution_terminated().reason().empty()
                                                ? std::string()
                                                : ": " + e.workflow_execution_terminated().reason()));
    f->mutable_terminated_failure_info();
  } else if (e.has_workflow_execution_timed_out()) {
    auto* f = resp.mutable_failure();
    f->set_message("workflow timed out");
    f->mutable_timeout_failure_info()->set_timeout_type(e.workflow_execution_timed_out().timeout_type());
  }
  return resp;
}

}  // namespace keel::core
