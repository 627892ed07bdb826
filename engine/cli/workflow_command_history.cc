// keel workflow history: a run's events as a timeline, as the export JSON that
// `PROGRAM replay FILE` reads, or followed live until the run closes.
#include <google/protobuf/util/json_util.h>

#include <cstdio>

#include "engine/cli/workflow_command.h"
#include "engine/cli/workflow_output.h"
#include "engine/history.h"
#include "engine/history/event_util.h"

namespace keel::cli::workflow {

namespace {

using nlohmann::json;

void WriteFile(const History& history, const std::string& path) {
  Status st = history.WriteJsonFile(path);
  if (!st.ok()) throw std::runtime_error(st.message());
}

std::string EventJsonLine(const v1::HistoryEvent& e) {
  std::string out;
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;  // as in History::ToJson
  (void)google::protobuf::util::MessageToJsonString(e, &out, options);
  return out;
}

// Long-polls for events after the last one shown and prints them as they come: timeline
// lines, or one JSON object per event with --json. Returns the whole history.
History Follow(Context& ctx, const std::string& workflow_id, const std::string& run_id) {
  v1::GetWorkflowExecutionHistoryRequest req;
  req.set_namespace_("default");
  req.mutable_workflow_execution()->set_workflow_id(workflow_id);
  req.mutable_workflow_execution()->set_run_id(run_id);
  History history;
  size_t shown = 0;  // bytes of the timeline already printed
  bool closed = false;
  while (!closed) {
    req.set_first_event_id(history.size() + 1);
    req.set_wait_new_event(history.size() > 0);
    // The first read fails at once if keeld cannot be reached; the waits then outlive a
    // keeld restart.
    auto resp = history.size() == 0 ? Check(ctx.frontend().GetWorkflowExecutionHistory(req))
                                    : CheckThroughRestarts<v1::GetWorkflowExecutionHistoryResponse>(
                                          ctx, [&] { return ctx.frontend().GetWorkflowExecutionHistory(req); });
    if (history.size() == 0) {
      // Pin the run, so that a new run of the same id is not mixed in.
      history.mutable_proto() = resp.history();
      history.mutable_proto().clear_events();
      req.mutable_workflow_execution()->set_run_id(resp.history().workflow_execution().run_id());
    }
    for (const auto& e : resp.history().events()) {
      *history.mutable_proto().add_events() = e;
      closed = closed || IsCloseEvent(e);
      if (ctx.json()) std::printf("%s\n", EventJsonLine(e).c_str());
    }
    if (!ctx.json()) {
      // The timeline of a prefix is a prefix of the timeline (times are relative to event 1).
      std::string timeline = history.Timeline();
      std::fputs(timeline.c_str() + shown, stdout);
      shown = timeline.size();
    }
    std::fflush(stdout);
  }
  return history;
}

int HistoryCommand(Context& ctx) {
  const auto& args = ctx.args();
  const std::string id = args.Get("--id");
  const std::string output = args.Get("--output");
  if (args.Has("--output") && output.empty()) throw UsageError("--output needs a file name");
  if (args.Has("--follow")) {
    History history = Follow(ctx, id, args.Get("--run-id"));
    if (!output.empty()) WriteFile(history, output);
    return kExitOk;
  }
  History history = ctx.client().GetHistory(id, args.Get("--run-id"));
  if (!output.empty()) {
    WriteFile(history, output);
    if (ctx.json()) {
      PrintJson({{"workflow_id", history.WorkflowId()},
                 {"run_id", history.RunId()},
                 {"events", history.size()},
                 {"output", output}});
    } else {
      std::printf("wrote %d events of workflow %s (run %s) to %s\n", history.size(),
                  history.WorkflowId().c_str(), history.RunId().c_str(), output.c_str());
    }
  } else if (ctx.json()) {
    std::printf("%s\n", history.ToJson().c_str());
  } else {
    std::fputs(history.Timeline().c_str(), stdout);
  }
  return kExitOk;
}

}  // namespace

std::vector<Subcommand> HistorySubcommands() {
  std::vector<Subcommand> out;
  out.push_back(
      {"history", "a run's events: timeline, export, follow",
       CommandSpec{
           .usage = "keel workflow history --id ID [--run-id R] [--output FILE] [--follow]",
           .summary = "Prints a run's history as a timeline (workflow-task events left out).\n"
                      "--json prints the export JSON; --output writes it to FILE, the format that\n"
                      "`PROGRAM replay FILE` replays against a build and replay tests load.\n",
           .options = {{"--id", "ID", "the workflow id", /*required=*/true},
                       {"--run-id", "R", "a specific run (default: the latest run of the id)"},
                       {"--output", "FILE", "write the export JSON to FILE"},
                       {"--follow", "",
                        "print events as they happen until the run closes (with --json:\n"
                        "one JSON object per event and line)"}},
           .notes =
               "examples:\n"
               "  keel workflow history --id hi-1\n"
               "  keel workflow history --id hi-1 --output hi-1.json && hello replay hi-1.json\n"
               "  keel workflow history --id hi-1 --follow\n",
       },
       &HistoryCommand});
  return out;
}

}  // namespace keel::cli::workflow
