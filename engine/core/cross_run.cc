// Effects of one run on another: starting a child, telling a parent its child closed,
// applying a parent-close policy, and signals or cancel requests to other workflows.
// Each is a durable timer written (due at once) in the transition that caused it, so a
// crash at any point only repeats the handler; the handlers are idempotent: a child start
// reuses a deterministic request id, a signal a deterministic request id, and the
// recording side checks the source run's state before writing anything.
//
// A handler never holds two run locks: it copies what it needs under one, releases it,
// acts on the other run, then takes the first again to record the outcome.
#include "engine/core/engine_impl.h"
#include "engine/history/convert.h"
#include "engine/history/event_util.h"
#include "engine/log.h"

namespace keel::core {

namespace {

// Request ids derived from the source run and event make retried deliveries no-ops.
std::string DerivedRequestId(const std::string& run_id, int64_t event_id) {
  return run_id + "/" + std::to_string(event_id);
}

constexpr auto kRetryDelay = std::chrono::seconds(1);

}  // namespace

void EngineImpl::RemoveTimerRow(const store::TimerKey& key) {
  store::Transition t;
  t.remove_timers.push_back(key);
  if (store_->Commit(std::move(t)).ok()) timers_->OnCommitted({}, {key});
}

void EngineImpl::OnCrossRunTimer(store::TimerKind kind, int64_t exec_id, int64_t ref) {
  switch (kind) {
    case store::TimerKind::kChildStart: return StartChild(exec_id, ref);
    case store::TimerKind::kParentNotify: return NotifyParent(exec_id);
    case store::TimerKind::kParentClosePolicy: return ApplyParentClosePolicy(exec_id, ref);
    case store::TimerKind::kExternalRequest: return DeliverExternalRequest(exec_id, ref);
    default: return;
  }
}

void EngineImpl::StartChild(int64_t parent_exec_id, int64_t initiated_id) {
  const store::TimerKey key{parent_exec_id, store::TimerKind::kChildStart, initiated_id};
  v1::StartWorkflowExecutionRequest request;
  v1::ParentInfo parent;
  {
    RunLock lock;
    auto run = LockRun(parent_exec_id, lock);
    if (!run.ok()) return RemoveTimerRow(key);
    const v1::ExecutionState& s = (*run)->state;
    auto child = s.children().find(initiated_id);
    if (!(*run)->Running() || child == s.children().end() || child->second.started()) return RemoveTimerRow(key);
    const auto& a = child->second.initiated();
    request.set_namespace_(a.namespace_());
    request.set_workflow_id(a.workflow_id());
    request.set_workflow_type(a.workflow_type());
    request.set_task_queue(a.task_queue());
    *request.mutable_input() = a.input();
    *request.mutable_workflow_execution_timeout() = a.workflow_execution_timeout();
    *request.mutable_workflow_run_timeout() = a.workflow_run_timeout();
    *request.mutable_workflow_task_timeout() = a.workflow_task_timeout();
    request.set_identity("parent " + s.workflow_id());
    request.set_request_id(DerivedRequestId(s.run_id(), initiated_id));
    request.set_workflow_id_reuse_policy(a.workflow_id_reuse_policy());
    if (a.has_retry_policy()) *request.mutable_retry_policy() = a.retry_policy();
    *request.mutable_memo() = a.memo();
    *request.mutable_search_attributes() = a.search_attributes();
    parent.set_namespace_(s.namespace_());
    parent.mutable_execution()->set_workflow_id(s.workflow_id());
    parent.mutable_execution()->set_run_id(s.run_id());
    parent.set_initiated_event_id(initiated_id);
  }
  auto started = StartLocked(request, nullptr, &parent);

  RunLock lock;
  auto run = LockRun(parent_exec_id, lock);
  if (!run.ok()) return;
  RunState& r = **run;
  auto child = r.state.children().find(initiated_id);
  if (!r.Running() || child == r.state.children().end() || child->second.started()) {
    lock.unlock();
    return RemoveTimerRow(key);
  }
  Mutation m(r, clock_.Now());
  m.RemoveTimer(store::TimerKind::kChildStart, initiated_id);
  auto& c = m.state().mutable_children()->at(initiated_id);
  if (started.ok()) {
    auto* e = m.AddForWorkflow()->mutable_child_workflow_execution_started();
    e->set_namespace_(request.namespace_());
    e->set_initiated_event_id(initiated_id);
    e->mutable_workflow_execution()->set_workflow_id(request.workflow_id());
    e->mutable_workflow_execution()->set_run_id(started->run_id);
    e->set_workflow_type(request.workflow_type());
    c.set_started(true);
    c.set_run_id(started->run_id);
    c.mutable_initiated()->clear_input();  // not needed any more
    // Cancel requests that waited for this child to exist can go now.
    for (const auto& [id, req] : m.state().external_requests()) {
      if (req.execution().workflow_id() == request.workflow_id()) {
        m.AddTimer(store::TimerKind::kExternalRequest, id, m.now());
      }
    }
  } else if (started.status().code() == StatusCode::kAlreadyExists ||
             started.status().code() == StatusCode::kInvalidArgument) {
    auto* e = m.AddForWorkflow()->mutable_start_child_workflow_execution_failed();
    e->set_namespace_(request.namespace_());
    e->set_workflow_id(request.workflow_id());
    e->set_workflow_type(request.workflow_type());
    e->set_cause(started.status().code() == StatusCode::kAlreadyExists ? "WORKFLOW_ALREADY_EXISTS"
                                                                       : started.status().message());
    e->set_initiated_event_id(initiated_id);
    m.state().mutable_children()->erase(initiated_id);
  } else {
    Log().warn("starting child workflow {} failed, will retry: {}", request.workflow_id(),
               started.status().ToString());
    m.AddTimer(store::TimerKind::kChildStart, initiated_id, m.now() + kRetryDelay);
  }
  (void)CommitHandingOut(r, m);
}

void EngineImpl::NotifyParent(int64_t child_exec_id) {
  const store::TimerKey key{child_exec_id, store::TimerKind::kParentNotify, 0};
  v1::ParentInfo parent;
  v1::HistoryEvent close;
  std::string ns, workflow_id, run_id, workflow_type;
  {
    RunLock lock;
    auto run = LockRun(child_exec_id, lock);
    if (!run.ok()) return RemoveTimerRow(key);
    const v1::ExecutionState& s = (*run)->state;
    if ((*run)->Running() || !s.has_parent()) return RemoveTimerRow(key);
    parent = s.parent();
    ns = s.namespace_();
    workflow_id = s.workflow_id();
    run_id = s.run_id();
    workflow_type = s.workflow_type();
    auto events = ReadEvents(child_exec_id, s.next_event_id() - 1, s.next_event_id() - 1);
    if (!events.ok() || events->empty() || !IsCloseEvent(events->back())) {
      Log().error("child {} is closed but its close event cannot be read", workflow_id);
      return;
    }
    close = std::move(events->back());
  }
  {
    RunLock lock;
    auto run = LockExecution(parent.namespace_(), parent.execution(), lock);
    if (run.ok() && (*run)->Running() && (*run)->state.children().count(parent.initiated_event_id())) {
      RunState& p = **run;
      const int64_t initiated = parent.initiated_event_id();
      Mutation m(p, clock_.Now());
      if (!p.state.children().at(initiated).started()) {
        // The child ran to its end before the parent recorded its start (a crash in between).
        auto* e = m.AddForWorkflow()->mutable_child_workflow_execution_started();
        e->set_namespace_(ns);
        e->set_initiated_event_id(initiated);
        e->mutable_workflow_execution()->set_workflow_id(workflow_id);
        e->mutable_workflow_execution()->set_run_id(run_id);
        e->set_workflow_type(workflow_type);
        m.RemoveTimer(store::TimerKind::kChildStart, initiated);
      }
      v1::WorkflowExecution ex;
      ex.set_workflow_id(workflow_id);
      ex.set_run_id(run_id);
      auto* e = m.AddForWorkflow();
      auto fill = [&](auto* a) {
        a->set_namespace_(ns);
        *a->mutable_workflow_execution() = ex;
        a->set_workflow_type(workflow_type);
        a->set_initiated_event_id(initiated);
      };
      if (close.has_workflow_execution_completed()) {
        auto* a = e->mutable_child_workflow_execution_completed();
        fill(a);
        *a->mutable_result() = close.workflow_execution_completed().result();
      } else if (close.has_workflow_execution_failed()) {
        auto* a = e->mutable_child_workflow_execution_failed();
        fill(a);
        *a->mutable_failure() = close.workflow_execution_failed().failure();
        a->set_retry_state(close.workflow_execution_failed().retry_state());
      } else if (close.has_workflow_execution_canceled()) {
        auto* a = e->mutable_child_workflow_execution_canceled();
        fill(a);
        *a->mutable_details() = close.workflow_execution_canceled().details();
      } else if (close.has_workflow_execution_timed_out()) {
        auto* a = e->mutable_child_workflow_execution_timed_out();
        fill(a);
        a->set_retry_state(close.workflow_execution_timed_out().retry_state());
      } else {
        fill(e->mutable_child_workflow_execution_terminated());
      }
      m.state().mutable_children()->erase(initiated);
      if (!CommitHandingOut(p, m).ok()) return;  // the timer fires again later
    }
  }
  RemoveTimerRow(key);
}

void EngineImpl::ApplyParentClosePolicy(int64_t parent_exec_id, int64_t initiated_id) {
  const store::TimerKey key{parent_exec_id, store::TimerKind::kParentClosePolicy, initiated_id};
  v1::ChildState child;
  std::string parent_workflow_id;
  {
    RunLock lock;
    auto run = LockRun(parent_exec_id, lock);
    if (!run.ok()) return RemoveTimerRow(key);
    auto it = (*run)->state.children().find(initiated_id);
    if (it == (*run)->state.children().end()) return RemoveTimerRow(key);
    child = it->second;
    parent_workflow_id = (*run)->state.workflow_id();
  }
  if (child.started()) {
    const auto& a = child.initiated();
    v1::WorkflowExecution ex;
    ex.set_workflow_id(a.workflow_id());
    ex.set_run_id(child.run_id());
    Status st;
    if (a.parent_close_policy() == v1::PARENT_CLOSE_POLICY_REQUEST_CANCEL) {
      v1::RequestCancelWorkflowExecutionRequest r;
      r.set_namespace_(a.namespace_());
      *r.mutable_workflow_execution() = ex;
      r.set_identity("parent " + parent_workflow_id);
      r.set_reason("the parent workflow closed");
      st = RequestCancelWorkflowExecution(r).status();
    } else {
      v1::TerminateWorkflowExecutionRequest r;
      r.set_namespace_(a.namespace_());
      *r.mutable_workflow_execution() = ex;
      r.set_identity("parent " + parent_workflow_id);
      r.set_reason("the parent workflow closed (parent close policy: terminate)");
      st = TerminateWorkflowExecution(r).status();
    }
    if (!st.ok() && st.code() != StatusCode::kNotFound) return;  // try again when it fires again
  }
  RunLock lock;
  auto run = LockRun(parent_exec_id, lock);
  if (!run.ok()) return;
  Mutation m(**run, clock_.Now());
  m.state().mutable_children()->erase(initiated_id);
  m.RemoveTimer(store::TimerKind::kParentClosePolicy, initiated_id);
  (void)Commit(**run, m);
}

void EngineImpl::DeliverExternalRequest(int64_t source_exec_id, int64_t initiated_id) {
  const store::TimerKey key{source_exec_id, store::TimerKind::kExternalRequest, initiated_id};
  v1::ExternalRequestState request;
  std::string source_workflow_id, source_run_id;
  bool target_is_pending_child = false;
  {
    RunLock lock;
    auto run = LockRun(source_exec_id, lock);
    if (!run.ok()) return RemoveTimerRow(key);
    const v1::ExecutionState& s = (*run)->state;
    auto it = s.external_requests().find(initiated_id);
    if (!(*run)->Running() || it == s.external_requests().end()) return RemoveTimerRow(key);
    request = it->second;
    source_workflow_id = s.workflow_id();
    source_run_id = s.run_id();
    for (const auto& [id, child] : s.children()) {
      target_is_pending_child |= !child.started() && child.initiated().workflow_id() == request.execution().workflow_id();
    }
  }
  if (target_is_pending_child) {
    // StartChild re-arms this timer once the child exists.
    return RemoveTimerRow(key);
  }
  Status st;
  if (request.kind() == v1::ExternalRequestState::KIND_SIGNAL) {
    v1::SignalWorkflowExecutionRequest r;
    r.set_namespace_(request.namespace_());
    *r.mutable_workflow_execution() = request.execution();
    r.set_signal_name(request.signal_name());
    *r.mutable_input() = request.input();
    r.set_identity("workflow " + source_workflow_id);
    r.set_request_id(DerivedRequestId(source_run_id, initiated_id));
    st = SignalWorkflowExecution(r).status();
  } else {
    v1::RequestCancelWorkflowExecutionRequest r;
    r.set_namespace_(request.namespace_());
    *r.mutable_workflow_execution() = request.execution();
    r.set_identity("workflow " + source_workflow_id);
    r.set_request_id(DerivedRequestId(source_run_id, initiated_id));
    st = RequestCancelWorkflowExecution(r).status();
  }
  RunLock lock;
  auto run = LockRun(source_exec_id, lock);
  if (!run.ok()) return;
  RunState& r = **run;
  if (!r.Running() || !r.state.external_requests().count(initiated_id)) {
    lock.unlock();
    return RemoveTimerRow(key);
  }
  Mutation m(r, clock_.Now());
  m.RemoveTimer(store::TimerKind::kExternalRequest, initiated_id);
  const bool signal = request.kind() == v1::ExternalRequestState::KIND_SIGNAL;
  if (st.ok()) {
    auto* e = m.AddForWorkflow();
    if (signal) {
      auto* a = e->mutable_external_workflow_execution_signaled();
      a->set_initiated_event_id(initiated_id);
      a->set_namespace_(request.namespace_());
      *a->mutable_workflow_execution() = request.execution();
    } else {
      auto* a = e->mutable_external_workflow_execution_cancel_requested();
      a->set_initiated_event_id(initiated_id);
      a->set_namespace_(request.namespace_());
      *a->mutable_workflow_execution() = request.execution();
    }
  } else if (st.code() == StatusCode::kNotFound || st.code() == StatusCode::kInvalidArgument) {
    auto* e = m.AddForWorkflow();
    if (signal) {
      auto* a = e->mutable_signal_external_workflow_execution_failed();
      a->set_cause(st.message());
      a->set_initiated_event_id(initiated_id);
      a->set_namespace_(request.namespace_());
      *a->mutable_workflow_execution() = request.execution();
    } else {
      auto* a = e->mutable_request_cancel_external_workflow_execution_failed();
      a->set_cause(st.message());
      a->set_initiated_event_id(initiated_id);
      a->set_namespace_(request.namespace_());
      *a->mutable_workflow_execution() = request.execution();
    }
  } else {
    m.AddTimer(store::TimerKind::kExternalRequest, initiated_id, m.now() + kRetryDelay);
    (void)Commit(r, m);
    return;
  }
  m.state().mutable_external_requests()->erase(initiated_id);
  (void)CommitHandingOut(r, m);
}

}  // namespace keel::core
