#include "engine/replayer.h"

#include "engine/runtime/run_driver.h"

namespace keel {

ReplayResult ReplayHistory(const History& history, const Registry& registry) {
  const auto& h = history.proto();
  WorkflowInfo info;
  info.namespace_name = h.namespace_().empty() ? "default" : h.namespace_();
  info.workflow_id = h.workflow_execution().workflow_id();
  info.run_id = h.workflow_execution().run_id();
  info.workflow_type = h.workflow_type();
  if (info.workflow_type.empty() && h.events_size() > 0) {
    info.workflow_type = h.events(0).workflow_execution_started().workflow_type();
  }
  internal::RunDriver driver(registry, info);
  driver.set_replay_only(true);
  std::vector<v1::Command> commands;
  ReplayResult result;
  result.status = driver.Advance(h.events(), &commands);
  result.event_id = driver.divergence_event_id();
  return result;
}

}  // namespace keel
