// Child workflows: results and failures reach the parent, parent-close policies apply to
// running children, and workflows signal each other.
#include <gtest/gtest.h>

#include "engine/testing/test_environment.h"
#include "engine/workflow.h"

namespace keel {
namespace {

using namespace std::chrono_literals;
using testing::TestEnvironment;

Task<int> Square(WorkflowContext& ctx, int x) {
  if (x < 0) throw ApplicationError("NegativeInput", "cannot square a negative number here");
  co_return x * x;
}

Task<std::string> Parent(WorkflowContext& ctx, int x) {
  ChildWorkflowOptions o;
  int squared = co_await ctx.ExecuteChildWorkflow<int>("square", o, x);
  std::optional<ChildWorkflowFailure> failed;
  try {
    co_await ctx.ExecuteChildWorkflow<int>("square", o, -x);
  } catch (const ChildWorkflowFailure& f) {
    failed = f;
  }
  std::string why;
  if (failed) {
    auto* app = dynamic_cast<const ApplicationError*>(failed->Cause());
    why = app ? app->Type() : "?";
  }
  co_return std::to_string(squared) + " " + why;
}

TEST(ChildWorkflowTest, ResultsAndFailuresReachTheParent) {
  Registry r;
  r.RegisterWorkflow("parent", Parent);
  r.RegisterWorkflow("square", Square);
  TestEnvironment env(r);
  env.client().StartWorkflow("parent", {.id = "p1"}, 7);
  EXPECT_EQ(env.client().GetResult<std::string>("p1"), "49 NegativeInput");
  // Each child is a workflow of its own, with its own history.
  auto children = env.client().ListWorkflows({.workflow_type = "square"});
  ASSERT_EQ(children.size(), 2u);
  for (const auto& c : children) {
    EXPECT_EQ(c.workflow_id.rfind("p1/", 0), 0u) << c.workflow_id;
    EXPECT_TRUE(env.client().GetHistory(c.workflow_id).event(0).workflow_execution_started().has_parent_workflow_execution());
  }
}

Task<void> Forever(WorkflowContext& ctx) { co_await ctx.Sleep(24h * 365); }

Task<std::string> LeavesChildren(WorkflowContext& ctx) {
  auto terminated = ctx.ExecuteChildWorkflow<void>("forever", {.id = "kid-terminate"});
  auto abandoned = ctx.ExecuteChildWorkflow<void>(
      "forever", {.id = "kid-abandon", .parent_close_policy = ParentClosePolicy::kAbandon});
  auto cancelled = ctx.ExecuteChildWorkflow<void>(
      "forever", {.id = "kid-cancel", .parent_close_policy = ParentClosePolicy::kRequestCancel});
  co_await ctx.Sleep(1h);  // the children start meanwhile
  co_return "leaving";
}

TEST(ChildWorkflowTest, ParentClosePolicyAppliesToRunningChildren) {
  Registry r;
  r.RegisterWorkflow("parent", LeavesChildren);
  r.RegisterWorkflow("forever", Forever);
  TestEnvironment env(r);
  env.client().StartWorkflow("parent", {.id = "p2"});
  for (const char* kid : {"kid-terminate", "kid-abandon", "kid-cancel"}) {
    env.WaitForEvent("p2", [kid](const auto& e) {
      return e.has_child_workflow_execution_started() &&
             e.child_workflow_execution_started().workflow_execution().workflow_id() == kid;
    });
    env.WaitForEvent(kid, [](const auto& e) { return e.has_timer_started(); });
  }
  env.WaitForEvent("p2", [](const auto& e) { return e.has_timer_started(); });
  env.AdvanceTime(1h);
  EXPECT_EQ(env.client().GetResult<std::string>("p2"), "leaving");
  env.WaitForEvent("kid-terminate", [](const auto& e) { return e.has_workflow_execution_terminated(); });
  env.WaitForEvent("kid-cancel", [](const auto& e) { return e.has_workflow_execution_canceled(); });
  EXPECT_EQ(env.client().DescribeWorkflow("kid-abandon").status, WorkflowStatus::kRunning);
}

Task<std::string> Pinger(WorkflowContext& ctx, std::string target) {
  co_await ctx.SignalExternalWorkflow(target, "", "ping", std::string("hello from pinger"));
  std::optional<ApplicationError> missing;
  try {
    co_await ctx.SignalExternalWorkflow("nobody-home", "", "ping", std::string("?"));
  } catch (const ApplicationError& e) {
    missing = e;
  }
  co_return missing ? missing->Type() : "delivered";
}

Task<std::string> Ponger(WorkflowContext& ctx) { co_return co_await ctx.WaitSignal<std::string>("ping"); }

TEST(ChildWorkflowTest, WorkflowsSignalEachOther) {
  Registry r;
  r.RegisterWorkflow("pinger", Pinger);
  r.RegisterWorkflow("ponger", Ponger);
  TestEnvironment env(r);
  env.client().StartWorkflow("ponger", {.id = "pong"});
  env.client().StartWorkflow("pinger", {.id = "ping"}, std::string("pong"));
  EXPECT_EQ(env.client().GetResult<std::string>("pong"), "hello from pinger");
  EXPECT_EQ(env.client().GetResult<std::string>("ping"), "ExternalWorkflowNotFound");
}

Task<std::string> CancelsItsChild(WorkflowContext& ctx) {
  auto child = ctx.ExecuteChildWorkflow<void>("forever", {.id = "kid"});
  auto timeout = ctx.Sleep(1h);
  auto first = co_await WhenAny(child, timeout);  // the timer wins; the child is asked to cancel
  std::string outcome = "?";
  try {
    co_await child;
  } catch (const ChildWorkflowFailure& f) {
    outcome = std::string(f.Cause() ? f.Cause()->Kind() : "none");
  }
  co_return std::to_string(first.index()) + " " + outcome;
}

TEST(ChildWorkflowTest, CancellingAChildWaitsForItsOutcome) {
  Registry r;
  r.RegisterWorkflow("parent", CancelsItsChild);
  r.RegisterWorkflow("forever", Forever);
  TestEnvironment env(r);
  env.client().StartWorkflow("parent", {.id = "p3"});
  env.WaitForEvent("p3", [](const auto& e) { return e.has_child_workflow_execution_started(); });
  env.WaitForEvent("kid", [](const auto& e) { return e.has_timer_started(); });
  env.WaitForEvent("p3", [](const auto& e) { return e.has_timer_started(); });
  env.AdvanceTime(1h);
  EXPECT_EQ(env.client().GetResult<std::string>("p3"), "1 CanceledError");
  EXPECT_EQ(env.client().DescribeWorkflow("kid").status, WorkflowStatus::kCanceled);
}

}  // namespace
}  // namespace keel
