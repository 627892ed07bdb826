// Queries: a read-only question to a workflow, answered by a worker from the workflow's
// state (ctx.OnQuery handlers). A query is never persisted: it waits in memory, is handed
// out through the run's workflow task queue (a task with a query instead of events), and
// the caller waits for the worker's answer up to the poll timeout.
#include "engine/core/engine_impl.h"
#include "engine/core/validation.h"

namespace keel::core {

Result<v1::QueryWorkflowResponse> EngineImpl::QueryWorkflow(const v1::QueryWorkflowRequest& request) {
  KEEL_RETURN_IF_ERROR(ValidateName(request.namespace_(), "namespace", false));
  KEEL_RETURN_IF_ERROR(
      ValidateName(request.workflow_execution().workflow_id(), "workflow_id", request.workflow_execution().run_id().empty()));
  KEEL_RETURN_IF_ERROR(ValidateName(request.workflow_execution().run_id(), "run_id", false));
  KEEL_RETURN_IF_ERROR(ValidateName(request.query_type(), "query_type"));
  KEEL_RETURN_IF_ERROR(CheckPayloads(request.query_args(), "query arguments"));
  auto q = std::make_shared<PendingQuery>();
  {
    RunLock lock;
    KEEL_ASSIGN_OR_RETURN(RunPtr run, LockExecution(request.namespace_(), request.workflow_execution(), lock));
    if (run->state.previous_started_event_id() == 0) {
      return FailedPrecondition("workflow '" + run->state.workflow_id() +
                                "' has not completed its first workflow task yet, so no query handler is registered");
    }
    q->exec_id = run->exec_id;
    q->namespace_name = run->state.namespace_();
    q->task_queue = run->state.task_queue();
  }
  q->query.set_query_type(request.query_type());
  *q->query.mutable_query_args() = request.query_args();
  q->id = next_query_id_.fetch_add(1);
  {
    std::lock_guard<std::mutex> g(queries_mu_);
    queries_[q->id] = q;
  }
  matcher_.Add(q->namespace_name, q->task_queue, store::TaskKind::kWorkflow,
               {q->exec_id, -static_cast<int64_t>(q->id)});
  std::unique_lock<std::mutex> lock(queries_mu_);
  clock_.WaitUntil(lock, q->cv, clock_.Now() + options_.poll_timeout, [&] { return q->done || closing_.load(); });
  queries_.erase(q->id);
  if (!q->done && closing_) return Unavailable("the engine is shutting down");
  if (!q->done) {
    return DeadlineExceeded("no worker answered query '" + request.query_type() + "' in time: is a worker polling task queue '" +
                            q->task_queue + "'?");
  }
  if (!q->status.ok()) return q->status;
  v1::QueryWorkflowResponse resp;
  *resp.mutable_query_result() = q->result;
  return resp;
}

Result<v1::PollWorkflowTaskQueueResponse> EngineImpl::DispatchQuery(int64_t exec_id, uint64_t query_id) {
  std::shared_ptr<PendingQuery> q;
  {
    std::lock_guard<std::mutex> g(queries_mu_);
    auto it = queries_.find(query_id);
    if (it == queries_.end() || it->second->dispatched || it->second->done) return NotFound("query gone");
    q = it->second;
    q->dispatched = true;
  }
  RunLock lock;
  KEEL_ASSIGN_OR_RETURN(RunPtr run, LockRun(exec_id, lock));
  const v1::ExecutionState& s = run->state;
  v1::TaskToken token;
  token.set_kind(v1::TaskToken::KIND_QUERY);
  token.set_namespace_(s.namespace_());
  token.set_workflow_id(s.workflow_id());
  token.set_run_id(s.run_id());
  token.set_query_id(query_id);
  v1::PollWorkflowTaskQueueResponse resp;
  resp.set_task_token(NewToken(token));
  resp.mutable_workflow_execution()->set_workflow_id(s.workflow_id());
  resp.mutable_workflow_execution()->set_run_id(s.run_id());
  resp.set_workflow_type(s.workflow_type());
  resp.set_previous_started_event_id(s.previous_started_event_id());
  *resp.mutable_query() = q->query;
  return resp;
}

Result<v1::RespondQueryTaskCompletedResponse> EngineImpl::RespondQueryTaskCompleted(
    const v1::RespondQueryTaskCompletedRequest& request) {
  KEEL_ASSIGN_OR_RETURN(v1::TaskToken token, ParseToken(request.task_token(), v1::TaskToken::KIND_QUERY));
  KEEL_RETURN_IF_ERROR(CheckPayloads(request.query_result(), "query result"));
  KEEL_RETURN_IF_ERROR(ValidateText(request.error_message(), "error_message"));
  KEEL_RETURN_IF_ERROR(ValidateName(request.identity(), "identity", false));
  std::lock_guard<std::mutex> g(queries_mu_);
  auto it = queries_.find(token.query_id());
  if (it == queries_.end() || it->second->done) {
    return NotFound("query not found: its caller stopped waiting");
  }
  PendingQuery& q = *it->second;
  if (request.unknown_query()) {
    q.status = InvalidArgument(request.error_message());
  } else if (!request.error_message().empty()) {
    q.status = Status(StatusCode::kUnknown, request.error_message());
  } else {
    q.result = request.query_result();
  }
  q.done = true;
  q.cv.notify_all();
  return v1::RespondQueryTaskCompletedResponse();
}

}  // namespace keel::core
