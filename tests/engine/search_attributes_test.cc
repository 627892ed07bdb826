// Search attributes and memo: set at start or by the workflow, shown by describe, and
// usable as list filters (e.g. every run awaiting approval).
#include <gtest/gtest.h>

#include "engine/testing/test_environment.h"
#include "engine/workflow.h"

namespace keel {
namespace {

using namespace std::chrono_literals;
using testing::TestEnvironment;

Task<std::string> Approval(WorkflowContext& ctx, int amount) {
  if (amount < 100) co_return "auto-approved";
  ctx.UpsertSearchAttributes({{"awaiting_approval", true}, {"amount", amount}});
  std::string decision = co_await ctx.WaitSignal<std::string>("decision");
  ctx.UpsertSearchAttributes({{"awaiting_approval", false}});
  co_return decision;
}

std::vector<std::string> Ids(const std::vector<WorkflowSummary>& runs) {
  std::vector<std::string> out;
  for (const auto& r : runs) out.push_back(r.workflow_id);
  return out;
}

TEST(SearchAttributesTest, ListFindsRunsAwaitingApproval) {
  Registry r;
  r.RegisterWorkflow("approval", Approval);
  TestEnvironment env(r);
  env.client().StartWorkflow("approval", {.id = "small", .search_attributes = {{"customer", "ann"}}}, 50);
  env.client().StartWorkflow("approval", {.id = "big", .search_attributes = {{"customer", "bob"}}}, 500);
  env.client().StartWorkflow("approval", {.id = "bigger", .memo = {{"note", "vip"}}}, 900);
  env.client().GetResult<std::string>("small");
  for (const char* id : {"big", "bigger"}) {
    env.WaitForEvent(id, [](const auto& e) { return e.has_upsert_workflow_search_attributes(); });
  }
  EXPECT_EQ(Ids(env.client().ListWorkflows({.search_attributes = {{"awaiting_approval", true}}})),
            (std::vector<std::string>{"bigger", "big"}));
  EXPECT_EQ(Ids(env.client().ListWorkflows({.search_attributes = {{"customer", "bob"}}})),
            (std::vector<std::string>{"big"}));
  EXPECT_EQ(Ids(env.client().ListWorkflows({.search_attributes = {{"awaiting_approval", true}, {"amount", 900}}})),
            (std::vector<std::string>{"bigger"}));

  env.client().SignalWorkflow("big", "decision", std::string("approved"));
  EXPECT_EQ(env.client().GetResult<std::string>("big"), "approved");
  EXPECT_EQ(Ids(env.client().ListWorkflows({.search_attributes = {{"awaiting_approval", true}}})),
            (std::vector<std::string>{"bigger"}));

  auto d = env.client().DescribeWorkflow("bigger");
  EXPECT_EQ(d.search_attributes["amount"], 900);
  EXPECT_EQ(d.memo["note"], "vip");
}

}  // namespace
}  // namespace keel
