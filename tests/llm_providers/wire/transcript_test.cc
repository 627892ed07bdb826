// The canonical transcript is provider-neutral: a conversation recorded from one
// provider's responses (stored as JSON, as in a history) converts to a valid request for
// the other, so a recorded run can be replayed or forked onto another provider.
#include <gtest/gtest.h>

#include <set>

#include "llm_providers/chat.h"
#include "llm_providers/wire/anthropic_wire.h"
#include "llm_providers/wire/openai_wire.h"

namespace keel::llm::wire {
namespace {

using nlohmann::json;

// What the Messages API requires of a conversation: user first, roles alternating, each
// tool_use answered by a tool_result at the start of the next user message.
void ExpectValidAnthropic(const json& body) {
  const json& messages = body.at("messages");
  ASSERT_FALSE(messages.empty());
  EXPECT_EQ(messages[0]["role"], "user");
  for (size_t i = 0; i < messages.size(); ++i) {
    if (i > 0) {
      EXPECT_NE(messages[i]["role"], messages[i - 1]["role"]) << "message " << i;
    }
    std::vector<std::string> uses;
    for (const auto& block : messages[i]["content"]) {
      if (block["type"] == "tool_use") {
        EXPECT_TRUE(block["input"].is_object());
        uses.push_back(block["id"]);
      }
      if (block["type"] == "text") {
        EXPECT_FALSE(block["text"].get<std::string>().empty());
      }
    }
    if (uses.empty()) continue;
    ASSERT_LT(i + 1, messages.size()) << "tool_use without results";
    const json& next = messages[i + 1]["content"];
    ASSERT_GE(next.size(), uses.size());
    for (size_t k = 0; k < uses.size(); ++k) {
      EXPECT_EQ(next[k]["type"], "tool_result");
      EXPECT_EQ(next[k]["tool_use_id"], uses[k]);
    }
  }
}

// What Chat Completions requires: every tool call answered by a `tool` message (right
// after the assistant message) and arguments sent as strings.
void ExpectValidOpenAI(const json& body) {
  const json& messages = body.at("messages");
  for (size_t i = 0; i < messages.size(); ++i) {
    if (!messages[i].contains("tool_calls")) continue;
    std::set<std::string> open;
    for (const auto& call : messages[i]["tool_calls"]) {
      EXPECT_EQ(call["type"], "function");
      EXPECT_TRUE(call["function"]["arguments"].is_string());
      open.insert(call["id"]);
    }
    size_t j = i + 1;
    for (; j < messages.size() && messages[j]["role"] == "tool"; ++j) {
      EXPECT_EQ(open.erase(messages[j]["tool_call_id"]), 1u) << "stray result at " << j;
    }
    EXPECT_TRUE(open.empty()) << "unanswered tool calls after message " << i;
  }
}

// A history stores the transcript as JSON; replay reads it back.
std::vector<Message> Recorded(const std::vector<Message>& messages) {
  return json(messages).get<std::vector<Message>>();
}

TEST(TranscriptTest, ConversationRecordedFromOpenAIBecomesAValidAnthropicRequest) {
  std::vector<Message> t = {Message::System("You are a travel agent."),
                            Message::User("Weather in Paris and Rome?")};
  ChatResponse first = FromOpenAIResponse(json::parse(R"({
    "id": "chatcmpl-1", "model": "gpt-4o",
    "choices": [{"finish_reason": "tool_calls", "message": {"role": "assistant", "content": null,
      "tool_calls": [
        {"id": "call_Pa1", "type": "function", "function": {"name": "get_weather", "arguments": "{\n  \"city\": \"Paris\"\n}"}},
        {"id": "call_Ro2", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\":\"Rome\",\"units\":\"C\"}"}}
      ]}}]})"));
  t.push_back(first.message);
  t.push_back(Message::ToolResult("call_Pa1", "get_weather", "18C"));
  t.push_back(Message::ToolResult("call_Ro2", "get_weather", "24C"));
  ChatResponse second = FromOpenAIResponse(json::parse(R"({"model": "gpt-4o",
    "choices": [{"finish_reason": "stop", "message": {"role": "assistant", "content": "Paris 18C, Rome 24C."}}]})"));
  t.push_back(second.message);
  t.push_back(Message::User("Which is warmer?"));

  ChatRequest fork{.messages = Recorded(t)};
  json body = ToAnthropicRequest(fork, "claude-sonnet-4-5", {});
  ExpectValidAnthropic(body);
  EXPECT_EQ(body["system"], "You are a travel agent.");
  EXPECT_EQ(body["messages"], json::parse(R"([
    {"role": "user", "content": [{"type": "text", "text": "Weather in Paris and Rome?"}]},
    {"role": "assistant", "content": [
      {"type": "tool_use", "id": "call_Pa1", "name": "get_weather", "input": {"city": "Paris"}},
      {"type": "tool_use", "id": "call_Ro2", "name": "get_weather", "input": {"city": "Rome", "units": "C"}}]},
    {"role": "user", "content": [
      {"type": "tool_result", "tool_use_id": "call_Pa1", "content": "18C"},
      {"type": "tool_result", "tool_use_id": "call_Ro2", "content": "24C"}]},
    {"role": "assistant", "content": [{"type": "text", "text": "Paris 18C, Rome 24C."}]},
    {"role": "user", "content": [{"type": "text", "text": "Which is warmer?"}]}
  ])"));

  // Back on OpenAI, the recorded argument strings are re-encoded canonically.
  json again = ToOpenAIRequest(fork, "gpt-4o", {});
  ExpectValidOpenAI(again);
  EXPECT_EQ(again["messages"][2]["tool_calls"][0]["function"]["arguments"], R"({"city":"Paris"})");
}

TEST(TranscriptTest, ConversationRecordedFromAnthropicBecomesAValidOpenAIRequest) {
  std::vector<Message> t = {Message::System("You are a shop assistant."),
                            Message::User("Refund order 42 and email me.")};
  ChatResponse first = FromAnthropicResponse(json::parse(R"({
    "id": "msg_1", "model": "claude-sonnet-4-5", "stop_reason": "tool_use",
    "content": [
      {"type": "text", "text": "I'll do both."},
      {"type": "tool_use", "id": "toolu_01A", "name": "refund", "input": {"order": 42, "reason": {"code": "late"}}},
      {"type": "tool_use", "id": "toolu_01B", "name": "send_email", "input": {}}
    ]})"),
                                             "");
  t.push_back(first.message);
  // Results recorded in the order the tools finished, not the order they were called.
  t.push_back(Message::ToolResult("toolu_01B", "send_email", "sent"));
  t.push_back(Message::ToolResult("toolu_01A", "refund", "card declined", /*is_error=*/true));
  ChatResponse second = FromAnthropicResponse(json::parse(R"({"stop_reason": "end_turn",
    "content": [{"type": "text", "text": "The email went out; the refund failed."}]})"),
                                              "");
  t.push_back(second.message);

  ChatRequest fork{.messages = Recorded(t)};
  json body = ToOpenAIRequest(fork, "gpt-4o", {});
  ExpectValidOpenAI(body);
  EXPECT_EQ(body["messages"], json::parse(R"([
    {"role": "system", "content": "You are a shop assistant."},
    {"role": "user", "content": "Refund order 42 and email me."},
    {"role": "assistant", "content": "I'll do both.", "tool_calls": [
      {"id": "toolu_01A", "type": "function", "function": {"name": "refund", "arguments": "{\"order\":42,\"reason\":{\"code\":\"late\"}}"}},
      {"id": "toolu_01B", "type": "function", "function": {"name": "send_email", "arguments": "{}"}}]},
    {"role": "tool", "tool_call_id": "toolu_01B", "content": "sent"},
    {"role": "tool", "tool_call_id": "toolu_01A", "content": "card declined"},
    {"role": "assistant", "content": "The email went out; the refund failed."}
  ])"));

  // And back to Anthropic, the results (recorded as the tools finished) answer the calls
  // in call order inside one user message.
  json anthropic = ToAnthropicRequest(fork, "claude-sonnet-4-5", {});
  ExpectValidAnthropic(anthropic);
  EXPECT_EQ(anthropic["messages"][2]["content"], json::parse(R"([
    {"type": "tool_result", "tool_use_id": "toolu_01A", "content": "card declined", "is_error": true},
    {"type": "tool_result", "tool_use_id": "toolu_01B", "content": "sent"}])"));
}

// A recorded OpenAI conversation, as the wire carried it (arguments as compact strings).
const char* kRecordedOpenAI = R"([
  {"role": "system", "content": "You are a travel agent."},
  {"role": "user", "content": "Weather in Paris and Rome?"},
  {"role": "assistant", "content": null, "tool_calls": [
    {"id": "call_Pa1", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}},
    {"id": "call_Ro2", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\":\"Rome\",\"units\":\"C\"}"}}]},
  {"role": "tool", "tool_call_id": "call_Pa1", "content": "18C"},
  {"role": "tool", "tool_call_id": "call_Ro2", "content": "24C"},
  {"role": "assistant", "content": "Paris 18C, Rome 24C. Shall I book?", "tool_calls": [
    {"id": "call_Bk3", "type": "function", "function": {"name": "book", "arguments": "{\"city\":\"Rome\",\"nights\":2}"}}]},
  {"role": "tool", "tool_call_id": "call_Bk3", "content": "booked"},
  {"role": "assistant", "content": "Booked two nights in Rome."},
  {"role": "user", "content": "Thanks!"}
])";

TEST(TranscriptTest, RecordedOpenAIConversationGoesToAnthropicAndBackUnchanged) {
  const std::vector<Message> canonical = FromOpenAIMessages(json::parse(kRecordedOpenAI));
  ASSERT_EQ(canonical.size(), 9u);
  EXPECT_EQ(canonical[3].tool_name, "get_weather");
  EXPECT_EQ(canonical[5].tool_calls.at(0).arguments, json::parse(R"({"city":"Rome","nights":2})"));

  // Stored in a history, read back, sent to Anthropic.
  const json anthropic =
      ToAnthropicRequest({.messages = Recorded(canonical)}, "claude-sonnet-4-5", {});
  ExpectValidAnthropic(anthropic);
  ASSERT_EQ(anthropic["messages"].size(), 7u);  // results merged into user turns
  EXPECT_EQ(anthropic["messages"][2]["content"], json::parse(R"([
    {"type": "tool_result", "tool_use_id": "call_Pa1", "content": "18C"},
    {"type": "tool_result", "tool_use_id": "call_Ro2", "content": "24C"}])"));
  EXPECT_EQ(anthropic["messages"][3]["content"], json::parse(R"([
    {"type": "text", "text": "Paris 18C, Rome 24C. Shall I book?"},
    {"type": "tool_use", "id": "call_Bk3", "name": "book", "input": {"city": "Rome", "nights": 2}}])"));

  // Read back from Anthropic's wire: the same transcript, ids, argument objects, tool
  // names and result order included; and on to OpenAI: the recorded messages exactly.
  const std::vector<Message> back =
      FromAnthropicMessages(anthropic["system"], anthropic["messages"]);
  EXPECT_EQ(back, canonical);
  EXPECT_EQ(ToOpenAIMessages(back), json::parse(kRecordedOpenAI));
  ExpectValidOpenAI(ToOpenAIRequest({.messages = back}, "gpt-4o", {}));
}

TEST(TranscriptTest, RecordedAnthropicConversationGoesToOpenAIAndBack) {
  const json system = "You are a shop assistant.";
  const json recorded = json::parse(R"([
    {"role": "user", "content": [{"type": "text", "text": "Refund order 42 and email me."}]},
    {"role": "assistant", "content": [
      {"type": "text", "text": "I'll do both."},
      {"type": "tool_use", "id": "toolu_01A", "name": "refund", "input": {"order": 42, "reason": {"code": "late"}}},
      {"type": "tool_use", "id": "toolu_01B", "name": "send_email", "input": {}}]},
    {"role": "user", "content": [
      {"type": "tool_result", "tool_use_id": "toolu_01A", "content": "card declined", "is_error": true},
      {"type": "tool_result", "tool_use_id": "toolu_01B", "content": "sent"},
      {"type": "text", "text": "Try again tomorrow."}]},
    {"role": "assistant", "content": [{"type": "text", "text": "Noted."}]}
  ])");
  const std::vector<Message> canonical = FromAnthropicMessages(system, recorded);
  EXPECT_EQ(canonical[3].tool_name, "refund");
  EXPECT_TRUE(canonical[3].is_error);

  const json openai = ToOpenAIMessages(Recorded(canonical));
  ExpectValidOpenAI({{"messages", openai}});
  std::vector<Message> back = FromOpenAIMessages(openai);
  // OpenAI has no error flag on a tool message: the only thing its wire cannot carry.
  ASSERT_EQ(back.size(), canonical.size());
  EXPECT_FALSE(back[3].is_error);
  back[3].is_error = true;
  EXPECT_EQ(back, canonical);

  const json anthropic = ToAnthropicRequest({.messages = back}, "claude-sonnet-4-5", {});
  EXPECT_EQ(anthropic["system"], system);
  EXPECT_EQ(anthropic["messages"], recorded);
}

TEST(TranscriptTest, ArgumentsThatWereNotJsonSurviveTheRoundTripToOpenAI) {
  ChatResponse r = FromOpenAIResponse(json::parse(R"({"choices": [{"finish_reason": "tool_calls",
    "message": {"role": "assistant", "content": null, "tool_calls": [
      {"id": "call_1", "type": "function", "function": {"name": "t", "arguments": "{\"a\": 1"}}]}}]})"));
  std::vector<Message> t =
      Recorded({Message::User("go"), r.message, Message::ToolResult("call_1", "t", "bad json")});
  json openai = ToOpenAIRequest({.messages = t}, "gpt-4o", {});
  EXPECT_EQ(openai["messages"][1]["tool_calls"][0]["function"]["arguments"], "{\"a\": 1");
  json anthropic = ToAnthropicRequest({.messages = t}, "claude-sonnet-4-5", {});
  ExpectValidAnthropic(anthropic);
  EXPECT_EQ(anthropic["messages"][1]["content"][0]["input"], json::object());
}

TEST(TranscriptTest, IdsAnthropicWouldRejectAreRewrittenConsistently) {
  std::vector<Message> t = {Message::User("go"),
                            Message::Assistant("", {{.id = "call:1/x", .name = "t"}}),
                            Message::ToolResult("call:1/x", "t", "ok")};
  json body = ToAnthropicRequest({.messages = t}, "m", {});
  ExpectValidAnthropic(body);
  EXPECT_EQ(body["messages"][1]["content"][0]["id"], "call_1_x");
  EXPECT_EQ(body["messages"][2]["content"][0]["tool_use_id"], "call_1_x");
}

}  // namespace
}  // namespace keel::llm::wire
