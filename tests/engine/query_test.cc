// Queries: answered from the workflow's state by its OnQuery handlers, never written to
// history, on running and closed workflows, with clear errors.
#include <gtest/gtest.h>

#include "engine/testing/test_environment.h"
#include "engine/workflow.h"

namespace keel {
namespace {

using namespace std::chrono_literals;
using testing::TestEnvironment;

Task<std::string> Stages(WorkflowContext& ctx) {
  auto stage = std::make_shared<std::string>("reserving");
  auto log = std::make_shared<std::vector<std::string>>();
  ctx.OnQuery("stage", [stage] { return *stage; });
  ctx.OnQuery("log_since", [log](int from) {
    return std::vector<std::string>(log->begin() + std::min<size_t>(from, log->size()), log->end());
  });
  log->push_back("started");
  co_await ctx.Sleep(24h);
  *stage = "shipping";
  log->push_back("slept");
  co_await ctx.Sleep(24h);
  *stage = "done";
  co_return *stage;
}

bool TimerStarted(const v1::HistoryEvent& e, const std::string& id) {
  return e.has_timer_started() && e.timer_started().timer_id() == id;
}

TEST(QueryTest, AnswersFromTheStateOfASleepingWorkflowAndWritesNoHistory) {
  Registry r;
  r.RegisterWorkflow("stages", Stages);
  TestEnvironment env(r);
  env.client().StartWorkflow("stages", {.id = "q1"});
  env.WaitForEvent("q1", [](const auto& e) { return TimerStarted(e, "1"); });
  int64_t length = env.client().DescribeWorkflow("q1").history_length;
  EXPECT_EQ(env.client().Query<std::string>("q1", "stage"), "reserving");
  EXPECT_EQ(env.client().Query<std::vector<std::string>>("q1", "log_since", 0), (std::vector<std::string>{"started"}));
  EXPECT_EQ(env.client().DescribeWorkflow("q1").history_length, length);

  env.AdvanceTime(24h);
  env.WaitForEvent("q1", [](const auto& e) { return TimerStarted(e, "2"); });
  EXPECT_EQ(env.client().Query<std::string>("q1", "stage"), "shipping");
}

TEST(QueryTest, ReplaysWhenTheRunIsNotCached) {
  Registry r;
  r.RegisterWorkflow("stages", Stages);
  TestEnvironment env(r, {.worker = {.max_cached_workflows = 0}});
  env.client().StartWorkflow("stages", {.id = "q2"});
  env.WaitForEvent("q2", [](const auto& e) { return TimerStarted(e, "1"); });
  env.AdvanceTime(24h);
  env.WaitForEvent("q2", [](const auto& e) { return TimerStarted(e, "2"); });
  EXPECT_EQ(env.client().Query<std::string>("q2", "stage"), "shipping");
}

TEST(QueryTest, WorksOnACompletedWorkflow) {
  Registry r;
  r.RegisterWorkflow("stages", Stages);
  TestEnvironment env(r, {.time_skipping = true});
  env.client().StartWorkflow("stages", {.id = "q3"});
  EXPECT_EQ(env.client().GetResult<std::string>("q3"), "done");
  EXPECT_EQ(env.client().Query<std::string>("q3", "stage"), "done");
  EXPECT_EQ(env.client().Query<std::vector<std::string>>("q3", "log_since", 1), (std::vector<std::string>{"slept"}));
}

TEST(QueryTest, UnknownQueryNamesTheRegisteredOnes) {
  Registry r;
  r.RegisterWorkflow("stages", Stages);
  TestEnvironment env(r);
  env.client().StartWorkflow("stages", {.id = "q4"});
  env.WaitForEvent("q4", [](const auto& e) { return TimerStarted(e, "1"); });
  try {
    env.client().Query<std::string>("q4", "status");
    FAIL() << "expected ClientError";
  } catch (const ClientError& e) {
    EXPECT_EQ(e.Code(), static_cast<int>(StatusCode::kInvalidArgument));
    EXPECT_NE(std::string(e.what()).find("has no query 'status' (registered: log_since, stage)"), std::string::npos)
        << e.what();
  }
}

TEST(QueryTest, QueryOnAnUnknownWorkflowIsNotFound) {
  Registry r;
  r.RegisterWorkflow("stages", Stages);
  TestEnvironment env(r);
  try {
    env.client().Query<std::string>("nobody", "stage");
    FAIL();
  } catch (const ClientError& e) {
    EXPECT_EQ(e.Code(), static_cast<int>(StatusCode::kNotFound));
  }
}

}  // namespace
}  // namespace keel
