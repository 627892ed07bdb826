// Versioning with Patched/DeprecatePatch: a running workflow crosses a deploy of changed
// code and keeps its recorded path; new runs take the new path; both histories replay.
#include <gtest/gtest.h>

#include "engine/replayer.h"
#include "engine/testing/test_environment.h"
#include "engine/workflow.h"

namespace keel {
namespace {

using namespace std::chrono_literals;
using testing::TestEnvironment;

ActivityOptions Quick() { return ActivityOptions{.start_to_close = 30s}; }

// v1: charge, wait a day, ship.
Task<std::string> OrderV1(WorkflowContext& ctx) {
  co_await ctx.ExecuteActivity<void>("charge", Quick());
  co_await ctx.Sleep(24h);
  co_await ctx.ExecuteActivity<void>("ship", Quick());
  co_return "v1 path";
}

// v2: a fraud check before charging, guarded by a patch.
Task<std::string> OrderV2(WorkflowContext& ctx) {
  bool checked = false;
  if (ctx.Patched("fraud-check")) {
    co_await ctx.ExecuteActivity<void>("fraud_check", Quick());
    checked = true;
  }
  co_await ctx.ExecuteActivity<void>("charge", Quick());
  co_await ctx.Sleep(24h);
  co_await ctx.ExecuteActivity<void>("ship", Quick());
  co_return checked ? "v2 path" : "v1 path";
}

// v3: every old run is gone; the patch is deprecated and the old path deleted.
Task<std::string> OrderV3(WorkflowContext& ctx) {
  ctx.DeprecatePatch("fraud-check");
  co_await ctx.ExecuteActivity<void>("fraud_check", Quick());
  co_await ctx.ExecuteActivity<void>("charge", Quick());
  co_await ctx.Sleep(24h);
  co_await ctx.ExecuteActivity<void>("ship", Quick());
  co_return "v2 path";
}


Registry Build(Task<std::string> (*order)(WorkflowContext&)) {
  Registry r;
  r.RegisterWorkflow("order", order);
  for (const char* a : {"charge", "ship", "fraud_check"}) r.RegisterActivity(a, [] {});
  return r;
}

TEST(VersioningTest, RunningWorkflowCrossesADeployAndKeepsItsPath) {
  Registry v1 = Build(OrderV1);
  Registry v2 = Build(OrderV2);
  TestEnvironment env(v1, {.worker = {.max_cached_workflows = 0}});
  env.client().StartWorkflow("order", {.id = "old"});
  env.WaitForEvent("old", [](const auto& e) { return e.has_timer_started(); });

  env.Deploy(v2);  // the old run is replayed by the new code from now on
  env.client().StartWorkflow("order", {.id = "new"});
  env.WaitForEvent("new", [](const auto& e) { return e.has_timer_started(); });
  env.AdvanceTime(24h);
  EXPECT_EQ(env.client().GetResult<std::string>("old"), "v1 path");
  EXPECT_EQ(env.client().GetResult<std::string>("new"), "v2 path");

  // Both histories replay against v2; the old one no longer replays against v3.
  History old_history = env.client().GetHistory("old");
  History new_history = env.client().GetHistory("new");
  EXPECT_TRUE(ReplayHistory(old_history, v2).ok());
  EXPECT_TRUE(ReplayHistory(new_history, v2).ok());
  Registry v3 = Build(OrderV3);
  EXPECT_TRUE(ReplayHistory(new_history, v3).ok()) << ReplayHistory(new_history, v3).status.ToString();
  EXPECT_EQ(ReplayHistory(old_history, v3).status.code(), StatusCode::kNondeterminism);
  // And v1 code cannot replay the patched run: the marker is there.
  EXPECT_EQ(ReplayHistory(new_history, v1).status.code(), StatusCode::kNondeterminism);
}

TEST(VersioningTest, DeprecatedPatchRunsRecordTheMarkerAndReplay) {
  Registry v3 = Build(OrderV3);
  TestEnvironment env(v3, {.time_skipping = true});
  env.client().StartWorkflow("order", {.id = "v3"});
  EXPECT_EQ(env.client().GetResult<std::string>("v3"), "v2 path");
  History h = env.client().GetHistory("v3");
  bool marker = false;
  for (const auto& e : h.proto().events()) marker |= e.has_marker_recorded();
  EXPECT_TRUE(marker);
  EXPECT_TRUE(ReplayHistory(h, Build(OrderV2)).ok());
}

}  // namespace
}  // namespace keel
