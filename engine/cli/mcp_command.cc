// Placeholder until the MCP client lands.
#include <cstdio>

#include "engine/cli/commands.h"

namespace keel::cli {
int McpCommand(int, char**) {
  std::fprintf(stderr, "keel mcp: not available in this build yet\n");
  return 1;
}
}  // namespace keel::cli
