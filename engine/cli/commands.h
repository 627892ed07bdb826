// The keel CLI's subcommands. Each takes the arguments after its name (argv[0] is the
// subcommand name), prints results to stdout and one-line errors to stderr, and returns
// the process exit code: 0 success, 1 the operation failed, 2 bad usage.
#pragma once

namespace keel::cli {

int LlmCommand(int argc, char** argv);  // keel llm ...   (llm_command.cc)
int McpCommand(int argc, char** argv);  // keel mcp ...   (mcp_command.cc)

}  // namespace keel::cli
