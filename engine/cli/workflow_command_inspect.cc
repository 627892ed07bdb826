// keel workflow describe | list | result: the subcommands that read a workflow's state.
#include <cstdio>

#include "engine/cli/workflow_command.h"
#include "engine/cli/workflow_output.h"
#include "engine/history/convert.h"

namespace keel::cli::workflow {

namespace {

using nlohmann::json;

int Describe(Context& ctx) {
  const auto& args = ctx.args();
  WorkflowDescription d = ctx.client().DescribeWorkflow(args.Get("--id"), args.Get("--run-id"));
  if (ctx.json()) {
    PrintJson(DescriptionToJson(d));
  } else {
    std::fputs(DescriptionText(d).c_str(), stdout);
  }
  return kExitOk;
}

int List(Context& ctx) {
  const auto& args = ctx.args();
  ListOptions options;
  options.workflow_type = args.Get("--type");
  options.workflow_id = args.Get("--id");
  if (args.Has("--status")) options.status = ParseStatus(args.Get("--status"));
  for (const auto& kv : args.GetAll("--search-attr")) {
    options.search_attributes.insert(ParseKeyJson("--search-attr", kv));
  }
  if (args.Has("--limit")) options.limit = ParsePositiveInt("--limit", args.Get("--limit"));
  std::vector<WorkflowSummary> runs = ctx.client().ListWorkflows(options);
  if (ctx.json()) {
    json all = json::array();
    for (const auto& r : runs) all.push_back(SummaryToJson(r));
    PrintJson({{"workflows", all}});
  } else if (runs.empty()) {
    std::printf("no workflows\n");
  } else {
    std::fputs(ListTable(runs).c_str(), stdout);
  }
  return kExitOk;
}

int Result(Context& ctx) {
  const auto& args = ctx.args();
  const std::string id = args.Get("--id");
  return PrintResult(ctx, id, args.Get("--run-id"), !args.Has("--no-wait"), {{"workflow_id", id}});
}

}  // namespace

int PrintResult(Context& ctx, const std::string& workflow_id, const std::string& run_id, bool wait,
                json fields, bool reached) {
  v1::GetWorkflowExecutionResultRequest req;
  req.set_namespace_("default");
  req.mutable_workflow_execution()->set_workflow_id(workflow_id);
  req.mutable_workflow_execution()->set_run_id(run_id);
  req.set_follow_runs(true);
  v1::GetWorkflowExecutionResultResponse resp;
  resp.set_status(v1::WORKFLOW_EXECUTION_STATUS_RUNNING);
  resp.set_run_id(run_id);
  if (!reached || !wait) {
    // A first look without waiting: a wrong address, token or id fails at once.
    resp = Check(ctx.frontend().GetWorkflowExecutionResult(req));
  }
  req.set_wait(true);
  while (wait && resp.status() == v1::WORKFLOW_EXECUTION_STATUS_RUNNING) {
    // Wait on the run reached so far (the server's long poll may end first).
    req.mutable_workflow_execution()->set_run_id(resp.run_id());
    resp = CheckThroughRestarts<v1::GetWorkflowExecutionResultResponse>(
        ctx, [&] { return ctx.frontend().GetWorkflowExecutionResult(req); });
  }
  const auto status = static_cast<WorkflowStatus>(resp.status());
  fields["run_id"] = resp.run_id();
  fields["status"] = std::string(WorkflowStatusName(status));
  if (status == WorkflowStatus::kCompleted) {
    json result = PayloadsToJson(FromProto(resp.result()));
    if (ctx.json()) {
      fields["result"] = result;
      PrintJson(fields);
    } else {
      PrintJson(result);
    }
    return kExitOk;
  }
  if (status == WorkflowStatus::kRunning) {
    if (ctx.json()) {
      PrintJson(fields);
    } else {
      std::printf("running (run %s)\n", resp.run_id().c_str());
    }
    return kExitStillRunning;
  }
  std::string failure = resp.has_failure() ? FailureText(resp.failure()) : "";
  if (ctx.json()) {
    fields["failure"] = failure;
    PrintJson(fields);
  }
  const std::string status_name(WorkflowStatusName(status));
  std::string message = "workflow " + workflow_id + " " + status_name;
  // "workflow terminated: bye" already says what happened: no "terminated: workflow terminated".
  const std::string echo = "workflow " + status_name;
  if (failure.rfind(echo, 0) == 0) failure.erase(0, echo.size());
  if (failure.rfind(": ", 0) == 0) failure.erase(0, 2);
  if (!failure.empty()) message += ": " + failure;
  throw WorkflowEnded{message};
}

std::vector<Subcommand> InspectSubcommands() {
  std::vector<Subcommand> out;
  out.push_back(
      {"describe", "status, pending work, attributes of a run",
       CommandSpec{
           .usage = "keel workflow describe --id ID [--run-id R]",
           .summary =
               "Shows a run: status, type, task queue, times, history length, search\n"
               "attributes, memo, pending activities (attempt, last failure, next attempt),\n"
               "timers, and a pending workflow task with why it is stuck (e.g. a worker\n"
               "that does not know the workflow type).\n",
           .options = {{"--id", "ID", "the workflow id", /*required=*/true},
                       {"--run-id", "R", "a specific run (default: the latest run of the id)"}},
       },
       &Describe});

  out.push_back(
      {"list", "list runs, newest first",
       CommandSpec{
           .usage =
               "keel workflow list [--type T] [--status S] [--search-attr KEY=JSON]... [--limit N]",
           .summary =
               "Lists runs, newest first: workflow id, run id, type, status, start and close\n"
               "time. Filters combine (all must match).\n",
           .options =
               {
                   {"--type", "T", "only this workflow type"},
                   {"--id", "ID", "only runs of this workflow id"},
                   {"--status", "S",
                    "running, completed, failed, canceled, terminated,\n"
                    "continued-as-new or timed-out"},
                   {"--search-attr", "KEY=JSON", "only runs whose attribute KEY has this value",
                    false,
                    /*repeatable=*/true},
                   {"--limit", "N", "at most N runs (default 100)"},
               },
           .notes = "example:\n"
                    "  keel workflow list --status running --search-attr customer='\"acme\"'\n",
       },
       &List});

  out.push_back(
      {"result", "wait for a workflow's result",
       CommandSpec{
           .usage = "keel workflow result --id ID [--run-id R] [--no-wait]",
           .summary =
               "Waits for the workflow to close (following continue-as-new to the last run)\n"
               "and prints its result as JSON. A run that failed, was canceled, terminated or\n"
               "timed out prints its failure on stderr and exits 4.\n",
           .options = {{"--id", "ID", "the workflow id", /*required=*/true},
                       {"--run-id", "R", "start from this run (default: the latest run of the id)"},
                       {"--no-wait", "",
                        "do not wait: a running workflow prints 'running', exits 5"}},
       },
       &Result});
  return out;
}

}  // namespace keel::cli::workflow
