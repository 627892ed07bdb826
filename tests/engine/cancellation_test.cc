// Cancellation: a cancel request surfaces as CanceledError at the next await; cleanup runs
// through the disconnected context; an activity's cancellation reaches the running attempt
// and, when asked to, the workflow waits for the attempt's outcome.
#include <gtest/gtest.h>

#include <atomic>

#include "engine/testing/test_environment.h"
#include "engine/workflow.h"

namespace keel {
namespace {

using namespace std::chrono_literals;
using testing::TestEnvironment;

ActivityOptions Quick() { return ActivityOptions{.start_to_close = 30s}; }

Task<std::string> HoldsInventory(WorkflowContext& ctx) {
  co_await ctx.ExecuteActivity<void>("reserve", Quick());
  bool canceled = false;
  try {
    co_await ctx.Sleep(72h);  // waiting for shipment
  } catch (const CanceledError&) {
    canceled = true;
  }
  if (canceled) {
    // Operations on ctx would fail at once now; the disconnected context still works.
    co_await ctx.Disconnected().ExecuteActivity<void>("release", Quick());
    throw CanceledError("order canceled; inventory released");
  }
  co_return "shipped";
}

TEST(CancellationTest, CancelDuringASleepRunsTheCompensationActivity) {
  Registry r;
  std::atomic<int> released{0};
  r.RegisterWorkflow("order", HoldsInventory);
  r.RegisterActivity("reserve", [] {});
  r.RegisterActivity("release", [&] { ++released; });
  TestEnvironment env(r);
  env.client().StartWorkflow("order", {.id = "o1"});
  env.WaitForEvent("o1", [](const auto& e) { return e.has_timer_started(); });
  env.client().CancelWorkflow("o1", "customer changed their mind");
  try {
    env.client().GetResult<std::string>("o1");
    FAIL() << "expected the workflow to end canceled";
  } catch (const WorkflowFailedError& e) {
    EXPECT_EQ(e.Status(), "canceled");
  }
  EXPECT_EQ(released, 1);
  auto h = env.client().GetHistory("o1");
  int scheduled = 0;
  bool timer_canceled = false;
  for (const auto& e : h.proto().events()) {
    scheduled += e.has_activity_task_scheduled();
    timer_canceled |= e.has_timer_canceled();
  }
  EXPECT_EQ(scheduled, 2);
  EXPECT_TRUE(timer_canceled);
}

Task<std::string> AwaitsCancelledActivity(WorkflowContext& ctx) {
  ActivityOptions o{.start_to_close = 1h, .heartbeat = 1h, .cancellation = ActivityCancellation::kWaitCancellationCompleted};
  auto work = ctx.ExecuteActivity<std::string>("long", o);
  auto timeout = ctx.Sleep(1min);
  auto first = co_await WhenAny(work, timeout);
  if (first.index() == 0) co_return "finished";
  try {
    co_await work;  // waits for the attempt to report how it ended
    co_return "finished after all";
  } catch (const ActivityFailure& f) {
    co_return std::string("activity ended: ") + std::string(f.Cause() ? f.Cause()->Kind() : "?");
  }
}

TEST(CancellationTest, WaitForCancellationDeliversTheAttemptsOutcome) {
  Registry r;
  r.RegisterWorkflow("w", AwaitsCancelledActivity);
  std::atomic<bool> started{false};
  r.RegisterActivity("long", [&](ActivityContext& ctx) -> std::string {
    started = true;
    while (!ctx.IsCancelled()) {
      ctx.Heartbeat();
      std::this_thread::yield();
    }
    throw CanceledError("stopped cleanly");
  });
  TestEnvironment env(r);
  env.client().StartWorkflow("w", {.id = "w1"});
  env.WaitForEvent("w1", [](const auto& e) { return e.has_timer_started(); });
  while (!started) std::this_thread::yield();
  env.AdvanceTime(1min);
  EXPECT_EQ(env.client().GetResult<std::string>("w1"), "activity ended: CanceledError");
  auto h = env.client().GetHistory("w1");
  bool canceled_event = false;
  for (const auto& e : h.proto().events()) canceled_event |= e.has_activity_task_canceled();
  EXPECT_TRUE(canceled_event);
}

}  // namespace
}  // namespace keel
