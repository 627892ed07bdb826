// MCP tools as Keel tools: each tool an MCP server lists becomes a Tool with the server's
// name, description, input schema and annotations (readOnlyHint, destructiveHint,
// idempotentHint, openWorldHint, title), calling the server through a shared McpClient.
// Outcomes: the server's answer, isError or a JSON-RPC error, is a ToolResult; no answer
// throws keel::ApplicationError: "McpServerUnavailable" and "McpTimeout" (retryable: the
// next attempt restarts a dead server), "McpError" (non-retryable); cancellation throws
// keel::CanceledError. Thread-safe.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "engine/status.h"
#include "tools/mcp_client.h"
#include "tools/tool.h"

namespace keel::tools {

struct McpToolsOptions {
  // Put before each tool's name in Keel ("fs_" -> "fs_read_file"), to keep the tools of
  // several servers apart; the server still sees its own name.
  std::string name_prefix;
  // Only these tools (by the server's names); empty = all.
  std::vector<std::string> only;
};

// One tool of `client`'s server, as listed by McpClient::ListTools.
std::shared_ptr<Tool> NewMcpTool(std::shared_ptr<McpClient> client, ToolSpec spec,
                                 const std::string& name_prefix = "");

// Every tool of the server (tools/list), in the server's order. kNotFound when a name in
// options.only is not among them; McpClient::ListTools's errors otherwise.
Result<std::vector<std::shared_ptr<Tool>>> LoadMcpTools(std::shared_ptr<McpClient> client,
                                                        McpToolsOptions options = {});

}  // namespace keel::tools
