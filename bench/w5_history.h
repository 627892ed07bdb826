// W5's history, written with keel::testing::HistoryBuilder (also replayed by the CPU
// check, cpu_check.h).
#pragma once

#include "engine/history.h"

namespace keel::bench {

// What the engine records for Batches(n) when each batch completes before the workflow
// reacts (events listed for one batch of activities a, b, c):
//   WorkflowTaskCompleted
//   ActivityTaskScheduled a, b, c          the batch's three commands
//   ActivityTaskStarted a                  written with its outcome (one commit)
//   WorkflowTaskScheduled                  the first outcome schedules a workflow task
//   ActivityTaskCompleted a
//   ActivityTaskStarted b, ActivityTaskCompleted b, ActivityTaskStarted c, ...Completed c
//   WorkflowTaskStarted, WorkflowTaskCompleted   the next batch
// and after the last batch WorkflowExecutionCompleted: 12 events per batch of three.
// For `n` activities (10,007 events for W5's 2,500).
History BuildW5History(int n);

}  // namespace keel::bench
