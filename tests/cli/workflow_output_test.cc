// How `keel workflow describe` shows pending activities, in text and JSON.
#include "engine/cli/workflow_output.h"

#include <gtest/gtest.h>

namespace keel::cli::workflow {
namespace {

using namespace std::chrono_literals;

TEST(WorkflowOutputTest, AHeldActivityShowsWhenItsHoldEnds) {
  WorkflowDescription d;
  d.workflow_id = "order-7";
  PendingActivity a;
  a.activity_id = "3";
  a.activity_type = "charge";
  a.state = "held";
  a.held_until = Time{} + 1'795'000'000s;
  d.pending_activities.push_back(a);
  const std::string until = FormatTime(*a.held_until);
  const std::string text = DescriptionText(d);
  EXPECT_NE(text.find("  charge (id 3): held, attempt 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("    held until: " + until + " (an attempt may still run"), std::string::npos) << text;
  const auto j = DescriptionToJson(d);
  EXPECT_EQ(j["pending_activities"][0]["state"], "held");
  EXPECT_EQ(j["pending_activities"][0]["held_until"], until);
}

TEST(WorkflowOutputTest, AnActivityNotHeldHasNoHoldTime) {
  WorkflowDescription d;
  PendingActivity a;
  a.activity_type = "charge";
  a.state = "scheduled";
  d.pending_activities.push_back(a);
  EXPECT_EQ(DescriptionText(d).find("held until"), std::string::npos);
  EXPECT_TRUE(DescriptionToJson(d)["pending_activities"][0]["held_until"].is_null());
}

}  // namespace
}  // namespace keel::cli::workflow
