// The MCP protocol revisions Keel's client speaks, newest first: the one place to add a
// revision. The client offers the newest in `initialize` and accepts the server's answer
// if it is listed here. Everything the client reads (tools/list, tools/call, content,
// isError, structuredContent, annotations) is optional or unchanged across these, so no
// other code branches on the version. Constants; thread-safe.
#pragma once

#include <array>
#include <string>
#include <string_view>

namespace keel::tools::mcp {

inline constexpr std::array<std::string_view, 4> kSupportedProtocolVersions = {
    "2025-11-25",  // tasks, icons, tool-name rules; input validation errors as isError results
    "2025-06-18",  // structuredContent, outputSchema, title
    "2025-03-26",  // tool annotations
    "2024-11-05",  // the first revision: tools/list, tools/call, content, isError
};

inline constexpr std::string_view kLatestProtocolVersion = kSupportedProtocolVersions.front();

inline bool IsSupportedProtocolVersion(std::string_view version) {
  for (auto v : kSupportedProtocolVersions) {
    if (v == version) return true;
  }
  return false;
}

// "2025-11-25, 2025-06-18, ..." for error messages.
inline std::string SupportedProtocolVersionList() {
  std::string out;
  for (auto v : kSupportedProtocolVersions) out += (out.empty() ? "" : ", ") + std::string(v);
  return out;
}

}  // namespace keel::tools::mcp
