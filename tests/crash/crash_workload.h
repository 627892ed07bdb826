// The crash test's workload, shared by the child process that runs it (crash_child.cc)
// and the test that kills the child and checks the result (crash_test.cc): workflows
// "crashy" with fixed ids, each running activity "step" (int -> int + 1) kStepsPerWorkflow
// times in sequence. Workflow i starts from Input(i) and returns ExpectedResult(i).
// Also the child's stdout protocol. Constants only; thread-safe.
#pragma once

#include <cstdio>
#include <string>

namespace keel::testing::crash {

inline constexpr int kWorkflowCount = 100;
inline constexpr int kStepsPerWorkflow = 5;
inline constexpr char kWorkflowType[] = "crashy";
inline constexpr char kActivityType[] = "step";

// Stdout protocol of crash_child, one line per write(): "step <idempotency key>" after
// each activity execution has appended its key to the ledger, "result <workflow id>"
// once the client got the workflow's (correct) result, "done" once it got all of them.
inline constexpr char kStepPrefix[] = "step ";
inline constexpr char kResultPrefix[] = "result ";
inline constexpr char kDoneLine[] = "done";

// "crash-000" .. "crash-099".
inline std::string WorkflowId(int i) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "crash-%03d", i);
  return buf;
}

// The start request id of workflow i: a restarted child's start returns the first run.
inline std::string StartRequestId(int i) { return WorkflowId(i) + "-start"; }

inline int Input(int i) { return i * 10; }
inline int ExpectedResult(int i) { return Input(i) + kStepsPerWorkflow; }

}  // namespace keel::testing::crash
