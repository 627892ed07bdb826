// Scheduler: resumes one run's coroutines in a fixed, deterministic order. Replay
// depends on this order; never change it.
//
//  1. A workflow task first applies its new events in event-id order. An event that
//     completes an operation makes the coroutines waiting on it ready, in the order they
//     began waiting, and runs the combinator callbacks (WhenAny/WhenAll) registered on
//     it, in registration order. A signal with an OnSignal handler runs the handler right
//     there (handlers should only update state). No coroutine runs during this step.
//     When a WaitUntil's timeout fires, its condition is checked once more first.
//  2. Ready coroutines (and posted functions) then run one at a time, first in
//     first out, each until it next suspends. Whatever becomes ready meanwhile joins the
//     back of the queue.
//  3. When the queue is empty, WaitUntil conditions are checked in the order they were
//     registered; those that hold complete (back to step 2). When none does, the task
//     ends and its commands are the ones produced during steps 1-3, in order.
//
// Single-threaded: used only by the thread running the workflow task.
#pragma once

#include <coroutine>
#include <deque>
#include <functional>
#include <variant>

#include "engine/future.h"

namespace keel::internal {

class Scheduler final : public Executor {
 public:
  void Schedule(std::coroutine_handle<> h) override { ready_.emplace_back(h); }
  // Runs `fn` in its turn, like a coroutine that became ready now.
  void Post(std::function<void()> fn) { ready_.emplace_back(std::move(fn)); }
  // Runs until nothing is ready. Exceptions from posted functions propagate.
  void RunUntilIdle();
  void Clear() { ready_.clear(); }

 private:
  std::deque<std::variant<std::coroutine_handle<>, std::function<void()>>> ready_;
};

}  // namespace keel::internal
