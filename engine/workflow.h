// WorkflowContext: everything workflow code may do. Workflow code is a deterministic
// coroutine `keel::Task<R> F(keel::WorkflowContext& ctx, Args... args)`: it must not
// read the clock, use threads or randomness, or do I/O itself — it asks the context
// (activities for side effects, Sleep for waiting, Now/Random/Uuid/SideEffect for
// values that must not change on replay). On replay every call returns what it returned
// the first time. One context per run; used only on the run's scheduler thread.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>

#include <spdlog/logger.h>

#include "engine/activity.h"
#include "engine/clock.h"
#include "engine/errors.h"
#include "engine/future.h"
#include "engine/payload.h"
#include "engine/task.h"

namespace keel {

namespace internal {
class RunDriver;
}

struct WorkflowInfo {
  std::string namespace_name;
  std::string workflow_id;
  std::string run_id;
  std::string workflow_type;
  std::string task_queue;
  int attempt = 1;
  Time start_time;
};

class WorkflowContext {
 public:
  explicit WorkflowContext(internal::RunDriver& driver) : driver_(driver) {}
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

 private:
  internal::Executor* executor();
  void StartActivity(const std::string& type, const ActivityOptions& options, Payloads input,
                     std::shared_ptr<internal::PayloadSink> sink);
  void WaitSignalRaw(const std::string& name, std::shared_ptr<internal::PayloadSink> sink);
  void OnSignalRaw(const std::string& name, std::function<void(const Payloads&)> handler);
  Payloads SideEffectRaw(const std::function<Payloads()>& fn);

  internal::RunDriver& driver_;
};

}  // namespace keel
