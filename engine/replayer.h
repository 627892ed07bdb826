// Replay: re-runs workflow code against a recorded history, step for step, with no
// activity, model or timer actually run. Used to check that a new build can continue
// running workflows (a replay test over checked-in histories), and to debug a run.
// Stateless functions; thread-safe.
#pragma once

#include <cstdint>

#include "engine/history.h"
#include "engine/registry.h"
#include "engine/status.h"

namespace keel {

struct ReplayResult {
  // OK when the code reproduces the history. kNondeterminism names the first diverging
  // event, what was recorded and what the code produced now.
  Status status;
  int64_t event_id = 0;  // the first diverging event (0 when none)
  bool ok() const { return status.ok(); }
};

ReplayResult ReplayHistory(const History& history, const Registry& registry);

}  // namespace keel
