// keel: Keel's command-line client. Reads the global options, then dispatches to a
// subcommand.
#include <cstdio>
#include <cstring>
#include <string>

#include "engine/cli/commands.h"

namespace {

void Usage(std::FILE* out) {
  std::fprintf(out,
               "usage: keel [--server HOST:PORT] [--token T] [--tls-ca FILE] <command> [args...]\n"
               "\n"
               "commands:\n"
               "  workflow start, signal, query, describe, list, result, cancel, terminate and\n"
               "           export the history of workflows on keeld\n"
               "  llm      talk to a model provider (check a configuration before writing code)\n"
               "  mcp      list and call the tools of an MCP server\n"
               "\n"
               "global options (workflow):\n"
               "  --server HOST:PORT  keeld's address (default $KEEL_SERVER, else 127.0.0.1:7070)\n"
               "  --token T           bearer token for keeld --tokens (default $KEEL_TOKEN)\n"
               "  --tls-ca FILE       PEM file of the CA that signed keeld's certificate (TLS)\n"
               "\n"
               "Run 'keel <command> --help' for a command's options; docs/cli.md has examples.\n");
}

}  // namespace

int main(int argc, char** argv) {
  keel::cli::GlobalOptions globals;
  int i = 1;
  // Global options come before the command: `keel --server HOST:PORT workflow list`.
  for (; i < argc && std::strncmp(argv[i], "--", 2) == 0; ++i) {
    std::string arg = argv[i];
    if (arg == "--help") break;
    std::string name = arg.substr(0, arg.find('='));
    std::string* slot = name == "--server"   ? &globals.server
                        : name == "--token"  ? &globals.token
                        : name == "--tls-ca" ? &globals.tls_ca
                                             : nullptr;
    if (slot == nullptr) {
      std::fprintf(stderr, "keel: unknown option %s (see keel --help)\n", name.c_str());
      return 2;
    }
    if (name.size() < arg.size()) {
      *slot = arg.substr(name.size() + 1);
    } else if (i + 1 < argc) {
      *slot = argv[++i];
    } else {
      std::fprintf(stderr, "keel: %s needs a value (see keel --help)\n", name.c_str());
      return 2;
    }
  }
  if (i >= argc) {
    Usage(stderr);
    return 2;
  }
  std::string command = argv[i];
  if (command == "-h" || command == "--help" || command == "help") {
    Usage(stdout);
    return 0;
  }
  if (command == "workflow") return keel::cli::WorkflowCommand(argc - i, argv + i, globals);
  if (command == "llm") return keel::cli::LlmCommand(argc - i, argv + i);
  if (command == "mcp") return keel::cli::McpCommand(argc - i, argv + i);
  std::fprintf(stderr, "keel: unknown command '%s' (see keel --help)\n", command.c_str());
  return 2;
}
