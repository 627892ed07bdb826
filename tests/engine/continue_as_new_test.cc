// Continue-as-new: each generation is a run of its own with a readable history, the
// client's GetResult follows the chain, and signals reach the current run.
#include <gtest/gtest.h>

#include "engine/testing/test_environment.h"
#include "engine/workflow.h"

namespace keel {
namespace {

using namespace std::chrono_literals;
using testing::TestEnvironment;

Task<int> Generations(WorkflowContext& ctx, int generation, int total) {
  co_await ctx.Sleep(24h * 30);  // a month per run
  if (generation < 3) ctx.ContinueAsNew(generation + 1, total + generation);
  co_return total + generation;
}

TEST(ContinueAsNewTest, ThreeGenerationsEachWithItsOwnHistory) {
  Registry r;
  r.RegisterWorkflow("monthly", Generations);
  TestEnvironment env(r, {.time_skipping = true});
  auto first = env.client().StartWorkflow("monthly", {.id = "m1"}, 1, 0);
  EXPECT_EQ(env.client().GetResult<int>("m1"), 6);  // follows the chain to its end

  auto runs = env.client().ListWorkflows({.workflow_id = "m1"});
  ASSERT_EQ(runs.size(), 3u);  // newest first
  EXPECT_EQ(runs[0].status, WorkflowStatus::kCompleted);
  EXPECT_EQ(runs[1].status, WorkflowStatus::kContinuedAsNew);
  EXPECT_EQ(runs[2].status, WorkflowStatus::kContinuedAsNew);
  EXPECT_EQ(runs[2].run_id, first.run_id);
  for (size_t i = 0; i < runs.size(); ++i) {
    History h = env.client().GetHistory("m1", runs[i].run_id);
    const auto& started = h.event(0).workflow_execution_started();
    EXPECT_EQ(started.first_execution_run_id(), first.run_id);
    if (i + 1 < runs.size()) {
      EXPECT_EQ(started.continued_execution_run_id(), runs[i + 1].run_id);
    }
    const auto& last = h.event(h.size() - 1);
    if (i > 0) {
      ASSERT_TRUE(last.has_workflow_execution_continued_as_new());
      EXPECT_EQ(last.workflow_execution_continued_as_new().new_execution_run_id(), runs[i - 1].run_id);
    }
  }
}

Task<int> CountsSignals(WorkflowContext& ctx, int count) {
  std::string s = co_await ctx.WaitSignal<std::string>("tick");
  if (s == "stop") co_return count;
  ctx.ContinueAsNew(count + 1);
}

TEST(ContinueAsNewTest, SignalsReachTheCurrentRun) {
  Registry r;
  r.RegisterWorkflow("counter", CountsSignals);
  TestEnvironment env(r);
  env.client().StartWorkflow("counter", {.id = "c1"}, 0);
  for (int i = 0; i < 3; ++i) {
    env.client().SignalWorkflow("c1", "tick", std::string("more"));
    // The next run exists once this one continued.
    while (env.client().ListWorkflows({.workflow_id = "c1"}).size() < static_cast<size_t>(i + 2)) {
      std::this_thread::yield();
    }
  }
  env.client().SignalWorkflow("c1", "tick", std::string("stop"));
  EXPECT_EQ(env.client().GetResult<int>("c1"), 3);
}

}  // namespace
}  // namespace keel
