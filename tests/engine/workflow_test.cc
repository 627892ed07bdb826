// End-to-end behaviour of workflows on the embedded engine with a ManualClock.
#include <gtest/gtest.h>

#include <atomic>

#include "engine/testing/test_environment.h"
#include "engine/workflow.h"

namespace keel {
namespace {

using namespace std::chrono_literals;
using testing::TestEnvironment;

ActivityOptions Quick() {
  ActivityOptions o;
  o.start_to_close = 30s;
  return o;
}

Task<std::string> Greet(WorkflowContext& ctx, std::string name) {
  auto a = co_await ctx.ExecuteActivity<std::string>("upper", Quick(), name);
  auto b = co_await ctx.ExecuteActivity<std::string>("exclaim", Quick(), a);
  co_return "hello " + b;
}

TEST(WorkflowTest, RunsActivitiesInOrderAndReturnsResult) {
  Registry r;
  r.RegisterWorkflow("greet", Greet);
  r.RegisterActivity("upper", [](std::string s) {
    for (auto& c : s) c = static_cast<char>(toupper(c));
    return s;
  });
  r.RegisterActivity("exclaim", [](std::string s) { return s + "!"; });
  TestEnvironment env(r);
  env.client().StartWorkflow("greet", {.id = "g1"}, std::string("ann"));
  EXPECT_EQ(env.client().GetResult<std::string>("g1"), "hello ANN!");
  auto h = env.client().GetHistory("g1");
  std::cerr << h.Timeline();
  EXPECT_TRUE(h.event(h.size() - 1).has_workflow_execution_completed());
}

Task<std::string> Sleepy(WorkflowContext& ctx) {
  co_await ctx.Sleep(24h * 30);
  co_return "woke";
}

TEST(WorkflowTest, ThirtyDaySleepFiresOnceAcrossRestart) {
  Registry r;
  r.RegisterWorkflow("sleepy", Sleepy);
  TestEnvironment env(r);
  env.client().StartWorkflow("sleepy", {.id = "s1"});
  env.WaitForEvent("s1", [](const v1::HistoryEvent& e) { return e.has_timer_started(); });
  env.Restart();
  env.AdvanceTime(24h * 30);
  EXPECT_EQ(env.client().GetResult<std::string>("s1"), "woke");
  auto h = env.client().GetHistory("s1");
  int fired = 0;
  for (const auto& e : h.proto().events()) fired += e.has_timer_fired();
  EXPECT_EQ(fired, 1);
}

Task<std::string> WaitForGo(WorkflowContext& ctx) {
  auto r = co_await WhenAny(ctx.WaitSignal<std::string>("go"), ctx.Sleep(1h));
  co_return r.index() == 0 ? "signal " + std::get<0>(r) : std::string("timeout");
}

TEST(WorkflowTest, SignalBeatsTimerAndTimerIsCanceled) {
  Registry r;
  r.RegisterWorkflow("wait", WaitForGo);
  TestEnvironment env(r);
  env.client().StartWorkflow("wait", {.id = "w1"});
  env.WaitForEvent("w1", [](const v1::HistoryEvent& e) { return e.has_timer_started(); });
  env.client().SignalWorkflow("w1", "go", std::string("now"));
  EXPECT_EQ(env.client().GetResult<std::string>("w1"), "signal now");
  auto h = env.client().GetHistory("w1");
  std::cerr << h.Timeline();
  bool canceled = false;
  for (const auto& e : h.proto().events()) canceled |= e.has_timer_canceled();
  EXPECT_TRUE(canceled);
}

TEST(WorkflowTest, TimerBeatsSignal) {
  Registry r;
  r.RegisterWorkflow("wait", WaitForGo);
  TestEnvironment env(r);
  env.client().StartWorkflow("wait", {.id = "w2"});
  env.WaitForEvent("w2", [](const v1::HistoryEvent& e) { return e.has_timer_started(); });
  env.AdvanceTime(1h);
  EXPECT_EQ(env.client().GetResult<std::string>("w2"), "timeout");
}

}  // namespace
}  // namespace keel
