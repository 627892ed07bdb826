// WorkflowContext: everything workflow code may do. Workflow code is a deterministic
// coroutine `keel::Task<R> F(keel::WorkflowContext& ctx, Args... args)`: it must not
// read the clock, use threads or randomness, or do I/O itself — it asks the context
// (activities for side effects, Sleep for waiting, Now/Random/Uuid/SideEffect for
// values that must not change on replay). On replay every call returns what it returned
// the first time. One context per run; used only on the run's scheduler thread.
#pragma once

#include <functional>
#include <map>
#include <tuple>
#include <utility>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>

#include <spdlog/logger.h>

#include "engine/activity.h"
#include "engine/child_workflow.h"
#include "engine/clock.h"
#include "engine/errors.h"
#include "engine/fn_traits.h"
#include "engine/future.h"
#include "engine/payload.h"
#include "engine/task.h"

namespace keel {

namespace internal {
class RunDriver;

// Thrown by WorkflowContext::ContinueAsNew; the runtime turns it into the command. Not a
// keel::Error, so `catch (const keel::Error&)` does not swallow it (`catch (...)` would).
struct ContinueAsNewRequest {
  ContinueAsNewOptions options;
  Payloads input;
};
}  // namespace internal

struct WorkflowInfo {
  std::string namespace_name;
  std::string workflow_id;
  std::string run_id;
  std::string workflow_type;
  std::string task_queue;
  int attempt = 1;
  Time start_time;
  std::string continued_from_run_id;  // the run this one continues, if any
  std::string first_run_id;           // the first run of the continue-as-new chain
  std::string parent_workflow_id;     // set for a child workflow
  std::string parent_run_id;
};

class WorkflowContext {
 public:
  WorkflowContext(internal::RunDriver& driver, bool disconnected = false)
      : driver_(driver), disconnected_(disconnected) {}
  WorkflowContext(const WorkflowContext&) = delete;
  WorkflowContext& operator=(const WorkflowContext&) = delete;

  const WorkflowInfo& Info() const;

  // The time of the current workflow task (from the history; never goes backwards).
  Time Now() const;
  // Deterministic randomness, seeded from the run id.
  uint64_t Random();
  std::string Uuid();
  // True while the code re-runs recorded history (after a restart or cache eviction).
  bool IsReplaying() const;
  // A logger that is silent while replaying, so each line is logged once.
  spdlog::logger& Logger();
  // True once someone asked to cancel this workflow; awaits then throw CanceledError.
  bool IsCancelRequested() const;

  // A context whose operations are not cancelled when the workflow is: for cleanup and
  // compensation after a cancel request (the "disconnected context" of other SDKs).
  WorkflowContext& Disconnected();

  // Schedules activity `type` with `args`; the Future yields its result (R) or throws
  // ActivityFailure once retries are exhausted.
  template <typename R = void, typename... Args>
  Future<R> ExecuteActivity(const std::string& type, const ActivityOptions& options,
                            const Args&... args) {
    auto state = std::make_shared<internal::FutureState<R>>(executor());
    StartActivity(type, options, ToPayloads(args...),
                  std::make_shared<internal::DecodingSink<R>>(state));
    return Future<R>(state);
  }

  // Starts child workflow `type`; the Future yields its result or throws
  // ChildWorkflowFailure. Cancel() asks the child to cancel and waits for its outcome.
  template <typename R = void, typename... Args>
  Future<R> ExecuteChildWorkflow(const std::string& type, const ChildWorkflowOptions& options,
                                 const Args&... args) {
    auto state = std::make_shared<internal::FutureState<R>>(executor());
    StartChild(type, options, ToPayloads(args...), std::make_shared<internal::DecodingSink<R>>(state));
    return Future<R>(state);
  }

  // Sends signal `name` to another workflow (its current run when run_id is empty). The
  // Future fails with ApplicationError("ExternalWorkflowNotFound") when it is not running.
  template <typename... Args>
  Future<void> SignalExternalWorkflow(const std::string& workflow_id, const std::string& run_id,
                                      const std::string& name, const Args&... args) {
    return SignalExternalRaw(workflow_id, run_id, name, ToPayloads(args...));
  }
  // Asks another workflow to cancel.
  Future<void> RequestCancelExternalWorkflow(const std::string& workflow_id, const std::string& run_id = "");

  // Ends this run and starts a new run of the same workflow id with `args`, atomically:
  // the way to loop for months without an ever-growing history. Does not return.
  template <typename... Args>
  [[noreturn]] void ContinueAsNew(const Args&... args) {
    throw internal::ContinueAsNewRequest{ContinueAsNewOptions{}, ToPayloads(args...)};
  }
  template <typename... Args>
  [[noreturn]] void ContinueAsNewWith(const ContinueAsNewOptions& options, const Args&... args) {
    throw internal::ContinueAsNewRequest{options, ToPayloads(args...)};
  }

  // A durable timer: survives restarts; seconds to years.
  Future<void> Sleep(Duration duration);

  // The next signal `name` (signals are buffered per name until consumed). T = void for
  // a signal without input.
  template <typename T = void>
  Future<T> WaitSignal(const std::string& name) {
    auto state = std::make_shared<internal::FutureState<T>>(executor());
    WaitSignalRaw(name, std::make_shared<internal::DecodingSink<T>>(state));
    return Future<T>(state);
  }

  // Calls `handler` for every signal `name` (and those already buffered), instead of
  // buffering it for WaitSignal. Handlers run as the signal's event is applied, in event
  // order: they should only update workflow state, not start operations.
  template <typename T>
  void OnSignal(const std::string& name, std::function<void(T)> handler) {
    OnSignalRaw(name, [name, handler = std::move(handler)](const Payloads& p) {
      if (p.empty()) throw PayloadError("signal '" + name + "' has no input");
      handler(FromPayload<T>(p.front()));
    });
  }
  // For signals without input.
  void OnSignal(const std::string& name, std::function<void()> handler) {
    OnSignalRaw(name, [handler = std::move(handler)](const Payloads&) { handler(); });
  }

  // Answers query `name` with `handler(args...)` from the workflow's current state. A
  // handler must only read state: it runs outside the workflow's own progress and may
  // run on a replayed copy; an operation started in it is an error.
  template <typename F>
  void OnQuery(const std::string& name, F handler) {
    using Args = typename internal::FnTraits<F>::Args;
    OnQueryRaw(name, [name, handler = std::move(handler)](const Payloads& in) -> Payloads {
      return CallQuery<Args>(handler, name, in, std::make_index_sequence<std::tuple_size_v<Args>>{});
    });
  }

  // Resolves once `condition()` is true; re-checked after every change of state.
  Future<void> WaitUntil(std::function<bool()> condition);
  // Same with a durable timeout: yields true when the condition held, false on timeout.
  Future<bool> WaitUntil(std::function<bool()> condition, Duration timeout);

  // Runs `fn` once and records its result; on replay returns the recorded result
  // without running it. For small non-deterministic values (an id, a reading).
  template <typename F>
  auto SideEffect(F fn) -> decltype(fn()) {
    using R = decltype(fn());
    Payloads p = SideEffectRaw([&fn] { return Payloads{ToPayload(fn())}; });
    if (p.empty()) throw PayloadError("recorded side effect has no value");
    return FromPayload<R>(p.front());
  }

  // Versioning a running workflow's code: true for runs that reach this point with the
  // new code (recorded as a marker), false while replaying a run recorded before the
  // change. Keep both branches until no run from before the change is left, then switch
  // to DeprecatePatch.
  bool Patched(const std::string& change_id);
  // The second step of retiring a patch: only new-code runs are left, so the old branch
  // is gone; histories with or without the marker both replay.
  void DeprecatePatch(const std::string& change_id);

  // Sets search attributes of this run (listable: client ListOptions::search_attributes).
  void UpsertSearchAttributes(const std::map<std::string, nlohmann::json>& attributes);

 private:
  template <typename Args, typename F, size_t... I>
  static Payloads CallQuery(F& handler, const std::string& name, const Payloads& in, std::index_sequence<I...>) {
    if (in.size() != sizeof...(I)) {
      throw PayloadError("query '" + name + "' takes " + std::to_string(sizeof...(I)) + " argument(s) but got " +
                         std::to_string(in.size()));
    }
    using R = typename internal::FnTraits<F>::Result;
    if constexpr (std::is_void_v<R>) {
      handler(FromPayload<std::decay_t<std::tuple_element_t<I, Args>>>(in[I])...);
      return {};
    } else {
      return Payloads{ToPayload(handler(FromPayload<std::decay_t<std::tuple_element_t<I, Args>>>(in[I])...))};
    }
  }

  internal::Executor* executor();
  void StartActivity(const std::string& type, const ActivityOptions& options, Payloads input,
                     std::shared_ptr<internal::PayloadSink> sink);
  void StartChild(const std::string& type, const ChildWorkflowOptions& options, Payloads input,
                  std::shared_ptr<internal::PayloadSink> sink);
  Future<void> SignalExternalRaw(const std::string& workflow_id, const std::string& run_id, const std::string& name,
                                 Payloads input);
  void WaitSignalRaw(const std::string& name, std::shared_ptr<internal::PayloadSink> sink);
  void OnSignalRaw(const std::string& name, std::function<void(const Payloads&)> handler);
  void OnQueryRaw(const std::string& name, std::function<Payloads(const Payloads&)> handler);
  Payloads SideEffectRaw(const std::function<Payloads()>& fn);

  internal::RunDriver& driver_;
  bool disconnected_;
};

}  // namespace keel
