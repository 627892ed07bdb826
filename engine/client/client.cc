#include "engine/client.h"

#include "engine/history/convert.h"
#include "engine/random.h"
#include "engine/runtime/failure_convert.h"

namespace keel {

namespace {

template <typename T>
T Check(Result<T> r) {
  if (!r.ok()) throw ClientError(static_cast<int>(r.status().code()), r.status().ToString());
  return std::move(r).value();
}

v1::WorkflowExecution Execution(const std::string& workflow_id, const std::string& run_id) {
  v1::WorkflowExecution ex;
  ex.set_workflow_id(workflow_id);
  ex.set_run_id(run_id);
  return ex;
}

WorkflowSummary Summary(const v1::WorkflowExecutionInfo& info) {
  WorkflowSummary s;
  s.workflow_id = info.execution().workflow_id();
  s.run_id = info.execution().run_id();
  s.workflow_type = info.workflow_type();
  s.task_queue = info.task_queue();
  s.status = static_cast<WorkflowStatus>(info.status());
  s.start_time = FromProtoTime(info.start_time());
  if (info.has_close_time()) s.close_time = FromProtoTime(info.close_time());
  s.history_length = info.history_length();
  for (const auto& [k, v] : info.search_attributes()) s.search_attributes[k] = PayloadToJson(FromProto(v));
  for (const auto& [k, v] : info.memo()) s.memo[k] = PayloadToJson(FromProto(v));
  return s;
}

std::string FailureText(const v1::Failure& f) {
  std::string s = f.message();
  if (f.has_cause()) s += ": " + FailureText(f.cause());
  return s;
}

}  // namespace

std::string_view WorkflowStatusName(WorkflowStatus s) {
  switch (s) {
    case WorkflowStatus::kRunning: return "running";
    case WorkflowStatus::kCompleted: return "completed";
    case WorkflowStatus::kFailed: return "failed";
    case WorkflowStatus::kCanceled: return "canceled";
    case WorkflowStatus::kTerminated: return "terminated";
    case WorkflowStatus::kContinuedAsNew: return "continued-as-new";
    case WorkflowStatus::kTimedOut: return "timed-out";
    case WorkflowStatus::kUnspecified: break;
  }
  return "unspecified";
}

Client::Client(Frontend& frontend, ClientOptions options) : frontend_(frontend), options_(std::move(options)) {}

v1::StartWorkflowExecutionRequest Client::StartRequest(const std::string& workflow_type,
                                                       const StartWorkflowOptions& o,
                                                       const Payloads& input) const {
  v1::StartWorkflowExecutionRequest req;
  req.set_namespace_(options_.namespace_name);
  req.set_workflow_id(o.id);
  req.set_workflow_type(workflow_type);
  req.set_task_queue(o.task_queue);
  *req.mutable_input() = ToProto(input);
  if (o.execution_timeout > Duration::zero()) *req.mutable_workflow_execution_timeout() = ToProtoDuration(o.execution_timeout);
  if (o.run_timeout > Duration::zero()) *req.mutable_workflow_run_timeout() = ToProtoDuration(o.run_timeout);
  if (o.task_timeout > Duration::zero()) *req.mutable_workflow_task_timeout() = ToProtoDuration(o.task_timeout);
  req.set_identity(options_.identity);
  req.set_request_id(o.request_id.empty() ? Random::System().Uuid() : o.request_id);
  req.set_workflow_id_reuse_policy(static_cast<v1::WorkflowIdReusePolicy>(o.id_reuse_policy));
  for (const auto& [k, v] : o.search_attributes) (*req.mutable_search_attributes())[k] = ToProto(JsonPayload(v));
  for (const auto& [k, v] : o.memo) (*req.mutable_memo())[k] = ToProto(JsonPayload(v));
  return req;
}

Payloads Client::QueryPayloads(const std::string& workflow_id, const std::string& run_id, const std::string& name,
                               const Payloads& args) {
  v1::QueryWorkflowRequest req;
  req.set_namespace_(options_.namespace_name);
  *req.mutable_workflow_execution() = Execution(workflow_id, run_id);
  req.set_query_type(name);
  *req.mutable_query_args() = ToProto(args);
  auto resp = Check(frontend_.QueryWorkflow(req));
  return FromProto(resp.query_result());
}

WorkflowRun Client::StartWorkflowPayloads(const std::string& workflow_type, const StartWorkflowOptions& options,
                                          const Payloads& input) {
  auto resp = Check(frontend_.StartWorkflowExecution(StartRequest(workflow_type, options, input)));
  return WorkflowRun{options.id, resp.run_id(), resp.started()};
}

void Client::SignalPayloads(const std::string& workflow_id, const std::string& run_id, const std::string& signal,
                            const Payloads& input, const std::string& request_id) {
  v1::SignalWorkflowExecutionRequest req;
  req.set_namespace_(options_.namespace_name);
  *req.mutable_workflow_execution() = Execution(workflow_id, run_id);
  req.set_signal_name(signal);
  *req.mutable_input() = ToProto(input);
  req.set_identity(options_.identity);
  req.set_request_id(request_id.empty() ? Random::System().Uuid() : request_id);
  Check(frontend_.SignalWorkflowExecution(req));
}

WorkflowRun Client::SignalWithStartPayloads(const std::string& workflow_type, const StartWorkflowOptions& options,
                                            const std::string& signal, const Payloads& signal_input,
                                            const Payloads& input) {
  v1::SignalWithStartWorkflowExecutionRequest req;
  *req.mutable_start() = StartRequest(workflow_type, options, input);
  req.set_signal_name(signal);
  *req.mutable_signal_input() = ToProto(signal_input);
  auto resp = Check(frontend_.SignalWithStartWorkflowExecution(req));
  return WorkflowRun{options.id, resp.run_id(), resp.started()};
}

void Client::CancelWorkflow(const std::string& workflow_id, const std::string& reason, const std::string& run_id) {
  v1::RequestCancelWorkflowExecutionRequest req;
  req.set_namespace_(options_.namespace_name);
  *req.mutable_workflow_execution() = Execution(workflow_id, run_id);
  req.set_identity(options_.identity);
  req.set_request_id(Random::System().Uuid());
  req.set_reason(reason);
  Check(frontend_.RequestCancelWorkflowExecution(req));
}

void Client::TerminateWorkflow(const std::string& workflow_id, const std::string& reason,
                               const std::string& run_id) {
  v1::TerminateWorkflowExecutionRequest req;
  req.set_namespace_(options_.namespace_name);
  *req.mutable_workflow_execution() = Execution(workflow_id, run_id);
  req.set_reason(reason);
  req.set_identity(options_.identity);
  Check(frontend_.TerminateWorkflowExecution(req));
}

WorkflowDescription Client::DescribeWorkflow(const std::string& workflow_id, const std::string& run_id) {
  v1::DescribeWorkflowExecutionRequest req;
  req.set_namespace_(options_.namespace_name);
  *req.mutable_workflow_execution() = Execution(workflow_id, run_id);
  auto resp = Check(frontend_.DescribeWorkflowExecution(req));
  WorkflowDescription d;
  static_cast<WorkflowSummary&>(d) = Summary(resp.info());
  d.cancel_requested = resp.cancel_requested();
  for (const auto& a : resp.pending_activities()) {
    PendingActivity p;
    p.activity_id = a.activity_id();
    p.activity_type = a.activity_type();
    switch (a.state()) {
      case v1::PendingActivityInfo::STATE_STARTED: p.state = "started"; break;
      case v1::PendingActivityInfo::STATE_BACKING_OFF: p.state = "backing off"; break;
      case v1::PendingActivityInfo::STATE_CANCEL_REQUESTED: p.state = "cancel requested"; break;
      case v1::PendingActivityInfo::STATE_HELD: p.state = "held"; break;
      default: p.state = "scheduled"; break;
    }
    p.attempt = a.attempt();
    if (a.has_last_failure()) p.last_failure = FailureText(a.last_failure());
    if (a.has_next_attempt_schedule_time()) p.next_attempt_time = FromProtoTime(a.next_attempt_schedule_time());
    if (a.has_held_until()) p.held_until = FromProtoTime(a.held_until());
    d.pending_activities.push_back(std::move(p));
  }
  for (const auto& t : resp.pending_timers()) d.pending_timers.emplace_back(t.timer_id(), FromProtoTime(t.fire_time()));
  if (resp.has_pending_workflow_task()) {
    const auto& w = resp.pending_workflow_task();
    PendingWorkflowTask t;
    t.state = w.state() == v1::PendingWorkflowTaskInfo::STATE_STARTED       ? "started"
              : w.state() == v1::PendingWorkflowTaskInfo::STATE_BACKING_OFF ? "backing off"
                                                                            : "scheduled";
    t.attempt = w.attempt();
    if (w.has_last_failure()) t.last_failure = FailureText(w.last_failure());
    if (w.has_next_attempt_time()) t.next_attempt_time = FromProtoTime(w.next_attempt_time());
    t.note = w.note();
    d.workflow_task = std::move(t);
  }
  return d;
}

std::vector<WorkflowSummary> Client::ListWorkflows(const ListOptions& o) {
  v1::ListWorkflowExecutionsRequest req;
  req.set_namespace_(options_.namespace_name);
  req.set_workflow_type(o.workflow_type);
  req.set_workflow_id(o.workflow_id);
  if (o.status) req.set_status(static_cast<v1::WorkflowExecutionStatus>(*o.status));
  if (o.started_after) *req.mutable_start_time_min() = ToProtoTime(*o.started_after);
  if (o.started_before) *req.mutable_start_time_max() = ToProtoTime(*o.started_before);
  for (const auto& [k, v] : o.search_attributes) (*req.mutable_search_attributes())[k] = ToProto(JsonPayload(v));
  std::vector<WorkflowSummary> out;
  while (static_cast<int>(out.size()) < o.limit) {
    req.set_page_size(std::min(1000, o.limit - static_cast<int>(out.size())));
    auto resp = Check(frontend_.ListWorkflowExecutions(req));
    for (const auto& info : resp.executions()) out.push_back(Summary(info));
    if (resp.next_page_token().empty()) break;
    req.set_next_page_token(resp.next_page_token());
  }
  return out;
}

History Client::GetHistory(const std::string& workflow_id, const std::string& run_id) {
  v1::GetWorkflowExecutionHistoryRequest req;
  req.set_namespace_(options_.namespace_name);
  *req.mutable_workflow_execution() = Execution(workflow_id, run_id);
  v1::History all;
  while (true) {
    auto resp = Check(frontend_.GetWorkflowExecutionHistory(req));
    if (all.events_size() == 0) {
      all.set_namespace_(resp.history().namespace_());
      *all.mutable_workflow_execution() = resp.history().workflow_execution();
      all.set_workflow_type(resp.history().workflow_type());
      // Page on by run id: a new run of the same workflow id must not be mixed in.
      req.mutable_workflow_execution()->set_run_id(resp.history().workflow_execution().run_id());
    }
    for (const auto& e : resp.history().events()) *all.add_events() = e;
    if (resp.next_page_token().empty()) break;
    req.set_next_page_token(resp.next_page_token());
  }
  return History(std::move(all));
}

Payloads Client::GetResultPayloads(const std::string& workflow_id, const std::string& run_id) {
  v1::GetWorkflowExecutionResultRequest req;
  req.set_namespace_(options_.namespace_name);
  *req.mutable_workflow_execution() = Execution(workflow_id, run_id);
  req.set_wait(true);
  req.set_follow_runs(true);
  while (true) {
    auto resp = Check(frontend_.GetWorkflowExecutionResult(req));
    if (auto result = ClosedResult(workflow_id, resp)) return std::move(*result);
    req.mutable_workflow_execution()->set_run_id(resp.run_id());  // the long poll ended first
  }
}

Payloads Client::ExecuteWorkflowPayloads(const std::string& workflow_type, const StartWorkflowOptions& options,
                                         const Payloads& input) {
  v1::StartWorkflowExecutionRequest req = StartRequest(workflow_type, options, input);
  req.set_wait_for_result(true);
  auto resp = Check(frontend_.StartWorkflowExecution(req));
  if (resp.has_result()) {
    if (auto result = ClosedResult(options.id, resp.result())) return std::move(*result);
  }
  // Still running after one long poll (or the wait failed): wait as GetResult does, from
  // the run the result followed to (continue-as-new) or the one started.
  const std::string& run_id = resp.has_result() && !resp.result().run_id().empty() ? resp.result().run_id()
                                                                                     : resp.run_id();
  return GetResultPayloads(options.id, run_id);
}

std::optional<Payloads> Client::ClosedResult(const std::string& workflow_id,
                                             const v1::GetWorkflowExecutionResultResponse& resp) {
  switch (resp.status()) {
    case v1::WORKFLOW_EXECUTION_STATUS_RUNNING:
      return std::nullopt;
    case v1::WORKFLOW_EXECUTION_STATUS_COMPLETED:
      return FromProto(resp.result());
    default: {
      auto status = WorkflowStatusName(static_cast<WorkflowStatus>(resp.status()));
      throw WorkflowFailedError(workflow_id, resp.run_id(), std::string(status),
                                resp.has_failure() ? internal::FailureToError(resp.failure()) : nullptr);
    }
  }
}

}  // namespace keel
