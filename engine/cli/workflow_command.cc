// keel workflow: dispatch to a subcommand, the global options, and how failures become
// one line on stderr and an exit code (see ExitCode).
#include "engine/cli/workflow_command.h"

#include <algorithm>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "engine/cli/commands.h"

namespace keel::cli {

namespace workflow {

namespace {

constexpr char kDefaultServer[] = "127.0.0.1:7070";

// Accepted by every subcommand; they override the ones given before `workflow`.
std::vector<OptionSpec> GlobalOptionSpecs() {
  return {
      {"--server", "HOST:PORT", "keeld's address (default $KEEL_SERVER, else 127.0.0.1:7070)"},
      {"--token", "T", "bearer token (default $KEEL_TOKEN)"},
      {"--tls-ca", "FILE", "PEM file of the CA that signed keeld's certificate (TLS)"},
      {"--json", "", "print one JSON document on stdout"},
  };
}

std::vector<Subcommand> AllSubcommands() {
  std::vector<Subcommand> all;
  for (auto* group : {&ActionSubcommands, &InspectSubcommands, &HistorySubcommands}) {
    for (auto& s : (*group)()) {
      for (auto& o : GlobalOptionSpecs()) s.spec.options.push_back(o);
      all.push_back(std::move(s));
    }
  }
  return all;
}

std::string Usage(const std::vector<Subcommand>& subcommands) {
  std::string out =
      "usage: keel [--server HOST:PORT] [--token T] workflow <subcommand> [options]\n"
      "\n"
      "Starts, signals, queries, inspects and stops workflows on keeld.\n"
      "\n"
      "subcommands:\n";
  for (const auto& s : subcommands) {
    out +=
        "  " + s.name + std::string(11 - std::min<size_t>(10, s.name.size()), ' ') + s.brief + "\n";
  }
  out +=
      "\n"
      "options of every subcommand:\n";
  for (const auto& o : GlobalOptionSpecs()) {
    std::string left = o.name + (o.value.empty() ? "" : " " + o.value);
    out += "  " + left + std::string(20 - std::min<size_t>(19, left.size()), ' ') + o.help + "\n";
  }
  out +=
      "\n"
      "Exit status: 0 ok, 1 error (server, connection), 2 bad usage, 3 workflow not found,\n"
      "4 the workflow failed, was canceled, terminated or timed out (result, start --wait),\n"
      "5 still running (result --no-wait). Run 'keel workflow <subcommand> --help' for more.\n";
  return out;
}

// The server's message without the "NOT_FOUND: " prefix that Status::ToString adds.
std::string ServerMessage(const ClientError& e) {
  std::string message = e.what();
  std::string prefix = std::string(StatusCodeName(static_cast<StatusCode>(e.Code()))) + ": ";
  if (message.rfind(prefix, 0) == 0) message.erase(0, prefix.size());
  return message;
}

// The error line for a failed call, and its exit code.
std::pair<std::string, int> Explain(const ClientError& e, const std::string& server) {
  std::string message = ServerMessage(e);
  switch (static_cast<StatusCode>(e.Code())) {
    case StatusCode::kNotFound:
      return {message, kExitNotFound};
    case StatusCode::kUnauthenticated:
      return {"authentication failed: " + message + " (pass --token or set KEEL_TOKEN)",
              kExitError};
    case StatusCode::kPermissionDenied:
      return {"permission denied: " + message, kExitError};
    case StatusCode::kUnavailable:
      return {"cannot reach keeld at " + server + ": " + message, kExitError};
    case StatusCode::kDeadlineExceeded:
      return {"timed out: " + message, kExitError};
    default:
      return {message, kExitError};
  }
}

// Belt and braces: whatever a message holds, the token never reaches the terminal.
std::string Redact(std::string text, const std::string& token) {
  if (token.size() < 4) return text;
  for (size_t at = text.find(token); at != std::string::npos; at = text.find(token, at)) {
    text.replace(at, token.size(), "<token>");
  }
  return text;
}

}  // namespace

Context::Context(ParsedArgs args, ConnectOptions connect)
    : args_(std::move(args)), connect_(std::move(connect)) {}

Frontend& Context::frontend() {
  if (!frontend_) {
    auto f = ConnectToServer(connect_);
    if (!f.ok()) throw ClientError(static_cast<int>(f.status().code()), f.status().ToString());
    frontend_ = std::move(f).value();
  }
  return *frontend_;
}

Client& Context::client() {
  if (!client_)
    client_ = std::make_unique<Client>(frontend(), ClientOptions{.identity = "keel-cli"});
  return *client_;
}

bool KeeldAway(const Status& status) {
  return status.code() == StatusCode::kUnavailable || status.code() == StatusCode::kCancelled;
}

void WaitForKeeld(Context& ctx, const Status& status, bool& away) {
  if (!away) {
    std::fprintf(stderr, "keel: keeld at %s is unavailable (%s); waiting for it to come back\n",
                 ctx.server().c_str(), status.ToString().c_str());
  }
  away = true;
  // Between tries (each try itself waits up to a second to connect).
  std::mutex mu;
  std::condition_variable cv;
  std::unique_lock<std::mutex> lock(mu);
  Clock::System().WaitUntil(lock, cv, Clock::System().Now() + std::chrono::milliseconds(500), [] { return false; });
}

void KeeldBack() { std::fprintf(stderr, "keel: keeld is back\n"); }

}  // namespace workflow

int WorkflowCommand(int argc, char** argv, const GlobalOptions& globals) {
  using namespace workflow;
  // argv[0] is "workflow".
  const std::vector<Subcommand> subcommands = AllSubcommands();
  if (argc < 2 || std::string(argv[1]) == "-h" || std::string(argv[1]) == "--help") {
    std::fputs(Usage(subcommands).c_str(), argc < 2 ? stderr : stdout);
    return argc < 2 ? kExitUsage : kExitOk;
  }
  const std::string name = argv[1];
  const Subcommand* sub = nullptr;
  for (const auto& s : subcommands) {
    if (s.name == name) sub = &s;
  }
  if (sub == nullptr) {
    std::fprintf(stderr, "keel: unknown workflow subcommand '%s' (see keel workflow --help)\n",
                 name.c_str());
    return kExitUsage;
  }

  std::string token = globals.token;
  ConnectOptions connect;
  try {
    ParsedArgs args = Parse(sub->spec, std::vector<std::string>(argv + 2, argv + argc));
    if (args.help()) {
      std::fputs(FormatHelp(sub->spec).c_str(), stdout);
      return kExitOk;
    }
    const char* env_server = std::getenv("KEEL_SERVER");
    connect.address = args.Get("--server", !globals.server.empty()     ? globals.server
                                           : env_server && *env_server ? env_server
                                                                       : kDefaultServer);
    token = args.Get("--token", globals.token);
    if (token.empty()) {
      if (const char* env = std::getenv("KEEL_TOKEN")) token = env;
    }
    connect.token = token;
    connect.tls_ca_file = args.Get("--tls-ca", globals.tls_ca);
    Context ctx(std::move(args), connect);
    return sub->run(ctx);
  } catch (const UsageError& e) {
    std::fprintf(stderr, "keel: %s (see keel workflow %s --help)\n",
                 Redact(OneLine(e.what()), token).c_str(), name.c_str());
    return kExitUsage;
  } catch (const ClientError& e) {
    auto [message, code] = Explain(e, connect.address);
    std::fprintf(stderr, "keel: %s\n", Redact(OneLine(message), token).c_str());
    return code;
  } catch (const WorkflowEnded& e) {
    std::fprintf(stderr, "keel: %s\n", Redact(OneLine(e.message), token).c_str());
    return kExitWorkflowFailed;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "keel: %s\n", Redact(OneLine(e.what()), token).c_str());
    return kExitError;
  }
}

}  // namespace keel::cli
