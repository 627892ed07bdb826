// Child workflows: options for ctx.ExecuteChildWorkflow and what happens to a child when
// its parent closes. A child is a workflow of its own (own id, history, task queue) whose
// result or failure the parent awaits. Values; thread-compatible.
#pragma once

#include <string>

#include "engine/clock.h"

namespace keel {

// What happens to a still-running child when its parent closes (completes, fails, is
// cancelled, terminated, times out or continues as new).
enum class ParentClosePolicy {
  kTerminate = 1,      // terminate the child (default)
  kAbandon = 2,        // leave it running
  kRequestCancel = 3,  // ask it to cancel
};

struct ChildWorkflowOptions {
  // Default: "<parent workflow id>/<first 8 of parent run id>/<type>-<n>", unique and
  // the same on replay.
  std::string id;
  std::string task_queue;  // default: the parent's
  ParentClosePolicy parent_close_policy = ParentClosePolicy::kTerminate;
  Duration execution_timeout{};
  Duration run_timeout{};
  Duration task_timeout{};
};

// Options for continuing as new (empty fields keep the current run's values).
struct ContinueAsNewOptions {
  std::string workflow_type;
  std::string task_queue;
  Duration run_timeout{};
  Duration task_timeout{};
};

}  // namespace keel
