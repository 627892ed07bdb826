// A provider inside an activity on the embedded engine: ChatRequest / ChatResponse travel
// as the activity's input and result, a 429 is retried after the server's Retry-After
// (not the policy's backoff), and a 401 fails the activity at once with its type.
#include <gtest/gtest.h>

#include <thread>

#include "engine/testing/test_environment.h"
#include "engine/workflow.h"
#include "llm_providers/model_spec.h"
#include "llm_providers/openai_provider.h"
#include "llm_providers/provider_errors.h"
#include "tests/llm_providers/fake_server.h"

namespace keel::llm {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

Task<std::string> Ask(WorkflowContext& ctx, ChatRequest request) {
  ActivityOptions options;
  options.start_to_close = 1min;
  options.retry.maximum_attempts = 5;
  try {
    ChatResponse reply = co_await ctx.ExecuteActivity<ChatResponse>("chat", options, request);
    co_return reply.Text() + " (" + reply.provider + ", " +
        std::to_string(reply.usage.input_tokens) + " tokens in)";
  } catch (const ActivityFailure& failure) {
    co_return "failed: " + failure.ErrorType();
  }
}

class ProviderActivityTest : public ::testing::Test {
 protected:
  ProviderActivityTest()
      : provider_({.model = "gpt-4o-mini",
                   .base_url = server_.Url() + "/v1",
                   .env = MapEnv({{"OPENAI_API_KEY", "sk-activity-test"}})}) {
    registry_.RegisterWorkflow("ask", Ask);
    registry_.RegisterActivity("chat",
                               [this](ChatRequest request) { return provider_.Complete(request); });
  }

  // Waits until the activity failed and waits to retry as attempt `next_attempt`.
  PendingActivity WaitUntilBackingOff(keel::testing::TestEnvironment& env, const std::string& id,
                                      int next_attempt) {
    while (true) {
      auto d = env.client().DescribeWorkflow(id);
      if (!d.pending_activities.empty() && d.pending_activities[0].state == "backing off" &&
          d.pending_activities[0].attempt == next_attempt) {
        return d.pending_activities[0];
      }
      std::this_thread::yield();
    }
  }

  llm::testing::FakeServer server_;
  OpenAIProvider provider_;
  Registry registry_;
};

TEST_F(ProviderActivityTest, RateLimitIsRetriedAfterTheServersRetryAfter) {
  server_.Push({.status = 429,
                .body = R"({"error":{"message":"slow down"}})",
                .headers = {{"retry-after", "7"}}});
  server_.Push(llm::testing::Reply::Json(
      json::parse(R"({"model": "gpt-4o-mini", "choices": [{"finish_reason": "stop",
      "message": {"role": "assistant", "content": "Paris"}}], "usage": {"prompt_tokens": 12, "completion_tokens": 1}})")));
  keel::testing::TestEnvironment env(registry_);
  const Time start = env.clock().Now();
  env.client().StartWorkflow("ask", {.id = "ask-1"},
                             ChatRequest{.messages = {Message::User("Capital of France?")}});
  PendingActivity pending = WaitUntilBackingOff(env, "ask-1", 2);
  EXPECT_EQ(pending.next_attempt_time, start + 7s);  // the policy alone would say 1 s
  EXPECT_NE(pending.last_failure.find("slow down"), std::string::npos) << pending.last_failure;
  env.AdvanceTime(7s);
  EXPECT_EQ(env.client().GetResult<std::string>("ask-1"), "Paris (openai, 12 tokens in)");
  ASSERT_EQ(server_.Requests().size(), 2u);
  EXPECT_EQ(server_.Requests()[1].Json()["messages"][0]["content"], "Capital of France?");
}

TEST_F(ProviderActivityTest, AuthenticationFailureIsNotRetried) {
  server_.Push({.status = 401, .body = R"({"error":{"message":"bad key"}})"});
  keel::testing::TestEnvironment env(registry_);
  env.client().StartWorkflow("ask", {.id = "ask-2"},
                             ChatRequest{.messages = {Message::User("hi")}});
  EXPECT_EQ(env.client().GetResult<std::string>("ask-2"),
            std::string("failed: ") + kAuthenticationFailed);
  EXPECT_EQ(server_.Requests().size(), 1u);
}

// The example of docs/llm-providers.md, on the offline model (KEEL_MODEL unset).
keel::Task<std::string> DocsAsk(keel::WorkflowContext& ctx, std::string question) {
  keel::llm::ChatRequest request{.messages = {keel::llm::Message::System("Answer in one line."),
                                              keel::llm::Message::User(question)}};
  keel::ActivityOptions opts{.start_to_close = 2min, .retry = {.maximum_attempts = 5}};
  auto reply = co_await ctx.ExecuteActivity<keel::llm::ChatResponse>("chat", opts, request);
  co_return reply.Text();
}

TEST(ProviderActivityDocsTest, TheGuidesExampleRunsOnTheOfflineModel) {
  const ProviderOptions no_env{.env = MapEnv({})};
  auto provider = keel::llm::NewProvider(keel::llm::ModelSpecFromEnv(no_env), no_env);
  ASSERT_TRUE(provider.ok()) << provider.status().ToString();
  std::shared_ptr<keel::llm::LlmProvider> model = std::move(*provider);
  keel::Registry registry;
  registry.RegisterWorkflow("ask", DocsAsk);
  registry.RegisterActivity(
      "chat", [model](keel::llm::ChatRequest request) { return model->Complete(request); });
  keel::testing::TestEnvironment env(registry);
  env.client().StartWorkflow("ask", {.id = "docs-1"}, std::string("What is Keel?"));
  EXPECT_EQ(env.client().GetResult<std::string>("docs-1"),
            "[offline model] I have no rule for that. You said: What is Keel?");
}

}  // namespace
}  // namespace keel::llm
