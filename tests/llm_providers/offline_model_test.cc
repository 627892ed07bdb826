// OfflineModel: declarative rules, deterministic answers, marked as offline.
#include "llm_providers/offline_model.h"

#include <gtest/gtest.h>

#include <stdexcept>

namespace keel::llm {
namespace {

using nlohmann::json;

const ToolDefinition kLookup{
    .name = "lookup_order",
    .description = "Find an order",
    .parameters = json::parse(
        R"({"type":"object","properties":{"order_id":{"type":"string"}},"required":["order_id"]})")};
const ToolDefinition kRefund{.name = "refund", .description = "Refund an order"};

OfflineRules OrderRules() {
  return json::parse(R"js({
    "rules": [
      {"pattern": "order #?(\\d+)", "keywords": ["where", "status"],
       "call_tool": "lookup_order", "arguments": {"order_id": "{{1}}"}},
      {"after_tool": "lookup_order", "keywords": ["refund"],
       "call_tool": "refund", "arguments": {"order_id": "{{args.order_id}}", "amount": "{{result.total}}"}},
      {"after_tool": "lookup_order",
       "answer": "Order {{args.order_id}} is {{result.status}}.",
       "output": {"order": "{{args.order_id}}", "status": "{{result.status}}", "total": "{{result.total}}"}},
      {"after_tool": "refund", "answer": "Refunded: {{result}}"}
    ]
  })js")
      .get<OfflineRules>();
}

TEST(OfflineModelTest, KeywordAndPatternBecomeAToolCall) {
  OfflineModel model(OrderRules());
  ChatResponse r =
      model.Complete({.messages = {Message::User("Where is order #123?")}, .tools = {kLookup}});
  EXPECT_EQ(r.model, "offline");
  EXPECT_EQ(r.provider, "offline");
  EXPECT_EQ(r.finish_reason, FinishReason::kToolCalls);
  ASSERT_EQ(r.ToolCalls().size(), 1u);
  EXPECT_EQ(r.ToolCalls()[0], (ToolCall{.id = "offline_call_1",
                                        .name = "lookup_order",
                                        .arguments = {{"order_id", "123"}}}));
}

TEST(OfflineModelTest, ToolResultBecomesTheAnswer) {
  OfflineModel model(OrderRules());
  ChatRequest request{
      .messages = {Message::User("Where is order 123?"),
                   Message::Assistant(
                       "",
                       {{.id = "c1", .name = "lookup_order", .arguments = {{"order_id", "123"}}}}),
                   Message::ToolResult("c1", "lookup_order",
                                       R"({"status":"shipped","total":42.5})")},
      .tools = {kLookup}};
  ChatResponse r = model.Complete(request);
  EXPECT_EQ(r.Text(), "[offline model] Order 123 is shipped.");
  EXPECT_EQ(r.finish_reason, FinishReason::kStop);
  EXPECT_TRUE(r.ToolCalls().empty());
}

TEST(OfflineModelTest, ToolResultCanLeadToTheNextCallWithTypedArguments) {
  OfflineModel model(OrderRules());
  ChatRequest request{
      .messages = {Message::User("Refund order 9 please"),
                   Message::Assistant(
                       "",
                       {{.id = "c1", .name = "lookup_order", .arguments = {{"order_id", "9"}}}}),
                   Message::ToolResult("c1", "", R"({"status":"delivered","total":42.5})")},
      .tools = {kLookup, kRefund}};
  ChatResponse r = model.Complete(request);
  ASSERT_EQ(r.ToolCalls().size(), 1u);
  EXPECT_EQ(r.ToolCalls()[0].name, "refund");
  EXPECT_EQ(r.ToolCalls()[0].id, "offline_call_2");
  EXPECT_EQ(r.ToolCalls()[0].arguments, json::parse(R"({"order_id":"9","amount":42.5})"));
}

TEST(OfflineModelTest, StructuredOutputFromTheTemplate) {
  OfflineModel model(OrderRules());
  ChatRequest request{
      .messages = {Message::User("Where is order 5?"),
                   Message::Assistant(
                       "",
                       {{.id = "c1", .name = "lookup_order", .arguments = {{"order_id", "5"}}}}),
                   Message::ToolResult("c1", "lookup_order", R"({"status":"packed","total":3})")},
      .output_schema = OutputSchema{.schema = {{"type", "object"}}}};
  EXPECT_EQ(model.Complete(request).JsonOutput(),
            json::parse(R"({"order":"5","status":"packed","total":3})"));
}

TEST(OfflineModelTest, StructuredOutputWithoutATemplateFollowsTheSchema) {
  OfflineModel model;
  json schema = json::parse(R"({"type":"object","properties":{
      "risk": {"type": "string", "enum": ["low", "high"]},
      "score": {"type": "number", "minimum": 0.5},
      "count": {"type": "integer"},
      "flags": {"type": "array", "items": {"type": "string"}, "minItems": 1},
      "note": {"type": ["string", "null"]},
      "item": {"$ref": "#/$defs/Item"}},
      "$defs": {"Item": {"type": "object", "properties": {"ok": {"type": "boolean"}}}}})");
  ChatResponse r = model.Complete(
      {.messages = {Message::User("rate")}, .output_schema = OutputSchema{.schema = schema}});
  EXPECT_EQ(r.JsonOutput(), json::parse(R"({"risk":"low","score":0.5,"count":0,"flags":["offline"],
                                            "note":"offline","item":{"ok":false}})"));
  EXPECT_EQ(r.model, "offline");
}

TEST(OfflineModelTest, ToolsNotOfferedAreNeverCalled) {
  OfflineModel model(OrderRules());
  ChatResponse r = model.Complete({.messages = {Message::User("Where is order 123?")}});
  EXPECT_TRUE(r.ToolCalls().empty());
  EXPECT_EQ(r.Text(), "[offline model] I have no rule for that. You said: Where is order 123?");
}

TEST(OfflineModelTest, DefaultRulesCallANamedToolAndReportItsResult) {
  OfflineModel model;
  const ToolDefinition weather{
      .name = "get_weather",
      .parameters = json::parse(
          R"({"type":"object","properties":{"city":{"type":"string","default":"Paris"}}})")};
  ChatResponse first = model.Complete(
      {.messages = {Message::User("Please get weather for me")}, .tools = {weather}});
  ASSERT_EQ(first.ToolCalls().size(), 1u);
  EXPECT_EQ(first.ToolCalls()[0].arguments, json::parse(R"({"city":"Paris"})"));
  ChatResponse second = model.Complete(
      {.messages = {Message::User("Please get weather for me"), first.message,
                    Message::ToolResult(first.ToolCalls()[0].id, "get_weather", "sunny")},
       .tools = {weather}});
  EXPECT_EQ(second.Text(), "[offline model] The get_weather tool returned: sunny");
}

TEST(OfflineModelTest, AnswersAreDeterministic) {
  OfflineModel model(OrderRules());
  ChatRequest request{.messages = {Message::System("s"), Message::User("Where is order 77?")},
                      .tools = {kLookup}};
  ChatResponse a = model.Complete(request);
  ChatResponse b = OfflineModel(OrderRules()).Complete(request);
  EXPECT_EQ(a, b);
  EXPECT_GT(a.usage.input_tokens, 0);
  EXPECT_GT(a.usage.output_tokens, 0);
  EXPECT_EQ(a.cost.usd, 0);
}

TEST(OfflineModelTest, RulesRoundTripThroughJson) {
  OfflineRules rules = OrderRules();
  EXPECT_EQ(json(rules).get<OfflineRules>(), rules);
}

TEST(OfflineModelTest, BadPatternIsRejectedAtConstruction) {
  OfflineRules rules;
  rules.rules.push_back({.pattern = "order (\\d+", .answer = "x"});
  EXPECT_THROW(OfflineModel{rules}, std::invalid_argument);
}

}  // namespace
}  // namespace keel::llm
