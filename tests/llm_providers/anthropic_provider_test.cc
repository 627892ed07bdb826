// AnthropicProvider against a FakeServer on 127.0.0.1 that speaks the Messages API: the
// exact request JSON and headers (version, key, top-level system, max_tokens, merged
// tool results), tool use, structured output, and the failures the engine classifies.
#include "llm_providers/anthropic_provider.h"

#include <gtest/gtest.h>

#include "llm_providers/provider_errors.h"
#include "tests/llm_providers/fake_server.h"

namespace keel::llm {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
using testing::FakeServer;
using testing::Reply;

constexpr char kKey[] = "sk-ant-api03-test-77e1d2";

class AnthropicProviderTest : public ::testing::Test {
 protected:
  AnthropicOptions Options() {
    return {.model = "claude-sonnet-4-5",
            .base_url = server_.Url(),
            .env = MapEnv({{"ANTHROPIC_API_KEY", kKey}}),
            .clock = &clock_};
  }

  ApplicationError Fail(AnthropicProvider& provider) {
    try {
      provider.Complete({.messages = {Message::User("hi")}});
    } catch (const ApplicationError& e) {
      return e;
    }
    ADD_FAILURE() << "Complete did not throw";
    return ApplicationError("none", "none");
  }

  ManualClock clock_;
  FakeServer server_;
};

TEST_F(AnthropicProviderTest, SendsTheExactRequestAndParsesToolUse) {
  server_.Push({.body = R"({
      "id": "msg_01", "type": "message", "role": "assistant", "model": "claude-sonnet-4-5-20250929",
      "content": [{"type": "text", "text": "Refunding now."},
                  {"type": "tool_use", "id": "toolu_02", "name": "refund", "input": {"order": 42, "amount": 19.5}}],
      "stop_reason": "tool_use",
      "usage": {"input_tokens": 800, "output_tokens": 60, "cache_read_input_tokens": 1000,
                "cache_creation_input_tokens": 200}})",
                .headers = {{"anthropic-ratelimit-requests-limit", "50"},
                            {"anthropic-ratelimit-requests-remaining", "49"},
                            {"anthropic-ratelimit-requests-reset", "2026-01-01T00:00:12Z"},
                            {"anthropic-ratelimit-input-tokens-remaining", "39000"}}});
  AnthropicProvider provider(Options());
  ChatRequest request{
      .messages = {Message::System("You handle refunds."), Message::User("Refund order 42"),
                   Message::Assistant(
                       "", {{.id = "toolu_01", .name = "lookup", .arguments = {{"order", 42}}},
                            {.id = "toolu_01b", .name = "policy"}}),
                   Message::ToolResult("toolu_01", "lookup", R"({"total":19.5})"),
                   Message::ToolResult("toolu_01b", "policy", "refunds within 30 days")},
      .tools = {
          {.name = "refund",
           .description = "Refund an order",
           .parameters = json::parse(
               R"({"type":"object","properties":{"order":{"type":"integer"},"amount":{"type":"number"}}})")}}};
  ChatResponse r = provider.Complete(request);

  auto sent = server_.LastRequest();
  EXPECT_EQ(sent.method, "POST");
  EXPECT_EQ(sent.path, "/v1/messages");
  EXPECT_EQ(sent.Header("x-api-key"), kKey);
  EXPECT_EQ(sent.Header("anthropic-version"), "2023-06-01");
  EXPECT_EQ(sent.Header("content-type"), "application/json");
  EXPECT_EQ(sent.Header("authorization"), "");
  EXPECT_EQ(sent.Json(), json::parse(R"({
    "model": "claude-sonnet-4-5",
    "max_tokens": 4096,
    "system": "You handle refunds.",
    "messages": [
      {"role": "user", "content": [{"type": "text", "text": "Refund order 42"}]},
      {"role": "assistant", "content": [
        {"type": "tool_use", "id": "toolu_01", "name": "lookup", "input": {"order": 42}},
        {"type": "tool_use", "id": "toolu_01b", "name": "policy", "input": {}}]},
      {"role": "user", "content": [
        {"type": "tool_result", "tool_use_id": "toolu_01", "content": "{\"total\":19.5}"},
        {"type": "tool_result", "tool_use_id": "toolu_01b", "content": "refunds within 30 days"}]}
    ],
    "tools": [{"name": "refund", "description": "Refund an order",
               "input_schema": {"type": "object", "properties": {"order": {"type": "integer"}, "amount": {"type": "number"}}}}]
  })"));

  EXPECT_EQ(r.provider, "anthropic");
  EXPECT_EQ(r.model, "claude-sonnet-4-5-20250929");
  EXPECT_EQ(r.Text(), "Refunding now.");
  ASSERT_EQ(r.ToolCalls().size(), 1u);
  EXPECT_EQ(r.ToolCalls()[0].arguments, json::parse(R"({"order":42,"amount":19.5})"));
  EXPECT_EQ(r.finish_reason, FinishReason::kToolCalls);
  EXPECT_EQ(r.usage, (Usage{.input_tokens = 2000,
                            .output_tokens = 60,
                            .cached_input_tokens = 1000,
                            .cache_write_tokens = 200}));
  // claude-sonnet-4-5: 800 x 3 + 1000 x 0.30 + 200 x 3.75 + 60 x 15, per million.
  EXPECT_NEAR(r.cost.usd, (800 * 3.0 + 1000 * 0.30 + 200 * 3.75 + 60 * 15.0) / 1e6, 1e-12);
  EXPECT_EQ(r.rate_limits.requests.limit, 50);
  EXPECT_EQ(r.rate_limits.requests.remaining, 49);
  EXPECT_EQ(r.rate_limits.requests.reset_after, Duration(12s));  // from the injected clock
  EXPECT_EQ(r.rate_limits.input_tokens.remaining, 39000);
}

TEST_F(AnthropicProviderTest, StructuredOutputThroughTheOutputTool) {
  server_.Push(Reply::Json(json::parse(R"({"id": "msg_2", "model": "claude-haiku-4-5",
      "content": [{"type": "tool_use", "id": "toolu_9", "name": "risk", "input": {"risk": "high", "reasons": ["new card"]}}],
      "stop_reason": "tool_use", "usage": {"input_tokens": 10, "output_tokens": 5}})")));
  AnthropicProvider provider(Options());
  json schema = json::parse(R"({"type":"object","properties":{"risk":{"enum":["low","high"]},
                                "reasons":{"type":"array","items":{"type":"string"}}},"required":["risk"]})");
  ChatResponse r =
      provider.Complete({.model = "claude-haiku-4-5",
                         .messages = {Message::User("Rate order 7")},
                         .output_schema = OutputSchema{.name = "risk", .schema = schema},
                         .sampling = {.max_tokens = 300}});
  json sent = server_.LastRequest().Json();
  EXPECT_EQ(sent["model"], "claude-haiku-4-5");
  EXPECT_EQ(sent["max_tokens"], 300);
  EXPECT_EQ(sent["tools"][0]["name"], "risk");
  EXPECT_EQ(sent["tools"][0]["input_schema"], schema);
  EXPECT_EQ(sent["tool_choice"], json::parse(R"({"type":"tool","name":"risk"})"));
  EXPECT_EQ(r.JsonOutput(), json::parse(R"({"risk":"high","reasons":["new card"]})"));
  EXPECT_TRUE(r.ToolCalls().empty());
  EXPECT_EQ(r.finish_reason, FinishReason::kStop);
}

TEST_F(AnthropicProviderTest, NativeStructuredOutputAndBetaHeaders) {
  server_.Push(Reply::Json(json::parse(R"({"content": [{"type": "text", "text": "{\"ok\":true}"}],
                                           "stop_reason": "end_turn"})")));
  AnthropicOptions options = Options();
  options.structured_output = AnthropicOptions::StructuredOutput::kNative;
  options.beta = {"a-2025-01-01", "b-2025-02-02"};
  AnthropicProvider provider(options);
  ChatResponse r =
      provider.Complete({.messages = {Message::User("ok?")},
                         .output_schema = OutputSchema{.schema = {{"type", "object"}}}});
  auto sent = server_.LastRequest();
  EXPECT_EQ(sent.Header("anthropic-beta"), "a-2025-01-01,b-2025-02-02");
  EXPECT_EQ(sent.Json()["output_config"]["format"]["type"], "json_schema");
  EXPECT_EQ(r.JsonOutput(), json::parse(R"({"ok":true})"));
}

TEST_F(AnthropicProviderTest, OverloadedIsRetryableWithRetryAfter) {
  server_.Push(
      {.status = 529,
       .body = R"({"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}})",
       .headers = {{"retry-after", "4"}}});
  AnthropicProvider provider(Options());
  ApplicationError e = Fail(provider);
  EXPECT_EQ(e.Type(), kProviderOverloaded);
  EXPECT_FALSE(e.NonRetryable());
  EXPECT_EQ(e.NextRetryDelay(), Duration(4s));
  EXPECT_NE(std::string(e.what()).find("overloaded_error"), std::string::npos) << e.what();
}

TEST_F(AnthropicProviderTest, RateLimitedIsRetryableWithRetryAfter) {
  server_.Push(
      {.status = 429,
       .body =
           R"({"type":"error","error":{"type":"rate_limit_error","message":"Number of request tokens has exceeded your per-minute rate limit"}})",
       .headers = {{"retry-after", "12"}, {"anthropic-ratelimit-input-tokens-remaining", "0"}}});
  AnthropicProvider provider(Options());
  ApplicationError e = Fail(provider);
  EXPECT_EQ(e.Type(), kRateLimited);
  EXPECT_FALSE(e.NonRetryable());
  EXPECT_EQ(e.NextRetryDelay(), Duration(12s));
  EXPECT_EQ(ErrorInfo(e)->provider_type, "rate_limit_error");
  EXPECT_EQ(ErrorInfo(e)->rate_limits.input_tokens.remaining, 0);
}

TEST_F(AnthropicProviderTest, ServerErrorIsRetryable) {
  server_.Push(
      {.status = 500,
       .body =
           R"({"type":"error","error":{"type":"api_error","message":"Internal server error"}})"});
  AnthropicProvider provider(Options());
  ApplicationError e = Fail(provider);
  EXPECT_EQ(e.Type(), kProviderUnavailable);
  EXPECT_FALSE(e.NonRetryable());
}

TEST_F(AnthropicProviderTest, UnauthorizedIsNonRetryableAndNeverShowsTheKey) {
  server_.SetHandler([](const testing::RecordedRequest& req) {
    json body = {{"type", "error"},
                 {"error",
                  {{"type", "authentication_error"},
                   {"message", "invalid x-api-key: " + req.Header("x-api-key")}}}};
    return Reply::Json(body, 401);
  });
  AnthropicProvider provider(Options());
  ApplicationError e = Fail(provider);
  EXPECT_EQ(e.Type(), kAuthenticationFailed);
  EXPECT_TRUE(e.NonRetryable());
  EXPECT_EQ(std::string(e.what()).find(kKey), std::string::npos) << e.what();
  EXPECT_NE(std::string(e.what()).find("invalid x-api-key: [REDACTED]"), std::string::npos)
      << e.what();
}

TEST_F(AnthropicProviderTest, BadRequestIsNonRetryableWithTheProvidersMessage) {
  server_.Push(
      {.status = 400,
       .body =
           R"({"type":"error","error":{"type":"invalid_request_error","message":"max_tokens: must be positive"}})"});
  AnthropicProvider provider(Options());
  ApplicationError e = Fail(provider);
  EXPECT_EQ(e.Type(), kInvalidRequest);
  EXPECT_TRUE(e.NonRetryable());
  EXPECT_STREQ(e.what(),
               "anthropic: HTTP 400 (invalid_request_error): max_tokens: must be positive");
}

TEST_F(AnthropicProviderTest, PermissionDeniedIsNonRetryable) {
  server_.Push(
      {.status = 403,
       .body = R"({"type":"error","error":{"type":"permission_error","message":"no access"}})"});
  AnthropicProvider provider(Options());
  ApplicationError e = Fail(provider);
  EXPECT_EQ(e.Type(), kPermissionDenied);
  EXPECT_TRUE(e.NonRetryable());
}

TEST_F(AnthropicProviderTest, MalformedBodyIsNonRetryable) {
  server_.Push({.body = "<html>upstream proxy error</html>"});
  AnthropicProvider provider(Options());
  ApplicationError e = Fail(provider);
  EXPECT_EQ(e.Type(), kMalformedResponse);
  EXPECT_TRUE(e.NonRetryable());
}

TEST_F(AnthropicProviderTest, StalledServerTimesOutRetryably) {
  server_.Push({.stall = true});
  AnthropicOptions options = Options();
  options.timeout = 300ms;
  AnthropicProvider provider(options);
  ApplicationError e = Fail(provider);
  EXPECT_EQ(e.Type(), kTimeout);
  EXPECT_FALSE(e.NonRetryable());
}

TEST_F(AnthropicProviderTest, MissingKeyIsAConfigurationError) {
  AnthropicOptions options = Options();
  options.env = MapEnv({});
  AnthropicProvider provider(options);
  ApplicationError e = Fail(provider);
  EXPECT_EQ(e.Type(), kConfigurationError);
  EXPECT_NE(std::string(e.what()).find("ANTHROPIC_API_KEY"), std::string::npos);
  EXPECT_TRUE(server_.Requests().empty());
}

}  // namespace
}  // namespace keel::llm
