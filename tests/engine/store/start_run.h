// StartRun: a run's first transition as the engine writes it, for the store's tests.
#pragma once

#include <cstdint>
#include <string>

#include "engine/store/store.h"

namespace keel::store {

// The run's row (with `state_bytes` of `fill` as its state: 2000 bytes make a commit span
// pages), one history batch, a workflow task and a run-timeout timer at 5000 + exec_id.
inline Transition StartRun(int64_t exec_id, size_t state_bytes = 2000, char fill = 's') {
  Transition t;
  ExecutionRow row;
  row.exec_id = exec_id;
  row.run_id = "run-" + std::to_string(exec_id);
  row.namespace_name = "default";
  row.workflow_id = "wf-" + std::to_string(exec_id);
  row.workflow_type = "Order";
  row.task_queue = "queue";
  row.status = 1;
  row.start_time_us = 1000;
  row.history_length = 3;
  row.state = std::string(state_bytes, fill);
  t.executions.push_back(row);
  t.history.push_back({exec_id, 1, 3, std::string(3000, 'e')});
  t.add_tasks.push_back({{exec_id, TaskKind::kWorkflow, 0}, "default", "queue", exec_id});
  t.add_timers.push_back({{exec_id, TimerKind::kWorkflowRunTimeout, 0}, 5000 + exec_id});
  return t;
}

}  // namespace keel::store
