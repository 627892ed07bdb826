// The cross-process crash test's workload, shared by the worker binary that runs it
// (server_worker.cc) and the test that drives keeld, the workers and the client
// (crash_server_test.cc): workflows "signalled" with fixed ids, each running activity
// "record" kActivities times and waiting for one signal "go" between two activities. A
// workflow returns the signal payloads it received, in order. Also the worker's stdout
// protocol. Constants only; thread-safe.
#pragma once

#include <cstdio>
#include <string>

namespace keel::testing::crash_server {

inline constexpr int kWorkflowCount = 200;
inline constexpr int kActivities = 4;
inline constexpr int kSignals = kActivities - 1;
inline constexpr char kWorkflowType[] = "signalled";
inline constexpr char kActivityType[] = "record";
inline constexpr char kSignalName[] = "go";

// Stdout protocol of the worker binary, one write() per line: "step <idempotency key>"
// after an execution of "record" has appended its key to the ledger.
inline constexpr char kStepPrefix[] = "step ";

// "srv-000" .. "srv-199".
inline std::string WorkflowId(int i) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "srv-%03d", i);
  return buf;
}

// Activity k of every workflow has id "a<k>", so a ledger key names its workflow and step.
inline std::string ActivityId(int k) { return "a" + std::to_string(k); }

// A retried start returns the first start's run; a retried signal is recorded once.
inline std::string StartRequestId(int i) { return WorkflowId(i) + "-start"; }
inline std::string SignalRequestId(int i, int k) { return WorkflowId(i) + "-signal-" + std::to_string(k); }
inline std::string SignalPayload(int i, int k) { return WorkflowId(i) + "/go-" + std::to_string(k); }

// What activity k of workflow i returns.
inline int ActivityResult(int i, int k) { return i * 100 + k; }

}  // namespace keel::testing::crash_server
