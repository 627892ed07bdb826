// keel: Keel's command-line client. Dispatches to a subcommand.
#include <cstdio>
#include <cstring>
#include <string>

#include "engine/cli/commands.h"

namespace {

void Usage(std::FILE* out) {
  std::fprintf(out,
               "usage: keel <command> [args...]\n"
               "\n"
               "commands:\n"
               "  llm      talk to a model provider (check a configuration before writing code)\n"
               "  mcp      list and call the tools of an MCP server\n"
               "\n"
               "Run 'keel <command> --help' for a command's options.\n");
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    Usage(stderr);
    return 2;
  }
  std::string command = argv[1];
  if (command == "-h" || command == "--help" || command == "help") {
    Usage(stdout);
    return 0;
  }
  if (command == "llm") return keel::cli::LlmCommand(argc - 1, argv + 1);
  if (command == "mcp") return keel::cli::McpCommand(argc - 1, argv + 1);
  std::fprintf(stderr, "keel: unknown command '%s' (see keel --help)\n", command.c_str());
  return 2;
}
