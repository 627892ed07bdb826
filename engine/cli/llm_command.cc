// Placeholder until the llm providers land.
#include <cstdio>

#include "engine/cli/commands.h"

namespace keel::cli {
int LlmCommand(int, char**) {
  std::fprintf(stderr, "keel llm: not available in this build yet\n");
  return 1;
}
}  // namespace keel::cli
