// internal::RunDriver: signals (buffered per name until WaitSignal, or given to an
// OnSignal handler) and WaitUntil, with and without a timeout.
//
// Histories are written with HistoryBuilder and list their events in a comment; one
// that ends with a WorkflowTaskStarted runs its last task live, and the test checks that
// task's commands (rendered by Describe in driver_harness.h), both with all events fed at
// once and batch by batch.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "engine/future.h"
#include "engine/registry.h"
#include "engine/replayer.h"
#include "engine/testing/history_builder.h"
#include "tests/engine/runtime/driver_harness.h"

namespace keel::runtime_test {
namespace {

using namespace std::chrono_literals;
using keel::testing::HistoryBuilder;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

// Reads signal "b" once and "a" twice.
Task<std::string> ReadSignals(WorkflowContext& ctx) {
  std::string b = co_await ctx.WaitSignal<std::string>("b");
  std::string a1 = co_await ctx.WaitSignal<std::string>("a");
  std::string a2 = co_await ctx.WaitSignal<std::string>("a");
  co_return b + a1 + a2;
}

// Sums three "add" signals through a handler.
Task<int> SumSignals(WorkflowContext& ctx) {
  int sum = 0;
  int count = 0;
  ctx.OnSignal<int>("add", [&sum, &count](int v) {
    sum += v;
    ++count;
  });
  co_await ctx.WaitUntil([&count] { return count == 3; });
  co_return sum;
}

// A handler and a WaitSignal for the same name: the handler gets it.
Task<std::string> HandlerAndWait(WorkflowContext& ctx) {
  std::string seen;
  ctx.OnSignal<std::string>("x", [&seen](std::string s) { seen += s; });
  auto wait = ctx.WaitSignal<std::string>("x");
  co_await ctx.WaitUntil([&seen] { return !seen.empty(); });
  co_return seen + (wait.IsReady() ? ", the wait got it too" : ", the wait is still pending");
}

// Waits up to 1 h for signal "open" (through a handler). Input: open from the start.
Task<std::string> WaitWithTimeout(WorkflowContext& ctx, bool open_at_once) {
  bool open = open_at_once;
  // (OnSignal<void> does not compile: std::function<void(T)> with T = void.)
  ctx.OnSignal<bool>("open", [&open](bool v) { open = v; });
  const bool ok = co_await ctx.WaitUntil([&open] { return open; }, 1h);
  co_return ok ? "condition" : "timeout";
}

const Registry& Workflows() {
  static const Registry* r = [] {
    auto* r = new Registry;
    r->RegisterWorkflow("read_signals", ReadSignals)
        .RegisterWorkflow("sum_signals", SumSignals)
        .RegisterWorkflow("handler_and_wait", HandlerAndWait)
        .RegisterWorkflow("wait_with_timeout", WaitWithTimeout);
    return r;
  }();
  return *r;
}

// Drives `h` both ways and expects the same commands of the live task.
void ExpectCommands(const History& h, const std::vector<std::string>& want) {
  ExpectLiveCommands(Workflows(), h, want);
}

// ---------------------------------------------------------------------------------------
// Signals and WaitUntil

TEST(RunDriverSignalsTest, SignalsAreBufferedPerNameUntilWaitSignal) {
  // 1 Started | 2 Signaled a "1" | 3 Signaled b "2" | 4 Signaled a "3" | 5-6 live
  HistoryBuilder b("read_signals");
  b.Started().Signaled("a", Str("1")).Signaled("b", Str("2")).Signaled("a", Str("3"));
  ExpectCommands(Live(b), {Done("213")});
  // 1 Started | 2 Signaled a "1" | 3-5 WorkflowTask (waits for b) | 6 Signaled a "3"
  // 7 Signaled b "2" | 8-9 live
  HistoryBuilder c("read_signals");
  c.Started()
      .Signaled("a", Str("1"))
      .WorkflowTask()
      .Signaled("a", Str("3"))
      .Signaled("b", Str("2"));
  ExpectCommands(Live(c), {Done("213")});
}

TEST(RunDriverSignalsTest, OnSignalHandlerGetsBufferedAndLaterSignals) {
  // 1 Started | 2 Signaled add 1 (before the handler exists) | 3-5 WorkflowTask
  // 6 Signaled add 2 | 7 Signaled add 4 | 8-9 live
  HistoryBuilder b("sum_signals");
  b.Started().Signaled("add", {ToPayload(1)}).WorkflowTask();
  b.Signaled("add", {ToPayload(2)}).Signaled("add", {ToPayload(4)});
  ExpectCommands(Live(b), {DoneJson("7")});
}

TEST(RunDriverSignalsTest, OnSignalHandlerTakesTheSignalInsteadOfWaitSignal) {
  // 1 Started | 2-4 WorkflowTask | 5 Signaled x "v" | 6-7 live
  HistoryBuilder b("handler_and_wait");
  b.Started().WorkflowTask().Signaled("x", Str("v"));
  ExpectCommands(Live(b), {Done("v, the wait is still pending")});
}

TEST(RunDriverSignalsTest, WaitUntilWithTimeoutTrueAtOnceStartsNoTimer) {
  HistoryBuilder b("wait_with_timeout");
  b.Started({ToPayload(true)});
  ExpectCommands(Live(b), {Done("condition")});
}

TEST(RunDriverSignalsTest, WaitUntilWithTimeoutTimesOut) {
  // 1 Started | 2-4 WorkflowTask | 5 TimerStarted 1 | 6 TimerFired 1 | 7-8 live
  HistoryBuilder b("wait_with_timeout");
  b.Started({ToPayload(false)});
  ExpectCommands(Live(b), {"StartTimer 1"});
  b.WorkflowTaskCompleted().TimerStarted("1", 1h).TimerFired("1");
  ExpectCommands(Live(b), {Done("timeout")});
}

TEST(RunDriverSignalsTest, WaitUntilWithTimeoutHoldsAndCancelsItsTimer) {
  // 1 Started | 2-4 WorkflowTask | 5 TimerStarted 1 | 6 Signaled open | 7-8 live
  HistoryBuilder b("wait_with_timeout");
  b.Started({ToPayload(false)})
      .WorkflowTask()
      .TimerStarted("1", 1h)
      .Signaled("open", {ToPayload(true)});
  ExpectCommands(Live(b), {"CancelTimer 1", Done("condition")});
}

TEST(RunDriverSignalsTest, WaitUntilThatHoldsInTheSameTaskDropsItsUnsentTimer) {
  // 1 Started | 2 Signaled open | 3-4 live: the handler runs after WaitUntil started its
  // timer, in the same task, so the StartTimer is never sent.
  HistoryBuilder b("wait_with_timeout");
  b.Started({ToPayload(false)}).Signaled("open", {ToPayload(true)});
  ExpectCommands(Live(b), {Done("condition")});
}

TEST(RunDriverSignalsTest, WaitUntilSignalBeforeItsTimeoutInTheSameBatchWins) {
  // scheduler.h: handlers run as their event is applied, and a firing timeout checks the
  // condition once more. 5 TimerStarted 1 | 6 Signaled open | 7 TimerFired 1
  HistoryBuilder b("wait_with_timeout");
  b.Started({ToPayload(false)})
      .WorkflowTask()
      .TimerStarted("1", 1h)
      .Signaled("open", {ToPayload(true)})
      .TimerFired("1");
  ExpectCommands(Live(b), {Done("condition")});
}

TEST(RunDriverSignalsTest, WaitUntilTimeoutBeforeTheSignalInTheSameBatchWins) {
  // 5 TimerStarted 1 | 6 TimerFired 1 | 7 Signaled open
  HistoryBuilder b("wait_with_timeout");
  b.Started({ToPayload(false)})
      .WorkflowTask()
      .TimerStarted("1", 1h)
      .TimerFired("1")
      .Signaled("open", {ToPayload(true)});
  ExpectCommands(Live(b), {Done("timeout")});
}

}  // namespace
}  // namespace keel::runtime_test
