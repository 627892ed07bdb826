// Test helpers for the workflow runtime: drive an internal::RunDriver with a canned
// history, either all at once (a fresh worker replaying up to the last, live task) or
// batch by batch (a worker that keeps the run cached between tasks), and render the
// commands of the live task as short strings that read well in assertions.
#pragma once

#include <functional>
#include <ostream>
#include <string>
#include <vector>

#include "engine/activity.h"
#include "engine/history.h"
#include "engine/registry.h"
#include "engine/status.h"
#include "engine/testing/history_builder.h"
#include "engine/workflow.h"
#include "keel/v1/command.pb.h"

namespace keel {
// Prints status codes by name in test failures.
inline void PrintTo(StatusCode code, std::ostream* os) { *os << StatusCodeName(code); }
}  // namespace keel

namespace keel::runtime_test {

// What driving a history produced.
struct DriveResult {
  Status status;
  // The commands of the last task when the history ends with its WorkflowTaskStarted
  // (rendered by Describe), otherwise empty.
  std::vector<std::string> commands;
  // RunDriver::divergence_event_id() after the last Advance.
  int64_t divergence_event_id = 0;
};

// The WorkflowInfo a worker would build for `h`'s run.
WorkflowInfo InfoOf(const History& h);

// Feeds every event of `h` in one Advance call.
DriveResult DriveAll(const Registry& registry, const History& h);

// Feeds `h` in the batches a cached worker receives: each batch ends with a
// WorkflowTaskStarted that is not followed by WorkflowTaskFailed/TimedOut (the last batch
// ends with the history). Stops at the first error.
DriveResult DriveInBatches(const Registry& registry, const History& h);

// "ScheduleActivityTask work#1", "RequestCancelActivityTask @5", "StartTimer 1",
// "CancelTimer 1", "RecordMarker SideEffect#1=42", "RecordMarker Version(change)",
// "RecordMarker Version(change, deprecated)", "StartChildWorkflowExecution type#child-id",
// "SignalExternalWorkflowExecution target:signal", "RequestCancelExternalWorkflowExecution
// target" (+ " (child)" when child_workflow_only), "ContinueAsNewWorkflowExecution 1 \"x\""
// (the input payloads' JSON), "UpsertWorkflowSearchAttributes a=1 b=\"x\"" (by name),
// "CompleteWorkflowExecution \"ok\"", "FailWorkflowExecution Type: message",
// "CancelWorkflowExecution".
std::string Describe(const v1::Command& command);
std::vector<std::string> Describe(const std::vector<v1::Command>& commands);

// Rewrites event `event_id` of `h` (an ActivityTaskFailed written by HistoryBuilder,
// which has no TimedOut helper) into an ActivityTaskTimedOut (start-to-close).
void MakeActivityTimedOut(History& h, int64_t event_id);

// The payload data (JSON text) of the first payload of a CompleteWorkflowExecution.
std::string ResultJson(const v1::Command& command);

// ---- shorthands for tests ----

// start_to_close 30 s.
ActivityOptions Opts();
// One string payload.
Payloads Str(const std::string& s);
// The rendering of a CompleteWorkflowExecution whose result is the string `s`.
std::string Done(const std::string& s);
// ... whose result is the JSON text `json`.
std::string DoneJson(const std::string& json);

// Appends the live task (WorkflowTaskScheduled + WorkflowTaskStarted) to `b` and builds.
History Live(keel::testing::HistoryBuilder& b);

// Drives `h` all at once and batch by batch; both must succeed with the live task's
// commands equal to `want`.
void ExpectLiveCommands(const Registry& registry, const History& h,
                        const std::vector<std::string>& want);

// One row of a command state machine's edge table: a history that walks some edges
// ("Scheduled | ActivityTaskStarted", listed in `edges`) and what its live task gives:
// `commands`, or an error `code` (with the event a divergence names and part of the
// message).
struct MachineRow {
  const char* name;
  const char* edges;  // the table rows this one walks, in order
  std::function<History()> history;
  std::vector<std::string> commands;  // of the live task
  StatusCode code = StatusCode::kOk;
  int64_t event_id = 0;      // for kNondeterminism
  const char* message = "";  // a part of the error message
};
void PrintTo(const MachineRow& row, std::ostream* os);

// Drives the row's history all at once (a fresh worker) and batch by batch (a cached
// run) and checks both against the row.
void WalkRow(const Registry& registry, const MachineRow& row);

// The table as a checklist: fails for each of `edges` that no row (whose `edges` start
// with `prefix`) walks.
void ExpectEveryEdgeHasARow(const std::vector<MachineRow>& rows, const std::vector<std::string>& edges,
                            const std::string& prefix = "");

}  // namespace keel::runtime_test
