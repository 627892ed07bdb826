// ToolRegistry: the tools an agent may call, by name, in the order they were added. Add
// them at startup; lookups and calls are thread-safe at any time. Holds shared ownership
// of its tools (an MCP tool keeps its server connection alive through it).
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "engine/status.h"
#include "tools/tool.h"

namespace keel::tools {

class ToolRegistry {
 public:
  // kAlreadyExists when a tool of that name is registered; kInvalidArgument for a null
  // tool or an empty name.
  Status Add(std::shared_ptr<Tool> tool);
  // Adds each tool; stops at the first failure.
  Status AddAll(const std::vector<std::shared_ptr<Tool>>& tools);

  // nullptr when there is no such tool.
  std::shared_ptr<Tool> Find(std::string_view name) const;
  std::vector<std::string> Names() const;
  // What the model is told about the tools.
  std::vector<ToolSpec> Specs() const;

  // Find + Tool::Invoke. An unknown name is an error result naming the tools that exist,
  // so the model can correct itself.
  ToolResult Invoke(std::string_view name, const Json& args, const ToolContext& ctx = {}) const;

 private:
  mutable std::mutex mu_;
  std::vector<std::shared_ptr<Tool>> tools_;
};

}  // namespace keel::tools
