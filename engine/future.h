// Future<T>: the outcome of a durable operation started by workflow code (an activity,
// a timer, a signal wait). The operation's command is issued when the Future is created;
// `co_await` waits for the outcome. Futures are cheap shared handles and can be awaited
// more than once. WhenAny / WhenAll combine them; WhenAny cancels the losers (a timer
// gets CancelTimer, an activity RequestCancelActivity). Single-threaded, like all
// workflow code: only the workflow's scheduler touches them.
#pragma once

#include <coroutine>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <tuple>
#include <type_traits>
#include <variant>
#include <vector>

#include "engine/payload.h"

namespace keel {

namespace internal {

// Resumes coroutines in the workflow's deterministic order (see runtime/scheduler.h).
class Executor {
 public:
  virtual ~Executor() = default;
  virtual void Schedule(std::coroutine_handle<> h) = 0;
};

class FutureStateBase {
 public:
  explicit FutureStateBase(Executor* executor) : executor_(executor) {}
  virtual ~FutureStateBase() = default;
  FutureStateBase(const FutureStateBase&) = delete;
  FutureStateBase& operator=(const FutureStateBase&) = delete;

  bool ready() const { return ready_; }
  bool failed() const { return error_ != nullptr; }
  const std::exception_ptr& error() const { return error_; }
  Executor* executor() const { return executor_; }

  void AddWaiter(std::coroutine_handle<> h) { waiters_.push_back(h); }
  // Runs `cb` when the outcome is known (at once if it is).
  void OnReady(std::function<void()> cb) {
    if (ready_) {
      cb();
    } else {
      callbacks_.push_back(std::move(cb));
    }
  }
  // How to cancel the operation; set by the operation's state machine.
  void SetCanceler(std::function<void()> c) { canceler_ = std::move(c); }
  // Asks the operation to stop; a no-op once the outcome is known.
  void Cancel() {
    if (ready_ || !canceler_) return;
    auto c = std::move(canceler_);
    canceler_ = nullptr;
    c();
  }
  void Reject(std::exception_ptr e) {
    if (ready_) return;
    error_ = std::move(e);
    MarkReady();
  }
  // The run is going away without an outcome: drop every waiter and callback (they may
  // hold references back to this state).
  void Abandon() {
    waiters_.clear();
    callbacks_.clear();
    canceler_ = nullptr;
  }

 protected:
  void MarkReady() {
    ready_ = true;
    canceler_ = nullptr;
    for (auto h : waiters_) executor_->Schedule(h);
    waiters_.clear();
    auto callbacks = std::move(callbacks_);
    callbacks_.clear();
    for (auto& cb : callbacks) cb();
  }
  void RethrowIfFailed() const {
    if (error_) std::rethrow_exception(error_);
  }

 private:
  Executor* executor_;
  bool ready_ = false;
  std::exception_ptr error_;
  std::vector<std::coroutine_handle<>> waiters_;
  std::vector<std::function<void()>> callbacks_;
  std::function<void()> canceler_;
};

template <typename T>
class FutureState : public FutureStateBase {
 public:
  using FutureStateBase::FutureStateBase;
  void Resolve(T value) {
    if (ready()) return;
    value_.emplace(std::move(value));
    MarkReady();
  }
  T Get() const {
    RethrowIfFailed();
    return *value_;
  }

 private:
  std::optional<T> value_;
};

template <>
class FutureState<void> : public FutureStateBase {
 public:
  using FutureStateBase::FutureStateBase;
  void Resolve() {
    if (ready()) return;
    MarkReady();
  }
  void Get() const { RethrowIfFailed(); }
};

// Receives an operation's encoded outcome; decodes it into a typed future.
class PayloadSink {
 public:
  virtual ~PayloadSink() = default;
  virtual void SetPayloads(const Payloads& p) = 0;
  virtual void SetError(std::exception_ptr e) = 0;
  virtual FutureStateBase& state() = 0;
};

template <typename T>
class DecodingSink final : public PayloadSink {
 public:
  explicit DecodingSink(std::shared_ptr<FutureState<T>> f) : f_(std::move(f)) {}
  void SetPayloads(const Payloads& p) override {
    if constexpr (std::is_void_v<T>) {
      f_->Resolve();
    } else {
      try {
        if (p.empty()) throw PayloadError("expected a value but the result is empty");
        f_->Resolve(FromPayload<T>(p[0]));
      } catch (...) {
        f_->Reject(std::current_exception());
      }
    }
  }
  void SetError(std::exception_ptr e) override { f_->Reject(std::move(e)); }
  FutureStateBase& state() override { return *f_; }

 private:
  std::shared_ptr<FutureState<T>> f_;
};

template <typename T>
using ValueOf = std::conditional_t<std::is_void_v<T>, std::monostate, T>;

}  // namespace internal

template <typename T>
class [[nodiscard]] Future {
 public:
  Future() = default;
  explicit Future(std::shared_ptr<internal::FutureState<T>> state) : state_(std::move(state)) {}

  bool IsReady() const { return state_->ready(); }
  // Requests cancellation of the operation; awaiting it then throws CanceledError (or an
  // ActivityFailure caused by one). A no-op once the outcome is known.
  void Cancel() { state_->Cancel(); }

  bool await_ready() const { return state_->ready(); }
  void await_suspend(std::coroutine_handle<> h) { state_->AddWaiter(h); }
  T await_resume() const { return state_->Get(); }

  const std::shared_ptr<internal::FutureState<T>>& state() const { return state_; }

 private:
  std::shared_ptr<internal::FutureState<T>> state_;
};

namespace internal {

template <typename T>
ValueOf<T> ValueFrom(const FutureState<T>& s) {
  if constexpr (std::is_void_v<T>) {
    s.Get();
    return {};
  } else {
    return s.Get();
  }
}

template <typename V, size_t I, typename T>
void WatchAny(const std::shared_ptr<FutureState<V>>& out, const Future<T>& f,
              const std::shared_ptr<std::vector<std::weak_ptr<FutureStateBase>>>& all) {
  std::weak_ptr<FutureState<T>> weak = f.state();
  f.state()->OnReady([out, weak, all] {
    auto st = weak.lock();
    if (!st || out->ready()) return;
    if (st->failed()) {
      out->Reject(st->error());
    } else {
      out->Resolve(V(std::in_place_index<I>, ValueFrom(*st)));
    }
    for (auto& w : *all) {
      if (auto other = w.lock()) other->Cancel();
    }
  });
}

template <typename... Ts, size_t... I>
auto WhenAnyImpl(std::index_sequence<I...>, const Future<Ts>&... fs) {
  using V = std::variant<ValueOf<Ts>...>;
  Executor* ex = std::get<0>(std::forward_as_tuple(fs...)).state()->executor();
  auto out = std::make_shared<FutureState<V>>(ex);
  auto all = std::make_shared<std::vector<std::weak_ptr<FutureStateBase>>>();
  (all->push_back(fs.state()), ...);
  (WatchAny<V, I>(out, fs, all), ...);
  return Future<V>(out);
}

}  // namespace internal

// The first of `fs` to finish: its index in the variant says which one (void operations
// give std::monostate). The others are cancelled. If the first one failed, awaiting the
// result throws its error.
template <typename... Ts>
Future<std::variant<internal::ValueOf<Ts>...>> WhenAny(const Future<Ts>&... fs) {
  static_assert(sizeof...(Ts) > 0, "WhenAny needs at least one future");
  return internal::WhenAnyImpl(std::index_sequence_for<Ts...>{}, fs...);
}

// The index of the first of `fs` to finish; the others are cancelled.
template <typename T>
Future<size_t> WhenAny(const std::vector<Future<T>>& fs) {
  internal::Executor* ex = fs.empty() ? nullptr : fs.front().state()->executor();
  auto out = std::make_shared<internal::FutureState<size_t>>(ex);
  auto all = std::make_shared<std::vector<std::weak_ptr<internal::FutureStateBase>>>();
  for (const auto& f : fs) all->push_back(f.state());
  for (size_t i = 0; i < fs.size(); ++i) {
    std::weak_ptr<internal::FutureState<T>> weak = fs[i].state();
    fs[i].state()->OnReady([out, weak, all, i] {
      auto st = weak.lock();
      if (!st || out->ready()) return;
      if (st->failed()) {
        out->Reject(st->error());
      } else {
        out->Resolve(i);
      }
      for (auto& w : *all) {
        if (auto other = w.lock()) other->Cancel();
      }
    });
  }
  return Future<size_t>(out);
}

// Every one of `fs`, in order (void operations give std::monostate). Fails with the
// first failure as soon as one fails.
template <typename... Ts>
Future<std::tuple<internal::ValueOf<Ts>...>> WhenAll(const Future<Ts>&... fs) {
  using Tuple = std::tuple<internal::ValueOf<Ts>...>;
  internal::Executor* ex = std::get<0>(std::forward_as_tuple(fs...)).state()->executor();
  auto out = std::make_shared<internal::FutureState<Tuple>>(ex);
  auto states = std::make_shared<std::tuple<std::shared_ptr<internal::FutureState<Ts>>...>>(fs.state()...);
  auto remaining = std::make_shared<size_t>(sizeof...(Ts));
  auto on_ready = [out, states, remaining](internal::FutureStateBase* st) {
    if (out->ready()) return;
    if (st->failed()) {
      out->Reject(st->error());
      // The others' callbacks hold `states`, which holds them: break the cycle.
      std::apply([](auto&... s) { (s.reset(), ...); }, *states);
      return;
    }
    if (--*remaining == 0) {
      out->Resolve(std::apply([](const auto&... s) { return Tuple(internal::ValueFrom(*s)...); }, *states));
    }
  };
  (fs.state()->OnReady([on_ready, raw = fs.state().get()] { on_ready(raw); }), ...);
  return Future<Tuple>(out);
}

// Every one of `fs`, in order; fails with the first failure.
template <typename T>
auto WhenAll(const std::vector<Future<T>>& fs) {
  constexpr bool kVoid = std::is_void_v<T>;
  using Out = std::conditional_t<kVoid, void, std::vector<internal::ValueOf<T>>>;
  internal::Executor* ex = fs.empty() ? nullptr : fs.front().state()->executor();
  auto out = std::make_shared<internal::FutureState<Out>>(ex);
  auto remaining = std::make_shared<size_t>(fs.size());
  auto states = std::make_shared<std::vector<std::shared_ptr<internal::FutureState<T>>>>();
  for (const auto& f : fs) states->push_back(f.state());
  auto finish = [out, states] {
    if constexpr (kVoid) {
      out->Resolve();
    } else {
      std::vector<T> values;
      values.reserve(states->size());
      for (const auto& s : *states) values.push_back(s->Get());
      out->Resolve(std::move(values));
    }
  };
  if (fs.empty()) finish();
  for (const auto& f : fs) {
    f.state()->OnReady([out, remaining, finish, states, raw = f.state().get()] {
      if (out->ready()) return;
      if (raw->failed()) {
        out->Reject(raw->error());
        // The others' callbacks hold `states`, which holds them: break the cycle.
        states->clear();
        return;
      }
      if (--*remaining == 0) finish();
    });
  }
  return Future<Out>(out);
}

}  // namespace keel
