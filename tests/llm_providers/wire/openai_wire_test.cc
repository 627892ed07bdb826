// The canonical model <-> OpenAI Chat Completions JSON, field by field.
#include "llm_providers/wire/openai_wire.h"

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
          "", {{.id = "call_a", .name = "get_weather", .arguments = {{"city", "Paris"}}},
               ToolCall::FromArgumentsText("call_b", "get_weather", "{\"city\": \"Rome\"")}),
      Message::ToolResult("call_a", "get_weather", "18C"),
      Message::ToolResult("call_b", "get_weather", "bad arguments", /*is_error=*/true),
  };
  r.tools = {
      {.name = "get_weather",
       .description = "Current weather",
       .parameters = {{"type", "object"}, {"properties", {{"city", {{"type", "string"}}}}}}}};
  return r;
}

TEST(OpenAIWireTest, RequestWithToolsAndToolResults) {
  ChatRequest r = ToolConversation();
  r.tool_choice = "required";
  r.parallel_tool_calls = true;
  r.sampling = {.temperature = 0.5, .max_tokens = 64, .stop = {"\n\n"}, .seed = 42};
  EXPECT_EQ(ToOpenAIRequest(r, "gpt-4o-mini", {}), json::parse(R"({
    "model": "gpt-4o-mini",
    "messages": [
      {"role": "system", "content": "You are terse."},
      {"role": "user", "content": "Weather in Paris and Rome?"},
      {"role": "assistant", "content": null, "tool_calls": [
        {"id": "call_a", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}},
        {"id": "call_b", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\": \"Rome\""}}
      ]},
      {"role": "tool", "tool_call_id": "call_a", "content": "18C"},
      {"role": "tool", "tool_call_id": "call_b", "content": "bad arguments"}
    ],
    "tools": [{"type": "function", "function": {"name": "get_weather", "description": "Current weather",
               "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}}],
    "tool_choice": "required",
    "parallel_tool_calls": true,
    "temperature": 0.5,
    "max_completion_tokens": 64,
    "stop": ["\n\n"],
    "seed": 42
  })"));
}

TEST(OpenAIWireTest, NamedToolChoiceAndMaxTokensFieldForCompatibleServers) {
  ChatRequest r = ToolConversation();
  r.tool_choice = "get_weather";
  r.sampling.max_tokens = 10;
  json body = ToOpenAIRequest(r, "llama3.2", {.max_tokens_field = "max_tokens"});
  EXPECT_EQ(body["tool_choice"],
            json::parse(R"({"type":"function","function":{"name":"get_weather"}})"));
  EXPECT_EQ(body["max_tokens"], 10);
  EXPECT_FALSE(body.contains("max_completion_tokens"));
}

TEST(OpenAIWireTest, OutputSchemaBecomesResponseFormat) {
  ChatRequest r{.messages = {Message::User("Classify")},
                .output_schema = OutputSchema{
                    .name = "verdict", .schema = {{"type", "object"}}, .strict = true}};
  json body = ToOpenAIRequest(r, "gpt-4o", {});
  EXPECT_EQ(body["response_format"], json::parse(R"({"type":"json_schema",
      "json_schema":{"name":"verdict","schema":{"type":"object"},"strict":true}})"));
  EXPECT_FALSE(body.contains("tools"));
  EXPECT_FALSE(body.contains("tool_choice"));
}

TEST(OpenAIWireTest, SeveralTextPartsBecomeAnArrayOfParts) {
  Message m{.role = Role::kUser, .content = {{"a"}, {"b"}}};
  EXPECT_EQ(ToOpenAIMessages({m})[0]["content"],
            json::parse(R"([{"type":"text","text":"a"},{"type":"text","text":"b"}])"));
}

TEST(OpenAIWireTest, ResponseWithToolCalls) {
  ChatResponse r = FromOpenAIResponse(json::parse(R"({
    "id": "chatcmpl-1", "object": "chat.completion", "model": "gpt-4o-mini-2024-07-18",
    "choices": [{"index": 0, "finish_reason": "tool_calls", "message": {
      "role": "assistant", "content": null,
      "tool_calls": [
        {"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}},
        {"id": "call_2", "type": "function", "function": {"name": "lookup", "arguments": "{oops"}}
      ]}}],
    "usage": {"prompt_tokens": 100, "completion_tokens": 20, "total_tokens": 120,
              "prompt_tokens_details": {"cached_tokens": 64},
              "completion_tokens_details": {"reasoning_tokens": 8}}
  })"));
  EXPECT_EQ(r.id, "chatcmpl-1");
  EXPECT_EQ(r.model, "gpt-4o-mini-2024-07-18");
  EXPECT_EQ(r.finish_reason, FinishReason::kToolCalls);
  EXPECT_EQ(r.raw_finish_reason, "tool_calls");
  EXPECT_TRUE(r.message.content.empty());
  ASSERT_EQ(r.ToolCalls().size(), 2u);
  EXPECT_EQ(r.ToolCalls()[0],
            (ToolCall{.id = "call_1", .name = "get_weather", .arguments = {{"city", "Paris"}}}));
  EXPECT_EQ(r.ToolCalls()[1].raw_arguments, "{oops");
  EXPECT_EQ(r.usage, (Usage{.input_tokens = 100,
                            .output_tokens = 20,
                            .cached_input_tokens = 64,
                            .reasoning_tokens = 8}));
}

TEST(OpenAIWireTest, ResponseFromACompatibleServerWithoutIdsOrToolCallsFinish) {
  // Seen from local servers: object arguments, no ids, finish_reason "stop" next to calls.
  ChatResponse r = FromOpenAIResponse(json::parse(R"({
    "model": "llama3.2",
    "choices": [{"finish_reason": "stop", "message": {"role": "assistant", "content": "",
      "tool_calls": [{"function": {"name": "t", "arguments": {"x": 1}}}]}}]
  })"));
  ASSERT_EQ(r.ToolCalls().size(), 1u);
  EXPECT_EQ(r.ToolCalls()[0].id, "call_0");
  EXPECT_EQ(r.ToolCalls()[0].arguments, json::parse(R"({"x":1})"));
  EXPECT_EQ(r.finish_reason, FinishReason::kToolCalls);
  EXPECT_EQ(r.usage, Usage{});
}

TEST(OpenAIWireTest, RefusalIsContentFiltered) {
  ChatResponse r = FromOpenAIResponse(json::parse(R"({"choices": [{"finish_reason": "stop",
      "message": {"role": "assistant", "content": null, "refusal": "I can't help with that."}}]})"));
  EXPECT_EQ(r.Text(), "I can't help with that.");
  EXPECT_EQ(r.finish_reason, FinishReason::kContentFilter);
}

TEST(OpenAIWireTest, FinishReasons) {
  auto finish = [](const char* reason) {
    json body = json::parse(R"({"choices": [{"message": {"content": "x"}}]})");
    body["choices"][0]["finish_reason"] = reason;
    return FromOpenAIResponse(body).finish_reason;
  };
  EXPECT_EQ(finish("stop"), FinishReason::kStop);
  EXPECT_EQ(finish("length"), FinishReason::kLength);
  EXPECT_EQ(finish("content_filter"), FinishReason::kContentFilter);
  EXPECT_EQ(finish("something_new"), FinishReason::kUnknown);
}

TEST(OpenAIWireTest, BodiesOfAnotherShapeThrow) {
  EXPECT_THROW(FromOpenAIResponse(json::parse(R"({"choices": []})")), WireError);
  EXPECT_THROW(FromOpenAIResponse(json::parse(R"({"error": {"message": "model is loading"}})")),
               WireError);
  EXPECT_THROW(FromOpenAIResponse(json::parse(R"({"choices": [{"message": 5}]})")), WireError);
  EXPECT_THROW(FromOpenAIResponse(json::parse(R"({"result": "hi"})")), json::exception);
}

TEST(OpenAIWireTest, MessagesImportBackToTheCanonicalForm) {
  ChatRequest r = ToolConversation();
  std::vector<Message> back = FromOpenAIMessages(ToOpenAIMessages(r.messages));
  // OpenAI has no is_error flag: that is the only thing the round trip loses.
  r.messages[4].is_error = false;
  EXPECT_EQ(back, r.messages);
}

}  // namespace
}  // namespace keel::llm::wire
