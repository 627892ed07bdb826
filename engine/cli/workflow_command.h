// What the `keel workflow` subcommands share: their exit codes, the per-call Context (the
// parsed options and a lazily opened connection to keeld), and the subcommand table that
// workflow_command.cc dispatches on. Each workflow_command_*.cc file defines a few
// subcommands. Owned by one thread (one CLI invocation).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "engine/cli/cli_args.h"
#include "engine/client.h"
#include "engine/frontend.h"
#include "engine/grpc_frontend.h"

namespace keel::cli::workflow {

// Documented in docs/cli.md; scripts depend on them.
enum ExitCode : int {
  kExitOk = 0,
  kExitError = 1,           // the server refused or failed, or it could not be reached
  kExitUsage = 2,           // a bad command line; nothing was sent
  kExitNotFound = 3,        // no such workflow (id or run id)
  kExitWorkflowFailed = 4,  // result: the run failed, was canceled, terminated or timed out
  kExitStillRunning = 5,    // result --no-wait: the run has not closed yet
};

// A run that ended without a result (exit 4); the subcommand already printed what it
// could, the dispatcher prints `message` as the error line.
struct WorkflowEnded {
  std::string message;
};

class Context {
 public:
  Context(ParsedArgs args, ConnectOptions connect);

  const ParsedArgs& args() const { return args_; }
  bool json() const { return args_.Has("--json"); }
  const std::string& server() const { return connect_.address; }
  // Connects on first use. Errors throw ClientError, like every call through them.
  Frontend& frontend();
  Client& client();

 private:
  ParsedArgs args_;
  ConnectOptions connect_;
  std::unique_ptr<Frontend> frontend_;
  std::unique_ptr<Client> client_;
};

bool KeeldAway(const Status& status);
// Says on stderr (the first time: `away` false) that keeld is away, then pauses.
void WaitForKeeld(Context& ctx, const Status& status, bool& away);
void KeeldBack();

// A failed Frontend call as a ClientError (what Client methods throw).
template <typename T>
T Check(Result<T> r) {
  if (!r.ok()) throw ClientError(static_cast<int>(r.status().code()), r.status().ToString());
  return std::move(r).value();
}

// For waits that began with keeld reachable: `call` is made again while keeld is away
// (stopped or restarting: UNAVAILABLE, or CANCELLED by a stopping server; this command
// never cancels a call), saying so once on stderr, until keeld answers.
template <typename T, typename Call>
T CheckThroughRestarts(Context& ctx, Call&& call) {
  bool away = false;
  while (true) {
    Result<T> r = call();
    if (!r.ok() && KeeldAway(r.status())) {
      WaitForKeeld(ctx, r.status(), away);
      continue;
    }
    if (away) KeeldBack();
    return Check(std::move(r));
  }
}

struct Subcommand {
  std::string name;
  std::string brief;  // one line for `keel workflow --help`
  CommandSpec spec;   // without the global options (the dispatcher adds them)
  int (*run)(Context& ctx);
};

// workflow_command_actions.cc: start, signal, query, cancel, terminate.
std::vector<Subcommand> ActionSubcommands();
// workflow_command_inspect.cc: describe, list, result.
std::vector<Subcommand> InspectSubcommands();
// workflow_command_history.cc: history.
std::vector<Subcommand> HistorySubcommands();

// Waits for (or, with wait=false, looks at) the result of `workflow_id`, following
// continue-as-new; prints it (merged into `fields` with --json) and returns the exit
// code. Shared by `result` and `start --wait`. A wait outlives a keeld restart once keeld
// has answered: `reached` says it has (the start), else a first look without waiting
// makes sure.
int PrintResult(Context& ctx, const std::string& workflow_id, const std::string& run_id, bool wait,
                nlohmann::json fields, bool reached = false);

}  // namespace keel::cli::workflow
