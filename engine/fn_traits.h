// FnTraits: the result and argument types of a callable (function, function pointer,
// lambda), so typed registration (activities, query handlers) can decode arguments from
// payloads. Internal helper of registry.h and workflow.h.
#pragma once

#include <tuple>

namespace keel::internal {

template <typename F>
struct FnTraits : FnTraits<decltype(&F::operator())> {};
template <typename C, typename R, typename... A>
struct FnTraits<R (C::*)(A...) const> {
  using Result = R;
  using Args = std::tuple<A...>;
};
template <typename C, typename R, typename... A>
struct FnTraits<R (C::*)(A...)> : FnTraits<R (C::*)(A...) const> {};
template <typename R, typename... A>
struct FnTraits<R (*)(A...)> {
  using Result = R;
  using Args = std::tuple<A...>;
};
template <typename R, typename... A>
struct FnTraits<R(A...)> : FnTraits<R (*)(A...)> {};

}  // namespace keel::internal
