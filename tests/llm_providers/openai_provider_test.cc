// OpenAIProvider against a FakeServer on 127.0.0.1 that speaks Chat Completions: the
// exact request JSON and headers, tool calls, structured output, and every failure the
// engine must classify (429 + Retry-After, 500, 401, 404, malformed JSON, a stall).
#include "llm_providers/openai_provider.h"

#include <gtest/gtest.h>

#include "llm_providers/model_spec.h"
#include "llm_providers/provider_errors.h"
#include "tests/llm_providers/fake_server.h"

namespace keel::llm {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
using testing::FakeServer;
using testing::Reply;

constexpr char kKey[] = "sk-test-4f9a8b7c6d5e";

const char* kToolCallReply = R"({
  "id": "chatcmpl-7", "object": "chat.completion", "model": "gpt-4o-mini-2024-07-18",
  "choices": [{"index": 0, "finish_reason": "tool_calls", "message": {"role": "assistant", "content": null,
    "tool_calls": [{"id": "call_w1", "type": "function",
                    "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}}]}}],
  "usage": {"prompt_tokens": 1000, "completion_tokens": 100, "prompt_tokens_details": {"cached_tokens": 400}}
})";

class OpenAIProviderTest : public ::testing::Test {
 protected:
  OpenAIOptions Options() {
    return {.model = "gpt-4o-mini",
            .base_url = server_.Url() + "/v1",
            .env = MapEnv({{"OPENAI_API_KEY", kKey}}),
            .clock = &clock_};
  }

  // Runs one request expecting a failure; returns it.
  ApplicationError Fail(OpenAIProvider& provider) {
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

TEST_F(OpenAIProviderTest, SendsTheExactRequestAndParsesToolCalls) {
  server_.Push({.body = kToolCallReply,
                .headers = {{"x-ratelimit-limit-requests", "500"},
                            {"x-ratelimit-remaining-requests", "499"},
                            {"x-ratelimit-reset-requests", "120ms"},
                            {"x-ratelimit-remaining-tokens", "199000"}}});
  OpenAIProvider provider(Options());
  ChatRequest request{
      .messages = {Message::System("Be brief."), Message::User("Weather in Paris?")},
      .tools =
          {{.name = "get_weather",
            .description = "Current weather for a city",
            .parameters = json::parse(
                R"({"type":"object","properties":{"city":{"type":"string"}},"required":["city"]})")}},
      .sampling = {.temperature = 0, .max_tokens = 200}};
  ChatResponse r = provider.Complete(request);

  auto sent = server_.LastRequest();
  EXPECT_EQ(sent.method, "POST");
  EXPECT_EQ(sent.path, "/v1/chat/completions");
  EXPECT_EQ(sent.Header("authorization"), std::string("Bearer ") + kKey);
  EXPECT_EQ(sent.Header("content-type"), "application/json");
  EXPECT_EQ(sent.Json(), json::parse(R"({
    "model": "gpt-4o-mini",
    "messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Weather in Paris?"}],
    "tools": [{"type": "function", "function": {"name": "get_weather", "description": "Current weather for a city",
               "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}],
    "temperature": 0.0,
    "max_completion_tokens": 200
  })"));

  EXPECT_EQ(r.provider, "openai");
  EXPECT_EQ(r.model, "gpt-4o-mini-2024-07-18");
  EXPECT_EQ(r.finish_reason, FinishReason::kToolCalls);
  ASSERT_EQ(r.ToolCalls().size(), 1u);
  EXPECT_EQ(r.ToolCalls()[0],
            (ToolCall{.id = "call_w1", .name = "get_weather", .arguments = {{"city", "Paris"}}}));
  EXPECT_EQ(r.usage,
            (Usage{.input_tokens = 1000, .output_tokens = 100, .cached_input_tokens = 400}));
  // gpt-4o-mini: 600 fresh x 0.15 + 400 cached x 0.075 + 100 out x 0.60, per million.
  EXPECT_FALSE(r.cost.unknown_price);
  EXPECT_NEAR(r.cost.usd, (600 * 0.15 + 400 * 0.075 + 100 * 0.60) / 1e6, 1e-12);
  EXPECT_EQ(r.rate_limits.requests.limit, 500);
  EXPECT_EQ(r.rate_limits.requests.remaining, 499);
  EXPECT_EQ(r.rate_limits.requests.reset_after, Duration(120ms));
  EXPECT_EQ(r.rate_limits.tokens.remaining, 199000);
}

TEST_F(OpenAIProviderTest, StructuredOutput) {
  server_.Push(Reply::Json(
      json::parse(R"({"model": "gpt-4o-2024-08-06", "choices": [{"finish_reason": "stop",
      "message": {"role": "assistant", "content": "{\"risk\":\"low\",\"score\":0.1}"}}]})")));
  OpenAIProvider provider(Options());
  json schema = json::parse(
      R"({"type":"object","properties":{"risk":{"type":"string"},"score":{"type":"number"}},
                                "required":["risk","score"],"additionalProperties":false})");
  ChatResponse r =
      provider.Complete({.model = "gpt-4o",
                         .messages = {Message::User("Rate this order")},
                         .output_schema = OutputSchema{.name = "risk", .schema = schema}});
  json sent = server_.LastRequest().Json();
  EXPECT_EQ(sent["model"], "gpt-4o");
  EXPECT_EQ(sent["response_format"],
            (json{{"type", "json_schema"},
                  {"json_schema", {{"name", "risk"}, {"schema", schema}, {"strict", true}}}}));
  EXPECT_EQ(r.JsonOutput(), json::parse(R"({"risk":"low","score":0.1})"));
  EXPECT_EQ(r.finish_reason, FinishReason::kStop);
}

TEST_F(OpenAIProviderTest, RateLimitedIsRetryableWithTheServersDelay) {
  server_.Push(
      {.status = 429,
       .body =
           R"({"error":{"message":"Rate limit reached for gpt-4o-mini","type":"requests","code":"rate_limit_exceeded"}})",
       .headers = {{"Retry-After", "7"}, {"x-ratelimit-remaining-requests", "0"}}});
  OpenAIProvider provider(Options());
  ApplicationError e = Fail(provider);
  EXPECT_EQ(e.Type(), kRateLimited);
  EXPECT_FALSE(e.NonRetryable());
  EXPECT_EQ(e.NextRetryDelay(), Duration(7s));
  EXPECT_NE(std::string(e.what()).find("Rate limit reached for gpt-4o-mini"), std::string::npos)
      << e.what();
  EXPECT_EQ(ErrorInfo(e)->rate_limits.requests.remaining, 0);
}

TEST_F(OpenAIProviderTest, RetryAfterAsAnHttpDateUsesTheInjectedClock) {
  server_.Push(
      {.status = 429, .body = "{}", .headers = {{"Retry-After", "Thu, 01 Jan 2026 00:01:30 GMT"}}});
  OpenAIProvider provider(Options());
  EXPECT_EQ(Fail(provider).NextRetryDelay(), Duration(90s));
}

TEST_F(OpenAIProviderTest, ServerErrorIsRetryable) {
  server_.Push(
      {.status = 500,
       .body = R"({"error":{"message":"The server had an error","type":"server_error"}})"});
  OpenAIProvider provider(Options());
  ApplicationError e = Fail(provider);
  EXPECT_EQ(e.Type(), kProviderUnavailable);
  EXPECT_FALSE(e.NonRetryable());
  EXPECT_FALSE(e.NextRetryDelay());
}

TEST_F(OpenAIProviderTest, UnauthorizedIsNonRetryableAndNeverShowsTheKey) {
  // The server echoes the Authorization header back, as a careless proxy might.
  server_.SetHandler([](const testing::RecordedRequest& req) {
    json body = {{"error",
                  {{"message", "Incorrect API key provided: " + req.Header("authorization")},
                   {"type", "invalid_request_error"},
                   {"code", "invalid_api_key"}}}};
    return Reply::Json(body, 401);
  });
  OpenAIProvider provider(Options());
  ApplicationError e = Fail(provider);
  EXPECT_EQ(e.Type(), kAuthenticationFailed);
  EXPECT_TRUE(e.NonRetryable());
  const std::string text = e.what();
  EXPECT_EQ(text.find(kKey), std::string::npos) << text;
  EXPECT_NE(text.find("Incorrect API key provided: Bearer [REDACTED]"), std::string::npos) << text;
  EXPECT_EQ(PayloadPreview(e.Details().at(0), 10000).find(kKey), std::string::npos);
}

TEST_F(OpenAIProviderTest, UnknownModelIsNotFound) {
  server_.Push(
      {.status = 404,
       .body =
           R"({"error":{"message":"The model `gpt-9` does not exist","type":"invalid_request_error","code":"model_not_found"}})"});
  OpenAIProvider provider(Options());
  ApplicationError e = Fail(provider);
  EXPECT_EQ(e.Type(), kNotFound);
  EXPECT_TRUE(e.NonRetryable());
  EXPECT_NE(std::string(e.what()).find("The model `gpt-9` does not exist"), std::string::npos);
}

TEST_F(OpenAIProviderTest, MalformedBodyIsNonRetryable) {
  server_.Push({.body = R"({"id": "chatcmpl-1", "choices": [{"message": )"});
  OpenAIProvider provider(Options());
  ApplicationError e = Fail(provider);
  EXPECT_EQ(e.Type(), kMalformedResponse);
  EXPECT_TRUE(e.NonRetryable());
  EXPECT_NE(std::string(e.what()).find("openai: malformed response: the body is not a JSON object"),
            std::string::npos)
      << e.what();
}

TEST_F(OpenAIProviderTest, BodyOfTheWrongShapeIsMalformed) {
  server_.Push(Reply::Json(
      json::parse(R"({"choices": [{"message": {"tool_calls": [{"function": {}}]}}]})")));
  OpenAIProvider provider(Options());
  ApplicationError e = Fail(provider);
  EXPECT_EQ(e.Type(), kMalformedResponse);
  EXPECT_TRUE(e.NonRetryable());
}

TEST_F(OpenAIProviderTest, StalledServerTimesOutRetryably) {
  server_.Push({.stall = true});
  OpenAIOptions options = Options();
  options.timeout = 300ms;
  OpenAIProvider provider(options);
  ApplicationError e = Fail(provider);
  EXPECT_EQ(e.Type(), kTimeout);
  EXPECT_FALSE(e.NonRetryable());
}

TEST_F(OpenAIProviderTest, ConnectionRefusedIsRetryable) {
  OpenAIOptions options = Options();
  server_.Stop();  // nothing listens on the port any more
  OpenAIProvider provider(options);
  ApplicationError e = Fail(provider);
  EXPECT_EQ(e.Type(), kProviderUnavailable);
  EXPECT_FALSE(e.NonRetryable());
}

TEST_F(OpenAIProviderTest, MissingKeyIsAConfigurationError) {
  OpenAIOptions options = Options();
  options.env = MapEnv({});
  OpenAIProvider provider(options);
  ApplicationError e = Fail(provider);
  EXPECT_EQ(e.Type(), kConfigurationError);
  EXPECT_TRUE(e.NonRetryable());
  EXPECT_NE(std::string(e.what()).find("OPENAI_API_KEY"), std::string::npos);
  EXPECT_TRUE(server_.Requests().empty());
}

TEST_F(OpenAIProviderTest, EachCompleteIsExactlyOneAttempt) {
  server_.Push({.status = 503, .body = "{}"});
  server_.Push({.status = 500, .body = "{}"});
  OpenAIProvider provider(Options());
  EXPECT_EQ(Fail(provider).Type(), kProviderUnavailable);
  EXPECT_EQ(server_.Requests().size(), 1u);  // no retry behind the engine's back
}

TEST_F(OpenAIProviderTest, OllamaSpecServesTheSameWireWithoutAKey) {
  server_.Push(
      Reply::Json(json::parse(R"({"model": "llama3.2", "choices": [{"finish_reason": "stop",
      "message": {"role": "assistant", "content": "Hello!"}}], "usage": {"prompt_tokens": 5, "completion_tokens": 2}})")));
  auto provider =
      NewProvider("ollama:llama3.2", {.env = MapEnv({{"OLLAMA_BASE_URL", server_.Url() + "/v1"}})});
  ASSERT_TRUE(provider.ok()) << provider.status().ToString();
  ChatResponse r =
      (*provider)->Complete({.messages = {Message::User("hi")}, .sampling = {.max_tokens = 5}});
  auto sent = server_.LastRequest();
  EXPECT_EQ(sent.path, "/v1/chat/completions");
  EXPECT_EQ(sent.Header("authorization"), "");
  EXPECT_EQ(sent.Json()["model"], "llama3.2");
  EXPECT_EQ(sent.Json()["max_tokens"], 5);
  EXPECT_EQ(r.Text(), "Hello!");
  EXPECT_EQ(r.provider, "ollama");
  EXPECT_TRUE(r.cost.unknown_price);
  EXPECT_EQ(r.cost.usd, 0);
}

}  // namespace
}  // namespace keel::llm
