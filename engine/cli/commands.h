// The keel CLI's subcommands. Each takes the arguments after its name (argv[0] is the
// subcommand name), prints results to stdout and one-line errors to stderr, and returns
// the process exit code: 0 success, 1 the operation failed, 2 bad usage (workflow adds
// 3 not found, 4 workflow failed, 5 still running; see docs/cli.md).
#pragma once

#include <string>

namespace keel::cli {

// Options given before the command: `keel --server HOST:PORT --token T workflow ...`.
// Empty means "not given" (the command falls back to KEEL_SERVER / KEEL_TOKEN).
struct GlobalOptions {
  std::string server;
  std::string token;
  std::string tls_ca;
};

int LlmCommand(int argc, char** argv);  // keel llm ...   (llm_command.cc)
int McpCommand(int argc, char** argv);  // keel mcp ...   (mcp_command.cc)
// keel workflow ...   (workflow_command*.cc)
int WorkflowCommand(int argc, char** argv, const GlobalOptions& globals);

}  // namespace keel::cli
