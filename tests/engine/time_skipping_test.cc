// Time skipping: when every workflow is blocked the test clock jumps to the next timer,
// so long waits take no time; tests can still move time by hand and act at chosen
// virtual times.
#include <gtest/gtest.h>

#include "engine/testing/test_environment.h"
#include "engine/workflow.h"

namespace keel {
namespace {

using namespace std::chrono_literals;
using testing::TestEnvironment;

Task<std::string> YearLong(WorkflowContext& ctx) {
  Time start = ctx.Now();
  co_await ctx.Sleep(24h * 365);
  auto days = std::chrono::duration_cast<std::chrono::hours>(ctx.Now() - start).count() / 24;
  co_return "slept " + std::to_string(days) + " days";
}

TEST(TimeSkippingTest, AOneYearTimerCompletesAtOnce) {
  Registry r;
  r.RegisterWorkflow("year", YearLong);
  TestEnvironment env(r, {.time_skipping = true});
  Time before = env.clock().Now();
  env.client().StartWorkflow("year", {.id = "y1"});
  EXPECT_EQ(env.client().GetResult<std::string>("y1"), "slept 365 days");
  EXPECT_GE(env.clock().Now() - before, 24h * 365);
  EXPECT_GE(env.time_skips(), 1);
}

Task<std::string> Reminders(WorkflowContext& ctx) {
  std::string log;
  for (int day = 1; day <= 3; ++day) {
    auto signal = ctx.WaitSignal<std::string>("note");
    auto tomorrow = ctx.Sleep(24h);
    auto first = co_await WhenAny(signal, tomorrow);
    log += first.index() == 0 ? "note:" + std::get<0>(first) + " " : "day" + std::to_string(day) + " ";
  }
  co_return log;
}

TEST(TimeSkippingTest, SkipsOnlyWhileEverythingIsBlockedOnTimers) {
  Registry r;
  r.RegisterWorkflow("reminders", Reminders);
  TestEnvironment env(r, {.time_skipping = true});
  env.client().StartWorkflow("reminders", {.id = "r1"});
  EXPECT_EQ(env.client().GetResult<std::string>("r1"), "day1 day2 day3 ");
}

TEST(TimeSkippingTest, ManualTimeAndSignalsAtChosenVirtualTimes) {
  Registry r;
  r.RegisterWorkflow("reminders", Reminders);
  TestEnvironment env(r);  // time moves only when told
  env.client().StartWorkflow("reminders", {.id = "r2"});
  env.WaitForEvent("r2", [](const auto& e) { return e.has_timer_started() && e.timer_started().timer_id() == "1"; });
  env.AdvanceTime(24h);  // day 1 passes
  env.WaitForEvent("r2", [](const auto& e) { return e.has_timer_started() && e.timer_started().timer_id() == "2"; });
  env.AdvanceTime(12h);  // half of day 2, then a note arrives
  env.client().SignalWorkflow("r2", "note", std::string("lunch"));
  env.WaitForEvent("r2", [](const auto& e) { return e.has_timer_started() && e.timer_started().timer_id() == "3"; });
  env.SetTimeSkipping(true);  // let the rest run
  EXPECT_EQ(env.client().GetResult<std::string>("r2"), "day1 note:lunch day3 ");
}

}  // namespace
}  // namespace keel
