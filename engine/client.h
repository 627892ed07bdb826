// Client: starts, signals, cancels, terminates, inspects and awaits workflows through
// a Frontend (the embedded Engine, or keeld over gRPC). Engine errors surface as
// keel::ClientError (with the StatusCode); a workflow that ended without a result
// surfaces from GetResult as keel::WorkflowFailedError. Thread-safe.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "engine/clock.h"
#include "engine/errors.h"
#include "engine/frontend.h"
#include "engine/history.h"
#include "engine/payload.h"

namespace keel {

enum class IdReusePolicy {
  kAllowDuplicate = 1,             // a closed workflow id may be started again (default)
  kAllowDuplicateFailedOnly = 2,   // only if the last run failed, was cancelled, terminated or timed out
  kRejectDuplicate = 3,            // never again
};

struct StartWorkflowOptions {
  std::string id;  // required; unique among running workflows
  std::string task_queue = "default";
  IdReusePolicy id_reuse_policy = IdReusePolicy::kAllowDuplicate;
  // Makes a retried start return the first start's run. Default: a new UUID per call.
  std::string request_id;
  Duration execution_timeout{};  // all runs together (0 = none)
  Duration run_timeout{};        // one run (0 = none)
  Duration task_timeout{};       // one workflow task (0 = the engine's default, 10 s)
  // Listable key/values (ListOptions::search_attributes) and free-form notes (describe).
  std::map<std::string, nlohmann::json> search_attributes;
  std::map<std::string, nlohmann::json> memo;
};

enum class WorkflowStatus {
  kUnspecified = 0,
  kRunning = 1,
  kCompleted = 2,
  kFailed = 3,
  kCanceled = 4,
  kTerminated = 5,
  kContinuedAsNew = 6,
  kTimedOut = 7,
};
std::string_view WorkflowStatusName(WorkflowStatus s);

struct WorkflowRun {
  std::string workflow_id;
  std::string run_id;
  bool started = true;  // false when a retried start returned the earlier run
};

struct WorkflowSummary {
  std::string workflow_id;
  std::string run_id;
  std::string workflow_type;
  std::string task_queue;
  WorkflowStatus status = WorkflowStatus::kUnspecified;
  Time start_time;
  std::optional<Time> close_time;
  int64_t history_length = 0;
  std::map<std::string, nlohmann::json> search_attributes;  // (describe only)
  std::map<std::string, nlohmann::json> memo;               // (describe only)
};

struct PendingActivity {
  std::string activity_id;
  std::string activity_type;
  // "scheduled", "started", "backing off", "cancel requested", or "held": after keeld's
  // restart an attempt may still run on a worker; handed out at held_until unless that
  // worker reports it first.
  std::string state;
  int attempt = 1;
  std::string last_failure;  // empty when none
  std::optional<Time> next_attempt_time;
  std::optional<Time> held_until;
};

struct PendingWorkflowTask {
  std::string state;  // "scheduled", "started", "backing off"
  int attempt = 1;
  std::string last_failure;  // e.g. a non-determinism report; empty when none
  std::optional<Time> next_attempt_time;
  std::string note;
};

struct WorkflowDescription : WorkflowSummary {
  bool cancel_requested = false;
  std::vector<PendingActivity> pending_activities;
  std::vector<std::pair<std::string, Time>> pending_timers;  // timer id, fire time
  std::optional<PendingWorkflowTask> workflow_task;
};

struct ListOptions {
  std::string workflow_type;  // empty = any
  std::string workflow_id;    // empty = any
  std::optional<WorkflowStatus> status;
  std::optional<Time> started_after;   // inclusive
  std::optional<Time> started_before;  // exclusive
  // Only runs whose search attributes have these values (e.g. {"awaiting_approval", true}).
  std::map<std::string, nlohmann::json> search_attributes;
  int limit = 100;                     // most results returned (newest first)
};

struct ClientOptions {
  std::string namespace_name = "default";
  std::string identity = "keel-client";
};

class Client {
 public:
  explicit Client(Frontend& frontend, ClientOptions options = {});

  template <typename... Args>
  WorkflowRun StartWorkflow(const std::string& workflow_type, const StartWorkflowOptions& options,
                            const Args&... args) {
    return StartWorkflowPayloads(workflow_type, options, ToPayloads(args...));
  }
  WorkflowRun StartWorkflowPayloads(const std::string& workflow_type, const StartWorkflowOptions& options,
                                    const Payloads& input);

  // Signals the current run of `workflow_id`. Each call is a new signal (a retried call
  // may deliver it twice); pass SignalOptions::request_id to make a retry deliver it once.
  template <typename... Args>
  void SignalWorkflow(const std::string& workflow_id, const std::string& signal, const Args&... args) {
    SignalPayloads(workflow_id, "", signal, ToPayloads(args...));
  }
  struct SignalOptions {
    std::string run_id;      // empty: the current run
    std::string request_id;  // the same on a retried call: the signal is delivered once
  };
  template <typename... Args>
  void SignalWorkflow(const std::string& workflow_id, const std::string& signal, const SignalOptions& options,
                      const Args&... args) {
    SignalPayloads(workflow_id, options.run_id, signal, ToPayloads(args...), options.request_id);
  }
  void SignalPayloads(const std::string& workflow_id, const std::string& run_id, const std::string& signal,
                      const Payloads& input, const std::string& request_id = "");

  // Signals the running workflow, or starts it (with `args`) and then signals it.
  template <typename... Args>
  WorkflowRun SignalWithStart(const std::string& workflow_type, const StartWorkflowOptions& options,
                              const std::string& signal, const Payloads& signal_input, const Args&... args) {
    return SignalWithStartPayloads(workflow_type, options, signal, signal_input, ToPayloads(args...));
  }
  WorkflowRun SignalWithStartPayloads(const std::string& workflow_type, const StartWorkflowOptions& options,
                                      const std::string& signal, const Payloads& signal_input,
                                      const Payloads& input);

  void CancelWorkflow(const std::string& workflow_id, const std::string& reason = "",
                      const std::string& run_id = "");
  void TerminateWorkflow(const std::string& workflow_id, const std::string& reason = "",
                         const std::string& run_id = "");
  WorkflowDescription DescribeWorkflow(const std::string& workflow_id, const std::string& run_id = "");
  std::vector<WorkflowSummary> ListWorkflows(const ListOptions& options = {});
  // The whole history (export it with History::ToJson / WriteJsonFile).
  History GetHistory(const std::string& workflow_id, const std::string& run_id = "");

  // Waits for the workflow to close and returns its result; throws WorkflowFailedError
  // when it failed, was cancelled, terminated or timed out.
  template <typename R = void>
  R GetResult(const std::string& workflow_id, const std::string& run_id = "") {
    return ResultAs<R>(workflow_id, GetResultPayloads(workflow_id, run_id));
  }
  Payloads GetResultPayloads(const std::string& workflow_id, const std::string& run_id = "");

  // StartWorkflow and GetResult in one call (one round trip to keeld instead of two):
  // starts the workflow, or finds the run an earlier start with the same request id
  // made, waits for it to close and returns its result, throwing as GetResult does.
  template <typename R = void, typename... Args>
  R ExecuteWorkflow(const std::string& workflow_type, const StartWorkflowOptions& options,
                    const Args&... args) {
    return ResultAs<R>(options.id, ExecuteWorkflowPayloads(workflow_type, options, ToPayloads(args...)));
  }
  Payloads ExecuteWorkflowPayloads(const std::string& workflow_type, const StartWorkflowOptions& options,
                                   const Payloads& input);

  // Asks the workflow's query handler `name` (ctx.OnQuery) for an answer from its current
  // state; works on closed workflows too. Throws ClientError: INVALID_ARGUMENT for an
  // unknown query (the message lists the known ones), DEADLINE_EXCEEDED when no worker
  // answered.
  template <typename R, typename... Args>
  R Query(const std::string& workflow_id, const std::string& name, const Args&... args) {
    Payloads p = QueryPayloads(workflow_id, "", name, ToPayloads(args...));
    if constexpr (std::is_void_v<R>) {
      return;
    } else {
      if (p.empty()) throw PayloadError("query '" + name + "' returned no value");
      return FromPayload<R>(p.front());
    }
  }
  Payloads QueryPayloads(const std::string& workflow_id, const std::string& run_id, const std::string& name,
                         const Payloads& args);

  Frontend& frontend() { return frontend_; }

 private:
  template <typename R>
  static R ResultAs(const std::string& workflow_id, const Payloads& p) {
    if constexpr (std::is_void_v<R>) {
      return;
    } else {
      if (p.empty()) throw PayloadError("workflow '" + workflow_id + "' returned no value");
      return FromPayload<R>(p.front());
    }
  }
  // The result in `resp`, or nullopt while the run is still running (the wait ended).
  static std::optional<Payloads> ClosedResult(const std::string& workflow_id,
                                              const v1::GetWorkflowExecutionResultResponse& resp);

  v1::StartWorkflowExecutionRequest StartRequest(const std::string& workflow_type,
                                                 const StartWorkflowOptions& options,
                                                 const Payloads& input) const;

  Frontend& frontend_;
  ClientOptions options_;
};

}  // namespace keel
