// The canonical chat model: JSON round trips (it is an activity's input and result),
// canonical tool-call arguments, and the tolerant readers.
#include "llm_providers/chat.h"

#include <gtest/gtest.h>

#include "engine/errors.h"
#include "engine/payload.h"
#include "llm_providers/provider_errors.h"

namespace keel::llm {
namespace {

using nlohmann::json;

ChatRequest FullRequest() {
  ChatRequest r;
  r.model = "gpt-4o-mini";
  r.messages = {
      Message::System("Be brief."),
      Message::User("Weather in Paris?"),
      Message::Assistant("Checking.",
                         {{.id = "call_1", .name = "get_weather", .arguments = {{"city", "Paris"}}},
                          ToolCall::FromArgumentsText("call_2", "broken", "{not json")}),
      Message::ToolResult("call_1", "get_weather", "18C, cloudy"),
      Message::ToolResult("call_2", "broken", "bad arguments", /*is_error=*/true),
  };
  r.tools = {
      {.name = "get_weather",
       .description = "Current weather",
       .parameters = {{"type", "object"}, {"properties", {{"city", {{"type", "string"}}}}}}}};
  r.tool_choice = "auto";
  r.parallel_tool_calls = false;
  r.output_schema = OutputSchema{.name = "answer", .schema = {{"type", "object"}}};
  r.sampling = {.temperature = 0.2, .top_p = 0.9, .max_tokens = 100, .stop = {"END"}, .seed = 7};
  return r;
}

TEST(ChatTest, RequestRoundTripsThroughJson) {
  const ChatRequest r = FullRequest();
  EXPECT_EQ(json(r).get<ChatRequest>(), r);
  EXPECT_EQ(FromPayload<ChatRequest>(ToPayload(r)), r);
}

TEST(ChatTest, RequestJsonIsTheDocumentedShape) {
  json j = FullRequest();
  EXPECT_EQ(j["messages"][0],
            json::parse(R"({"role":"system","content":[{"type":"text","text":"Be brief."}]})"));
  EXPECT_EQ(j["messages"][2]["tool_calls"][0],
            json::parse(R"({"id":"call_1","name":"get_weather","arguments":{"city":"Paris"}})"));
  EXPECT_EQ(
      j["messages"][2]["tool_calls"][1],
      json::parse(R"({"id":"call_2","name":"broken","arguments":{},"raw_arguments":"{not json"})"));
  EXPECT_EQ(j["messages"][4],
            json::parse(R"({"role":"tool","content":[{"type":"text","text":"bad arguments"}],
                            "tool_call_id":"call_2","tool_name":"broken","is_error":true})"));
  EXPECT_EQ(
      j["sampling"],
      json::parse(R"({"temperature":0.2,"top_p":0.9,"max_tokens":100,"stop":["END"],"seed":7})"));
}

TEST(ChatTest, ResponseRoundTripsThroughJson) {
  ChatResponse r{.id = "resp_1",
                 .model = "claude-sonnet-4-5",
                 .provider = "anthropic",
                 .message = Message::Assistant(
                     "Hi", {{.id = "toolu_1", .name = "t", .arguments = {{"a", 1}}}}),
                 .finish_reason = FinishReason::kToolCalls,
                 .raw_finish_reason = "tool_use",
                 .usage = {.input_tokens = 10,
                           .output_tokens = 5,
                           .cached_input_tokens = 2,
                           .cache_write_tokens = 1,
                           .reasoning_tokens = 3},
                 .cost = {.usd = 0.25, .unknown_price = false}};
  r.rate_limits.requests = {.limit = 100, .remaining = 99, .reset_after = std::chrono::seconds(2)};
  r.rate_limits.headers["x-ratelimit-limit-requests"] = "100";
  EXPECT_EQ(json(r).get<ChatResponse>(), r);
  EXPECT_EQ(FromPayload<ChatResponse>(ToPayload(r)), r);
  EXPECT_EQ(json(r)["finish_reason"], "tool_calls");
}

TEST(ChatTest, ArgumentTextThatIsAnObjectBecomesTheCanonicalObject) {
  auto c = ToolCall::FromArgumentsText("id", "t", R"({ "b": 2, "a": [1] })");
  EXPECT_EQ(c.arguments, json::parse(R"({"a":[1],"b":2})"));
  EXPECT_TRUE(c.raw_arguments.empty());
  EXPECT_EQ(c.ArgumentsText(), R"({"a":[1],"b":2})");
}

TEST(ChatTest, EmptyArgumentTextIsAnEmptyObject) {
  auto c = ToolCall::FromArgumentsText("id", "t", "  ");
  EXPECT_EQ(c.arguments, json::object());
  EXPECT_TRUE(c.raw_arguments.empty());
}

TEST(ChatTest, ArgumentTextThatIsNotAnObjectIsKeptVerbatim) {
  for (const char* text : {"{\"a\":", "[1,2]", "42", "not json"}) {
    auto c = ToolCall::FromArgumentsText("id", "t", text);
    EXPECT_EQ(c.arguments, json::object()) << text;
    EXPECT_EQ(c.raw_arguments, text);
    EXPECT_EQ(c.ArgumentsText(), text);
  }
}

TEST(ChatTest, ReadersAcceptStringContentAndStringArguments) {
  auto m = json::parse(R"({"role":"assistant","content":"hello",
                           "tool_calls":[{"id":"c","name":"t","arguments":"{\"x\":1}"}]})")
               .get<Message>();
  EXPECT_EQ(m.Text(), "hello");
  EXPECT_EQ(m.tool_calls.at(0).arguments, json::parse(R"({"x":1})"));
}

TEST(ChatTest, UnknownRoleIsAPayloadError) {
  Payload p = JsonPayload(json::parse(R"({"role":"wizard","content":"x"})"));
  EXPECT_THROW(FromPayload<Message>(p), PayloadError);
}

TEST(ChatTest, JsonOutputParsesTheReply) {
  ChatResponse r{.message = Message::Assistant(R"({"ok":true})")};
  EXPECT_EQ(r.JsonOutput(), json::parse(R"({"ok":true})"));
}

TEST(ChatTest, JsonOutputThatIsNotJsonIsARetryableInvalidOutput) {
  ChatResponse r{.model = "m", .provider = "p", .message = Message::Assistant("Sure! {")};
  try {
    r.JsonOutput();
    FAIL() << "no exception";
  } catch (const ApplicationError& e) {
    EXPECT_EQ(e.Type(), kInvalidOutput);
    EXPECT_FALSE(e.NonRetryable());
  }
}

TEST(ChatTest, UsageAdds) {
  Usage a{.input_tokens = 1,
          .output_tokens = 2,
          .cached_input_tokens = 3,
          .cache_write_tokens = 4,
          .reasoning_tokens = 5};
  a += a;
  EXPECT_EQ(a, (Usage{.input_tokens = 2,
                      .output_tokens = 4,
                      .cached_input_tokens = 6,
                      .cache_write_tokens = 8,
                      .reasoning_tokens = 10}));
}

}  // namespace
}  // namespace keel::llm
