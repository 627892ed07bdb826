// Task<T>: the coroutine type of workflow code. Lazy (starts when awaited), move-only,
// [[nodiscard]], with symmetric transfer to the awaiting coroutine; holds a value or an
// exception. Not thread-safe by design: only the workflow's scheduler resumes it, on one
// thread. Workflow functions take their arguments by value (a lazy coroutine would
// otherwise keep references to temporaries).
#pragma once

#include <coroutine>
#include <exception>
#include <utility>
#include <variant>

namespace keel {

template <typename T>
class Task;

namespace internal {

template <typename T>
struct TaskResult {
  std::variant<std::monostate, T, std::exception_ptr> v;
  template <typename U>
  void return_value(U&& value) {
    v.template emplace<1>(std::forward<U>(value));
  }
  T Take() {
    if (v.index() == 2) std::rethrow_exception(std::get<2>(v));
    return std::move(std::get<1>(v));
  }
  void SetError(std::exception_ptr e) { v.template emplace<2>(std::move(e)); }
};

template <>
struct TaskResult<void> {
  std::exception_ptr error;
  void return_void() {}
  void Take() {
    if (error) std::rethrow_exception(error);
  }
  void SetError(std::exception_ptr e) { error = std::move(e); }
};

template <typename T>
struct TaskPromise : TaskResult<T> {
  std::coroutine_handle<> continuation;

  Task<T> get_return_object() noexcept;
  std::suspend_always initial_suspend() noexcept { return {}; }
  struct FinalAwaiter {
    bool await_ready() noexcept { return false; }
    std::coroutine_handle<> await_suspend(std::coroutine_handle<TaskPromise> h) noexcept {
      auto next = h.promise().continuation;
      return next ? next : std::noop_coroutine();
    }
    void await_resume() noexcept {}
  };
  FinalAwaiter final_suspend() noexcept { return {}; }
  void unhandled_exception() noexcept { this->SetError(std::current_exception()); }
};

}  // namespace internal

template <typename T = void>
class [[nodiscard]] Task {
 public:
  using promise_type = internal::TaskPromise<T>;
  using Handle = std::coroutine_handle<promise_type>;

  Task() = default;
  explicit Task(Handle h) noexcept : h_(h) {}
  Task(Task&& other) noexcept : h_(std::exchange(other.h_, {})) {}
  Task& operator=(Task&& other) noexcept {
    if (this != &other) {
      if (h_) h_.destroy();
      h_ = std::exchange(other.h_, {});
    }
    return *this;
  }
  Task(const Task&) = delete;
  Task& operator=(const Task&) = delete;
  ~Task() {
    if (h_) h_.destroy();
  }

  struct Awaiter {
    Handle h;
    bool await_ready() const noexcept { return !h || h.done(); }
    std::coroutine_handle<> await_suspend(std::coroutine_handle<> awaiting) noexcept {
      h.promise().continuation = awaiting;
      return h;  // symmetric transfer: start the task now
    }
    T await_resume() { return h.promise().Take(); }
  };
  Awaiter operator co_await() & noexcept { return Awaiter{h_}; }
  Awaiter operator co_await() && noexcept { return Awaiter{h_}; }

  // For the runtime, which drives root tasks directly.
  bool valid() const { return static_cast<bool>(h_); }
  bool done() const { return !h_ || h_.done(); }
  Handle handle() const { return h_; }
  T TakeResult() { return h_.promise().Take(); }

 private:
  Handle h_;
};

namespace internal {
template <typename T>
Task<T> TaskPromise<T>::get_return_object() noexcept {
  return Task<T>(std::coroutine_handle<TaskPromise<T>>::from_promise(*this));
}
}  // namespace internal

}  // namespace keel
