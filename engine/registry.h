// Registry: the workflow and activity implementations a worker (or a replayer) knows,
// by type name. Typed registration converts arguments and results through payloads
// (nlohmann_json ADL). Fill it before starting a worker; then it is read-only and safe
// to share between threads.
#pragma once

#include <functional>
#include <map>
#include <stdexcept>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "engine/activity.h"
#include "engine/fn_traits.h"
#include "engine/payload.h"
#include "engine/task.h"
#include "engine/workflow.h"

namespace keel {

namespace internal {

using WorkflowFn = std::function<Task<Payloads>(WorkflowContext&, Payloads)>;
using ActivityFn = std::function<Payloads(ActivityContext&, const Payloads&)>;

inline void CheckArgCount(const char* kind, const std::string& name, size_t want, size_t got) {
  if (want != got) {
    throw PayloadError(std::string(kind) + " '" + name + "' takes " + std::to_string(want) +
                       " argument(s) but was given " + std::to_string(got));
  }
}

template <typename R, typename... Args, size_t... I>
Task<Payloads> InvokeWorkflow(Task<R> (*fn)(WorkflowContext&, Args...), std::string name,
                              WorkflowContext& ctx, Payloads input, std::index_sequence<I...>) {
  CheckArgCount("workflow", name, sizeof...(Args), input.size());
  if constexpr (std::is_void_v<R>) {
    co_await fn(ctx, FromPayload<std::decay_t<Args>>(input[I])...);
    co_return Payloads{};
  } else {
    R result = co_await fn(ctx, FromPayload<std::decay_t<Args>>(input[I])...);
    co_return Payloads{ToPayload(result)};
  }
}

template <typename Tuple>
constexpr bool kTakesContext = [] {
  if constexpr (std::tuple_size_v<Tuple> == 0) {
    return false;
  } else {
    return std::is_same_v<std::tuple_element_t<0, Tuple>, ActivityContext&>;
  }
}();

template <typename F, typename Tuple, size_t Offset, size_t... I>
Payloads CallActivity(F& fn, const std::string& name, ActivityContext& ctx, const Payloads& in,
                      std::index_sequence<I...>) {
  using R = typename FnTraits<F>::Result;
  CheckArgCount("activity", name, sizeof...(I), in.size());
  auto call = [&] {
    if constexpr (Offset == 1) {
      return fn(ctx, FromPayload<std::decay_t<std::tuple_element_t<I + 1, Tuple>>>(in[I])...);
    } else {
      return fn(FromPayload<std::decay_t<std::tuple_element_t<I, Tuple>>>(in[I])...);
    }
  };
  if constexpr (std::is_void_v<R>) {
    call();
    return {};
  } else {
    return Payloads{ToPayload(call())};
  }
}

}  // namespace internal

class Registry {
 public:
  // `fn` is `keel::Task<R> F(keel::WorkflowContext&, Args...)` with Args by value.
  template <typename R, typename... Args>
  Registry& RegisterWorkflow(const std::string& name, Task<R> (*fn)(WorkflowContext&, Args...)) {
    static_assert((!std::is_reference_v<Args> && ...),
                  "workflow arguments must be taken by value (the coroutine outlives the caller)");
    AddWorkflow(name, [fn, name](WorkflowContext& ctx, Payloads input) {
      return internal::InvokeWorkflow(fn, name, ctx, std::move(input),
                                      std::index_sequence_for<Args...>{});
    });
    return *this;
  }

  // `fn` is any callable `R(Args...)` or `R(keel::ActivityContext&, Args...)`; it may
  // capture state (a connection, a ledger path) and is called from several threads.
  template <typename F>
  Registry& RegisterActivity(const std::string& name, F fn) {
    using Args = typename internal::FnTraits<F>::Args;
    constexpr size_t kOffset = internal::kTakesContext<Args> ? 1 : 0;
    constexpr size_t kCount = std::tuple_size_v<Args> - kOffset;
    AddActivity(name, [fn = std::move(fn), name](ActivityContext& ctx, const Payloads& in) mutable {
      return internal::CallActivity<F, Args, kOffset>(fn, name, ctx, in,
                                                      std::make_index_sequence<kCount>{});
    });
    return *this;
  }

  const internal::WorkflowFn* FindWorkflow(const std::string& name) const;
  const internal::ActivityFn* FindActivity(const std::string& name) const;
  std::vector<std::string> WorkflowTypes() const;
  std::vector<std::string> ActivityTypes() const;

 private:
  void AddWorkflow(const std::string& name, internal::WorkflowFn fn);
  void AddActivity(const std::string& name, internal::ActivityFn fn);

  std::map<std::string, internal::WorkflowFn> workflows_;
  std::map<std::string, internal::ActivityFn> activities_;
};

}  // namespace keel
