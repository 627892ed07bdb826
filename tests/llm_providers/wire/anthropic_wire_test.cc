// The canonical model <-> Anthropic Messages JSON, field by field.
#include "llm_providers/wire/anthropic_wire.h"

#include <gtest/gtest.h>

#include "llm_providers/wire/wire_error.h"

namespace keel::llm::wire {
namespace {

using nlohmann::json;

ChatRequest ToolConversation() {
  ChatRequest r;
  r.messages = {
      Message::System("You are terse."),
      Message::User("Weather in Paris and Rome?"),
      Message::Assistant(
          "Let me check.",
          {{.id = "call_a", .name = "get_weather", .arguments = {{"city", "Paris"}}},
           {.id = "call.b", .name = "get_weather", .arguments = {{"city", "Rome"}}}}),
      Message::ToolResult("call_a", "get_weather", "18C"),
      Message::ToolResult("call.b", "get_weather", "unknown city", /*is_error=*/true),
      Message::User("And tomorrow?"),
  };
  r.tools = {
      {.name = "get_weather",
       .description = "Current weather",
       .parameters = {{"type", "object"}, {"properties", {{"city", {{"type", "string"}}}}}}}};
  return r;
}

TEST(AnthropicWireTest, RequestWithSystemToolsAndMergedToolResults) {
  ChatRequest r = ToolConversation();
  r.sampling = {.temperature = 0.5, .top_p = 0.9, .stop = {"END"}, .seed = 42};
  EXPECT_EQ(ToAnthropicRequest(r, "claude-sonnet-4-5", {}), json::parse(R"({
    "model": "claude-sonnet-4-5",
    "max_tokens": 4096,
    "system": "You are terse.",
    "messages": [
      {"role": "user", "content": [{"type": "text", "text": "Weather in Paris and Rome?"}]},
      {"role": "assistant", "content": [
        {"type": "text", "text": "Let me check."},
        {"type": "tool_use", "id": "call_a", "name": "get_weather", "input": {"city": "Paris"}},
        {"type": "tool_use", "id": "call_b", "name": "get_weather", "input": {"city": "Rome"}}
      ]},
      {"role": "user", "content": [
        {"type": "tool_result", "tool_use_id": "call_a", "content": "18C"},
        {"type": "tool_result", "tool_use_id": "call_b", "content": "unknown city", "is_error": true},
        {"type": "text", "text": "And tomorrow?"}
      ]}
    ],
    "tools": [{"name": "get_weather", "description": "Current weather",
               "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}}}],
    "temperature": 0.5,
    "top_p": 0.9,
    "stop_sequences": ["END"]
  })"));
}

TEST(AnthropicWireTest, SeveralSystemMessagesBecomeSystemBlocks) {
  ChatRequest r{.messages = {Message::System("a"), Message::User("hi"), Message::System("b")}};
  json body = ToAnthropicRequest(r, "m", {});
  EXPECT_EQ(body["system"],
            json::parse(R"([{"type":"text","text":"a"},{"type":"text","text":"b"}])"));
  EXPECT_EQ(body["messages"].size(), 1u);
}

TEST(AnthropicWireTest, ToolResultsGoFirstInTheirUserMessage) {
  ChatRequest r{.messages = {Message::Assistant("", {{.id = "t1", .name = "x"}}),
                             Message::User("also this"), Message::ToolResult("t1", "x", "done")}};
  json body = ToAnthropicRequest(r, "m", {});
  ASSERT_EQ(body["messages"].size(), 2u);
  EXPECT_EQ(body["messages"][1]["content"][0]["type"], "tool_result");
  EXPECT_EQ(body["messages"][1]["content"][1]["type"], "text");
}

TEST(AnthropicWireTest, ToolChoiceMapping) {
  auto choice = [](std::string c, std::optional<bool> parallel = std::nullopt) {
    ChatRequest r = ToolConversation();
    r.tool_choice = std::move(c);
    r.parallel_tool_calls = parallel;
    json body = ToAnthropicRequest(r, "m", {});
    return body.contains("tool_choice") ? body["tool_choice"] : json();
  };
  EXPECT_EQ(choice(""), json());
  EXPECT_EQ(choice("auto"), json::parse(R"({"type":"auto"})"));
  EXPECT_EQ(choice("required"), json::parse(R"({"type":"any"})"));
  EXPECT_EQ(choice("none"), json::parse(R"({"type":"none"})"));
  EXPECT_EQ(choice("get_weather"), json::parse(R"({"type":"tool","name":"get_weather"})"));
  EXPECT_EQ(choice("", false), json::parse(R"({"type":"auto","disable_parallel_tool_use":true})"));
}

TEST(AnthropicWireTest, OutputSchemaWithoutToolsForcesTheOutputTool) {
  ChatRequest r{.messages = {Message::User("Classify")},
                .output_schema = OutputSchema{.name = "verdict", .schema = {{"type", "object"}}},
                .sampling = {.max_tokens = 100}};
  json body = ToAnthropicRequest(r, "m", {});
  EXPECT_EQ(body["max_tokens"], 100);
  ASSERT_EQ(body["tools"].size(), 1u);
  EXPECT_EQ(body["tools"][0]["name"], "verdict");
  EXPECT_EQ(body["tools"][0]["input_schema"], json::parse(R"({"type":"object"})"));
  EXPECT_EQ(body["tool_choice"], json::parse(R"({"type":"tool","name":"verdict"})"));
}

TEST(AnthropicWireTest, OutputSchemaWithToolsRequiresSomeToolCall) {
  ChatRequest r = ToolConversation();
  r.output_schema = OutputSchema{.name = "verdict", .schema = {{"type", "object"}}};
  json body = ToAnthropicRequest(r, "m", {});
  EXPECT_EQ(body["tools"].size(), 2u);
  EXPECT_EQ(body["tool_choice"], json::parse(R"({"type":"any"})"));
}

TEST(AnthropicWireTest, NativeOutputSchemaUsesOutputConfig) {
  ChatRequest r{.messages = {Message::User("Classify")},
                .output_schema = OutputSchema{.name = "verdict", .schema = {{"type", "object"}}}};
  json body = ToAnthropicRequest(r, "m", {.native_structured_output = true});
  EXPECT_EQ(body["output_config"],
            json::parse(R"({"format":{"type":"json_schema","schema":{"type":"object"}}})"));
  EXPECT_FALSE(body.contains("tools"));
}

TEST(AnthropicWireTest, ResponseWithTextAndToolUse) {
  ChatResponse r = FromAnthropicResponse(json::parse(R"({
    "id": "msg_1", "type": "message", "role": "assistant", "model": "claude-sonnet-4-5-20250929",
    "content": [
      {"type": "thinking", "thinking": "...", "signature": "x"},
      {"type": "text", "text": "Checking."},
      {"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": {"city": "Paris"}}
    ],
    "stop_reason": "tool_use",
    "usage": {"input_tokens": 50, "output_tokens": 10, "cache_read_input_tokens": 30,
              "cache_creation_input_tokens": 20}
  })"),
                                         "");
  EXPECT_EQ(r.id, "msg_1");
  EXPECT_EQ(r.model, "claude-sonnet-4-5-20250929");
  EXPECT_EQ(r.Text(), "Checking.");
  ASSERT_EQ(r.ToolCalls().size(), 1u);
  EXPECT_EQ(r.ToolCalls()[0],
            (ToolCall{.id = "toolu_1", .name = "get_weather", .arguments = {{"city", "Paris"}}}));
  EXPECT_EQ(r.finish_reason, FinishReason::kToolCalls);
  EXPECT_EQ(r.raw_finish_reason, "tool_use");
  EXPECT_EQ(r.usage, (Usage{.input_tokens = 100,
                            .output_tokens = 10,
                            .cached_input_tokens = 30,
                            .cache_write_tokens = 20}));
}

TEST(AnthropicWireTest, OutputToolInputBecomesTheReplyText) {
  ChatResponse r = FromAnthropicResponse(json::parse(R"({
    "content": [{"type": "text", "text": "Here you go:"},
                {"type": "tool_use", "id": "toolu_9", "name": "verdict", "input": {"risk": "low"}}],
    "stop_reason": "tool_use"})"),
                                         "verdict");
  EXPECT_EQ(r.Text(), R"({"risk":"low"})");
  EXPECT_TRUE(r.ToolCalls().empty());
  EXPECT_EQ(r.finish_reason, FinishReason::kStop);
  EXPECT_EQ(r.JsonOutput(), json::parse(R"({"risk":"low"})"));
}

TEST(AnthropicWireTest, StopReasons) {
  auto finish = [](const char* reason) {
    json body = json::parse(R"({"content": [{"type": "text", "text": "x"}]})");
    body["stop_reason"] = reason;
    return FromAnthropicResponse(body, "").finish_reason;
  };
  EXPECT_EQ(finish("end_turn"), FinishReason::kStop);
  EXPECT_EQ(finish("stop_sequence"), FinishReason::kStop);
  EXPECT_EQ(finish("max_tokens"), FinishReason::kLength);
  EXPECT_EQ(finish("refusal"), FinishReason::kContentFilter);
  EXPECT_EQ(finish("pause_turn"), FinishReason::kUnknown);
}

TEST(AnthropicWireTest, BodiesOfAnotherShapeThrow) {
  EXPECT_THROW(
      FromAnthropicResponse(
          json::parse(R"({"type":"error","error":{"type":"api_error","message":"x"}})"), ""),
      WireError);
  EXPECT_THROW(FromAnthropicResponse(json::parse(R"({"content": "text"})"), ""), WireError);
  EXPECT_THROW(FromAnthropicResponse(json::parse(R"({"id": "msg"})"), ""), json::exception);
}

TEST(AnthropicWireTest, IdsAreSanitised) {
  EXPECT_EQ(AnthropicToolId("call_abc-1"), "call_abc-1");
  EXPECT_EQ(AnthropicToolId("call.1/2"), "call_1_2");
  EXPECT_EQ(AnthropicToolId(""), "missing_id");
}

TEST(AnthropicWireTest, MessagesImportBackToTheCanonicalForm) {
  ChatRequest r = ToolConversation();
  r.messages[2].tool_calls[1].id = "call_b";  // a valid Anthropic id survives unchanged
  r.messages[4].tool_call_id = "call_b";
  json body = ToAnthropicRequest(r, "m", {});
  EXPECT_EQ(FromAnthropicMessages(body["system"], body["messages"]), r.messages);
}

TEST(AnthropicWireTest, ToolResultsWithSeveralPartsKeepThemAndSendNoEmptyBlocks) {
  Message result = Message::ToolResult("call_a", "get_weather", "");
  result.content = {{"18C"}, {""}, {"sunny"}};
  std::vector<Message> messages = {
      Message::User("Weather?"),
      Message::Assistant("", {{.id = "call_a", .name = "get_weather"}}),
      result,
  };
  json body = ToAnthropicRequest({.messages = messages}, "m", {});
  EXPECT_EQ(body["messages"][2]["content"][0]["content"], json::parse(R"([
    {"type": "text", "text": "18C"}, {"type": "text", "text": "sunny"}])"));
  messages[2].content = {{"18C"}, {"sunny"}};
  EXPECT_EQ(FromAnthropicMessages(body["system"], body["messages"]), messages);
}

}  // namespace
}  // namespace keel::llm::wire
