#include "engine/registry.h"

namespace keel {

void Registry::AddWorkflow(const std::string& name, internal::WorkflowFn fn) {
  if (name.empty()) throw std::invalid_argument("workflow type name must not be empty");
  if (!workflows_.emplace(name, std::move(fn)).second) {
    throw std::invalid_argument("workflow type '" + name + "' is registered twice");
  }
}

void Registry::AddActivity(const std::string& name, internal::ActivityFn fn) {
  if (name.empty()) throw std::invalid_argument("activity type name must not be empty");
  if (!activities_.emplace(name, std::move(fn)).second) {
    throw std::invalid_argument("activity type '" + name + "' is registered twice");
  }
}

const internal::WorkflowFn* Registry::FindWorkflow(const std::string& name) const {
  auto it = workflows_.find(name);
  return it == workflows_.end() ? nullptr : &it->second;
}

const internal::ActivityFn* Registry::FindActivity(const std::string& name) const {
  auto it = activities_.find(name);
  return it == activities_.end() ? nullptr : &it->second;
}

std::vector<std::string> Registry::WorkflowTypes() const {
  std::vector<std::string> out;
  for (const auto& [k, v] : workflows_) out.push_back(k);
  return out;
}

std::vector<std::string> Registry::ActivityTypes() const {
  std::vector<std::string> out;
  for (const auto& [k, v] : activities_) out.push_back(k);
  return out;
}

}  // namespace keel
