// keel workflow start | signal | query | cancel | terminate: the subcommands that act on
// a workflow. Every option is parsed and checked before the first call to keeld, so a
// bad command line starts nothing.
#include <cstdio>

#include "engine/cli/workflow_command.h"
#include "engine/cli/workflow_output.h"

namespace keel::cli::workflow {

namespace {

using nlohmann::json;

// The options of a start, shared by `start` and signal-with-start.
std::vector<OptionSpec> StartOptionSpecs(const std::string& input_option) {
  return {
      {"--type", "T", "the workflow type (as registered by the worker)", /*required=*/true},
      {input_option, "JSON", "an argument of the workflow, a JSON value ('\"ada\"', 42)", false,
       /*repeatable=*/true},
      {"--task-queue", "Q", "the task queue its worker polls (default \"default\")"},
      {"--request-id", "R", "makes a retried start return the first start's run"},
      {"--id-reuse-policy", "P",
       "allow (default): a closed id may start again; failed-only: only after a\n"
       "failure, cancel, terminate or timeout; reject: never"},
      {"--execution-timeout", "D", "limit for all runs together: 30s, 5m, 2h, 30d, 1h30m"},
      {"--run-timeout", "D", "limit for one run"},
      {"--task-timeout", "D", "limit for one workflow task (default 10s)"},
      {"--search-attr", "KEY=JSON", "a listable attribute: tier='\"gold\"', vip=true", false, true},
      {"--memo", "KEY=JSON", "a free-form note shown by describe", false, true},
  };
}

Payloads InputPayloads(const ParsedArgs& args, const std::string& option) {
  Payloads input;
  for (const auto& text : args.GetAll(option))
    input.push_back(JsonPayload(ParseJsonValue(option, text)));
  return input;
}

IdReusePolicy ParseReusePolicy(const std::string& text) {
  if (text == "allow") return IdReusePolicy::kAllowDuplicate;
  if (text == "failed-only") return IdReusePolicy::kAllowDuplicateFailedOnly;
  if (text == "reject") return IdReusePolicy::kRejectDuplicate;
  throw UsageError("--id-reuse-policy: expected allow, failed-only or reject, got '" + text + "'");
}

StartWorkflowOptions StartOptions(const ParsedArgs& args) {
  StartWorkflowOptions o;
  o.id = args.Get("--id");
  o.task_queue = args.Get("--task-queue", "default");
  o.request_id = args.Get("--request-id");
  if (args.Has("--id-reuse-policy"))
    o.id_reuse_policy = ParseReusePolicy(args.Get("--id-reuse-policy"));
  if (args.Has("--execution-timeout")) {
    o.execution_timeout = ParseDuration("--execution-timeout", args.Get("--execution-timeout"));
  }
  if (args.Has("--run-timeout"))
    o.run_timeout = ParseDuration("--run-timeout", args.Get("--run-timeout"));
  if (args.Has("--task-timeout"))
    o.task_timeout = ParseDuration("--task-timeout", args.Get("--task-timeout"));
  for (const auto& kv : args.GetAll("--search-attr"))
    o.search_attributes.insert(ParseKeyJson("--search-attr", kv));
  for (const auto& kv : args.GetAll("--memo")) o.memo.insert(ParseKeyJson("--memo", kv));
  if (o.id.empty()) throw UsageError("--id must not be empty");
  if (args.Get("--type").empty()) throw UsageError("--type must not be empty");
  return o;
}

void PrintStarted(const WorkflowRun& run, bool json_output) {
  if (json_output) {
    PrintJson({{"workflow_id", run.workflow_id}, {"run_id", run.run_id}, {"started", run.started}});
    return;
  }
  std::printf("workflow id: %s\nrun id:      %s\n", run.workflow_id.c_str(), run.run_id.c_str());
  if (!run.started)
    std::printf("(an earlier start with this --request-id; nothing new was started)\n");
}

int Start(Context& ctx) {
  const auto& args = ctx.args();
  StartWorkflowOptions options = StartOptions(args);
  Payloads input = InputPayloads(args, "--input");
  WorkflowRun run = ctx.client().StartWorkflowPayloads(args.Get("--type"), options, input);
  if (!args.Has("--wait")) {
    PrintStarted(run, ctx.json());
    return kExitOk;
  }
  if (!ctx.json()) {
    PrintStarted(run, false);
    std::fflush(stdout);  // shown while the workflow runs
  }
  json fields = {
      {"workflow_id", run.workflow_id}, {"run_id", run.run_id}, {"started", run.started}};
  return PrintResult(ctx, run.workflow_id, run.run_id, /*wait=*/true, std::move(fields), /*reached=*/true);
}

int Signal(Context& ctx) {
  const auto& args = ctx.args();
  const std::string id = args.Get("--id");
  const std::string name = args.Get("--name");
  Payloads input = InputPayloads(args, "--input");
  if (args.Has("--type")) {
    if (args.Has("--run-id"))
      throw UsageError("--run-id cannot be used with --type (signal-with-start)");
    StartWorkflowOptions options = StartOptions(args);
    Payloads start_input = InputPayloads(args, "--start-input");
    WorkflowRun run =
        ctx.client().SignalWithStartPayloads(args.Get("--type"), options, name, input, start_input);
    if (ctx.json()) {
      PrintJson({{"workflow_id", id},
                 {"run_id", run.run_id},
                 {"signal", name},
                 {"started", run.started}});
    } else {
      std::printf("signaled workflow %s (run %s) with '%s'%s\n", id.c_str(), run.run_id.c_str(),
                  name.c_str(), run.started ? "; started it first" : "");
    }
    return kExitOk;
  }
  for (const char* start_only :
       {"--start-input", "--task-queue", "--id-reuse-policy", "--execution-timeout",
        "--run-timeout", "--task-timeout", "--search-attr", "--memo"}) {
    if (args.Has(start_only))
      throw UsageError(std::string(start_only) + " needs --type (signal-with-start)");
  }
  const std::string run_id = args.Get("--run-id");
  ctx.client().SignalPayloads(id, run_id, name, input, args.Get("--request-id"));
  if (ctx.json()) {
    PrintJson({{"workflow_id", id},
               {"run_id", run_id.empty() ? json(nullptr) : json(run_id)},
               {"signal", name}});
  } else {
    std::printf("signaled workflow %s with '%s'\n", id.c_str(), name.c_str());
  }
  return kExitOk;
}

int Query(Context& ctx) {
  const auto& args = ctx.args();
  const std::string id = args.Get("--id");
  const std::string name = args.Get("--name");
  Payloads input = InputPayloads(args, "--input");
  json answer = PayloadsToJson(ctx.client().QueryPayloads(id, args.Get("--run-id"), name, input));
  if (ctx.json()) {
    PrintJson({{"workflow_id", id}, {"query", name}, {"result", answer}});
  } else {
    PrintJson(answer);
  }
  return kExitOk;
}

int Cancel(Context& ctx) {
  const auto& args = ctx.args();
  const std::string id = args.Get("--id");
  const std::string run_id = args.Get("--run-id");
  ctx.client().CancelWorkflow(id, args.Get("--reason"), run_id);
  if (ctx.json()) {
    PrintJson({{"workflow_id", id},
               {"run_id", run_id.empty() ? json(nullptr) : json(run_id)},
               {"cancel_requested", true}});
  } else {
    std::printf("cancel requested for workflow %s (it may clean up before it closes)\n",
                id.c_str());
  }
  return kExitOk;
}

int Terminate(Context& ctx) {
  const auto& args = ctx.args();
  const std::string id = args.Get("--id");
  const std::string run_id = args.Get("--run-id");
  ctx.client().TerminateWorkflow(id, args.Get("--reason"), run_id);
  if (ctx.json()) {
    PrintJson({{"workflow_id", id},
               {"run_id", run_id.empty() ? json(nullptr) : json(run_id)},
               {"terminated", true}});
  } else {
    std::printf("terminated workflow %s\n", id.c_str());
  }
  return kExitOk;
}

OptionSpec IdOption() { return {"--id", "ID", "the workflow id", /*required=*/true}; }
OptionSpec RunIdOption() {
  return {"--run-id", "R", "a specific run (default: the latest run of the id)"};
}

}  // namespace

std::vector<Subcommand> ActionSubcommands() {
  std::vector<Subcommand> out;

  CommandSpec start{
      .usage = "keel workflow start --type T --id ID [--input JSON]... [options]",
      .summary =
          "Starts a workflow and prints its workflow id and run id; with --wait, waits for\n"
          "it to close and prints its result too (as `keel workflow result`).\n",
      .options = {IdOption()},
      .notes =
          "examples:\n"
          "  keel workflow start --type hello --id hi-1 --input '\"grace\"'\n"
          "  keel workflow start --type order --id o-7 --input '{\"sku\":\"x\",\"qty\":2}' \\\n"
          "      --search-attr customer='\"acme\"' --execution-timeout 30d --wait\n",
  };
  for (auto& o : StartOptionSpecs("--input")) start.options.push_back(std::move(o));
  start.options.push_back({"--wait", "", "wait for the workflow to close and print its result"});
  out.push_back({"start", "start a workflow", std::move(start), &Start});

  CommandSpec signal{
      .usage =
          "keel workflow signal --id ID --name N [--input JSON]... [--run-id R]\n"
          "       keel workflow signal --id ID --name N --type T [start options]",
      .summary =
          "Sends signal N to a running workflow. With --type it is signal-with-start: the\n"
          "workflow is signaled if it runs, else started (with --start-input and the start\n"
          "options) and then signaled, atomically.\n",
      .options = {IdOption(),
                  {"--name", "N", "the signal's name", /*required=*/true},
                  {"--input", "JSON", "an argument of the signal, a JSON value", false,
                   /*repeatable=*/true},
                  RunIdOption()},
      .notes =
          "examples:\n"
          "  keel workflow signal --id hi-1 --name proceed --input '\"ok\"'\n"
          "  keel workflow signal --id cart-9 --name add --input '\"apple\"' --type cart\n",
  };
  for (auto& o : StartOptionSpecs("--start-input")) {
    if (o.name == "--type")
      o = {"--type", "T", "signal-with-start: the type to start if the id is not running"};
    if (o.name == "--request-id")
      o.help = "makes a retried signal count once (and a retried start return its run)";
    signal.options.push_back(std::move(o));
  }
  out.push_back({"signal", "send a signal (or signal-with-start)", std::move(signal), &Signal});

  out.push_back(
      {"query", "ask a workflow's query handler",
       CommandSpec{
           .usage = "keel workflow query --id ID --name N [--input JSON]... [--run-id R]",
           .summary = "Asks the workflow's query handler N (ctx.OnQuery) and prints its JSON\n"
                      "answer. A worker computes it from the workflow's state; history is not\n"
                      "changed. Works on closed workflows too (while a worker runs).\n",
           .options = {IdOption(),
                       {"--name", "N", "the query's name", /*required=*/true},
                       {"--input", "JSON", "an argument of the query, a JSON value", false, true},
                       RunIdOption()},
           .notes = "An unknown query name fails with the names the workflow registered.\n",
       },
       &Query});

  out.push_back(
      {"cancel", "request cancellation",
       CommandSpec{
           .usage = "keel workflow cancel --id ID [--run-id R] [--reason TEXT]",
           .summary = "Requests cancellation: the workflow sees it, may clean up, and closes as\n"
                      "canceled (see docs/cancellation.md).\n",
           .options = {IdOption(),
                       RunIdOption(),
                       {"--reason", "TEXT", "why (recorded in history)"}},
       },
       &Cancel});

  out.push_back(
      {"terminate", "end a workflow at once",
       CommandSpec{
           .usage = "keel workflow terminate --id ID [--run-id R] [--reason TEXT]",
           .summary = "Ends the workflow at once: no workflow code runs, nothing is cleaned up.\n",
           .options = {IdOption(),
                       RunIdOption(),
                       {"--reason", "TEXT", "why (recorded in history)"}},
       },
       &Terminate});
  return out;
}

}  // namespace keel::cli::workflow
