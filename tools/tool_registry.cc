#include "tools/tool_registry.h"

namespace keel::tools {

Status ToolRegistry::Add(std::shared_ptr<Tool> tool) {
  if (tool == nullptr) return InvalidArgument("null tool");
  if (tool->Name().empty()) return InvalidArgument("a tool needs a name");
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& t : tools_) {
    if (t->Name() == tool->Name())
      return AlreadyExists("tool '" + tool->Name() + "' is already registered");
  }
  tools_.push_back(std::move(tool));
  return Status::Ok();
}

Status ToolRegistry::AddAll(const std::vector<std::shared_ptr<Tool>>& tools) {
  for (const auto& t : tools) KEEL_RETURN_IF_ERROR(Add(t));
  return Status::Ok();
}

std::shared_ptr<Tool> ToolRegistry::Find(std::string_view name) const {
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& t : tools_) {
    if (t->Name() == name) return t;
  }
  return nullptr;
}

std::vector<std::string> ToolRegistry::Names() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::string> names;
  for (const auto& t : tools_) names.push_back(t->Name());
  return names;
}

std::vector<ToolSpec> ToolRegistry::Specs() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<ToolSpec> specs;
  for (const auto& t : tools_) specs.push_back(t->Spec());
  return specs;
}

ToolResult ToolRegistry::Invoke(std::string_view name, const Json& args,
                                const ToolContext& ctx) const {
  std::shared_ptr<Tool> tool = Find(name);
  if (tool == nullptr) {
    std::string known;
    for (const auto& n : Names()) known += (known.empty() ? "" : ", ") + n;
    return ToolResult::Error("no tool named '" + std::string(name) +
                             "'; the tools are: " + (known.empty() ? "(none)" : known));
  }
  return tool->Invoke(args, ctx);
}

}  // namespace keel::tools
