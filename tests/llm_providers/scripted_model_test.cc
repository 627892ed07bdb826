// ScriptedModel: a queue of responses and errors, and a record of the requests.
#include "llm_providers/scripted_model.h"

#include <gtest/gtest.h>

#include "llm_providers/provider_errors.h"

namespace keel::llm {
namespace {

using namespace std::chrono_literals;

TEST(ScriptedModelTest, AnswersInOrderAndRecordsRequests) {
  ScriptedModel model;
  model.PushToolCall("lookup", {{"id", 7}});
  model.PushText("done");
  ChatResponse first = model.Complete({.messages = {Message::User("a")}});
  ChatResponse second = model.Complete({.model = "m2", .messages = {Message::User("b")}});
  EXPECT_EQ(first.finish_reason, FinishReason::kToolCalls);
  EXPECT_EQ(first.ToolCalls().at(0),
            (ToolCall{.id = "scripted_call_1", .name = "lookup", .arguments = {{"id", 7}}}));
  EXPECT_EQ(second.Text(), "done");
  EXPECT_EQ(second.finish_reason, FinishReason::kStop);
  EXPECT_EQ(second.provider, "scripted");
  auto requests = model.Requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[0].messages.at(0).Text(), "a");
  EXPECT_EQ(requests[1].model, "m2");
  EXPECT_EQ(model.Remaining(), 0u);
}

TEST(ScriptedModelTest, ThrowsScriptedErrorsInTurn) {
  ScriptedModel model;
  model.PushError(ApplicationError(kRateLimited, "slow down", {.next_retry_delay = 3s}));
  model.PushText("ok");
  try {
    model.Complete({});
    FAIL() << "no exception";
  } catch (const ApplicationError& e) {
    EXPECT_EQ(e.Type(), kRateLimited);
    EXPECT_EQ(e.NextRetryDelay(), Duration(3s));
  }
  EXPECT_EQ(model.Complete({}).Text(), "ok");
}

TEST(ScriptedModelTest, AnEmptyQueueIsANonRetryableError) {
  ScriptedModel model({ChatResponse{.message = Message::Assistant("only")}});
  EXPECT_EQ(model.Complete({}).Text(), "only");
  try {
    model.Complete({});
    FAIL() << "no exception";
  } catch (const ApplicationError& e) {
    EXPECT_EQ(e.Type(), kScriptExhausted);
    EXPECT_TRUE(e.NonRetryable());
  }
  EXPECT_EQ(model.Requests().size(), 2u);
}

}  // namespace
}  // namespace keel::llm
