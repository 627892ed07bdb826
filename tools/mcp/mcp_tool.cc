#include "tools/mcp_tool.h"

#include <algorithm>

#include "engine/errors.h"

namespace keel::tools {

namespace {

class McpTool final : public Tool {
 public:
  McpTool(std::shared_ptr<McpClient> client, ToolSpec spec, std::string remote_name)
      // The server's schema may use features valijson lacks; the server checks it anyway.
      : Tool(std::move(spec), SchemaCheck::kBestEffort),
        client_(std::move(client)),
        remote_name_(std::move(remote_name)) {}

 protected:
  ToolResult Run(const Json& args, const ToolContext& ctx) const override {
    Result<ToolResult> result = client_->CallTool(remote_name_, args, ctx);
    if (result.ok()) return std::move(result).value();
    const Status& s = result.status();
    switch (s.code()) {
      case StatusCode::kCancelled:
        throw CanceledError(s.message());
      case StatusCode::kDeadlineExceeded:
        throw ApplicationError("McpTimeout", s.message());
      case StatusCode::kUnavailable:
      case StatusCode::kNotFound:  // the command vanished while restarting: maybe a deploy
        throw ApplicationError("McpServerUnavailable", s.message());
      default:
        throw ApplicationError("McpError", s.message(), {.non_retryable = true});
    }
  }

 private:
  std::shared_ptr<McpClient> client_;
  std::string remote_name_;
};

}  // namespace

std::shared_ptr<Tool> NewMcpTool(std::shared_ptr<McpClient> client, ToolSpec spec,
                                 const std::string& name_prefix) {
  std::string remote_name = spec.name;
  spec.name = name_prefix + spec.name;
  return std::make_shared<McpTool>(std::move(client), std::move(spec), std::move(remote_name));
}

Result<std::vector<std::shared_ptr<Tool>>> LoadMcpTools(std::shared_ptr<McpClient> client,
                                                        McpToolsOptions options) {
  KEEL_ASSIGN_OR_RETURN(std::vector<ToolSpec> specs, client->ListTools());
  for (const auto& wanted : options.only) {
    bool found = std::any_of(specs.begin(), specs.end(),
                             [&](const ToolSpec& s) { return s.name == wanted; });
    if (!found) return NotFound("MCP server '" + client->Name() + "' has no tool '" + wanted + "'");
  }
  std::vector<std::shared_ptr<Tool>> tools;
  for (auto& spec : specs) {
    bool wanted = options.only.empty() || std::find(options.only.begin(), options.only.end(),
                                                    spec.name) != options.only.end();
    if (wanted) tools.push_back(NewMcpTool(client, std::move(spec), options.name_prefix));
  }
  return tools;
}

}  // namespace keel::tools
