// The "From code" examples of docs/providers/*.md, copied verbatim: the network ones are
// compiled (so the pages keep up with the API), the offline one runs and must do what its
// page says.
#include <gtest/gtest.h>

#include <cstdio>
#include <string>

#include "llm_providers/anthropic_provider.h"
#include "llm_providers/model_spec.h"
#include "llm_providers/offline_model.h"
#include "llm_providers/openai_provider.h"

namespace {

// docs/providers/openai.md
[[maybe_unused]] void OpenAIPage() {
  keel::llm::OpenAIProvider gpt({.model = "gpt-4o-mini"});  // key from OPENAI_API_KEY

  keel::llm::ChatRequest request{
      .messages = {keel::llm::Message::User("Weather in Paris?")},
      .tools = {{.name = "get_weather",
                 .description = "Current weather for a city",
                 .parameters = {{"type", "object"},
                                {"properties", {{"city", {{"type", "string"}}}}},
                                {"required", {"city"}}}}}};
  keel::llm::ChatResponse reply = gpt.Complete(request);  // throws keel::ApplicationError
  for (const auto& call : reply.ToolCalls()) {
    std::printf("%s(%s)\n", call.name.c_str(),
                call.arguments.dump().c_str());  // get_weather({"city":"Paris"})
  }
  std::printf("%lld tokens in, $%.6f\n", static_cast<long long>(reply.usage.input_tokens),
              reply.cost.usd);

  keel::llm::OpenAIProvider local({.model = "Qwen/Qwen2.5-7B-Instruct",
                                   .base_url = "http://127.0.0.1:8000/v1",
                                   .require_api_key = false,
                                   .provider_name = "vllm",
                                   .max_tokens_field = "max_tokens"});
}

// docs/providers/anthropic.md
[[maybe_unused]] void AnthropicPage() {
  keel::llm::AnthropicProvider claude(
      {.model = "claude-sonnet-4-5"});  // key from ANTHROPIC_API_KEY

  nlohmann::json schema = {{"type", "object"},
                           {"properties", {{"risk", {{"enum", {"low", "high"}}}}}},
                           {"required", {"risk"}}};
  keel::llm::ChatResponse reply = claude.Complete(
      {.messages = {keel::llm::Message::System("You screen orders."),
                    keel::llm::Message::User("Order 7: new card, express shipping, 40 items.")},
       .output_schema = keel::llm::OutputSchema{.name = "risk", .schema = schema},
       .sampling = {.max_tokens = 300}});
  std::string risk = reply.JsonOutput()["risk"];  // "low" or "high"
}

// docs/providers/ollama.md
[[maybe_unused]] int OllamaPage() {
  auto provider = keel::llm::NewProvider("ollama:llama3.2");  // or KEEL_MODEL=ollama:llama3.2
  if (!provider.ok()) return 1;
  keel::llm::ChatResponse reply =
      (*provider)->Complete({.messages = {keel::llm::Message::User("Name three prime numbers.")},
                             .sampling = {.temperature = 0, .max_tokens = 100}});
  std::puts(reply.Text().c_str());
  return 0;
}

// docs/providers/offline.md
TEST(ProviderDocsTest, TheOfflinePagesRulesDoWhatThePageSays) {
  keel::llm::OfflineRules rules = nlohmann::json::parse(R"js({
  "rules": [
    {"pattern": "order #?(\\d+)", "keywords": ["where", "status"],
     "call_tool": "lookup_order", "arguments": {"order_id": "{{1}}"}},
    {"after_tool": "lookup_order", "keywords": ["refund"],
     "call_tool": "refund", "arguments": {"order_id": "{{args.order_id}}", "amount": "{{result.total}}"}},
    {"after_tool": "lookup_order",
     "answer": "Order {{args.order_id}} is {{result.status}}.",
     "output": {"order": "{{args.order_id}}", "status": "{{result.status}}"}},
    {"after_tool": "*", "answer": "The {{tool}} tool returned: {{result}}"}
  ]
})js");
  keel::llm::OfflineModel model(rules);

  using keel::llm::Message;
  const std::vector<keel::llm::ToolDefinition> tools = {{.name = "lookup_order"},
                                                        {.name = "refund"}};
  auto run = [&](const std::string& question) {
    keel::llm::ChatRequest request{.messages = {Message::User(question)}, .tools = tools};
    keel::llm::ChatResponse call = model.Complete(request);
    EXPECT_EQ(call.ToolCalls().size(), 1u) << question;
    if (call.ToolCalls().empty()) return call;
    EXPECT_EQ(call.ToolCalls()[0], (keel::llm::ToolCall{.id = "offline_call_1",
                                                        .name = "lookup_order",
                                                        .arguments = {{"order_id", "123"}}}));
    request.messages.push_back(call.message);
    request.messages.push_back(Message::ToolResult("offline_call_1", "lookup_order",
                                                   R"({"status": "shipped", "total": 42.5})"));
    return model.Complete(request);
  };

  EXPECT_EQ(run("Where is order #123?").Text(), "[offline model] Order 123 is shipped.");
  keel::llm::ChatResponse refund = run("Where is order #123? I want a refund.");
  ASSERT_EQ(refund.ToolCalls().size(), 1u);
  EXPECT_EQ(refund.ToolCalls()[0].name, "refund");
  EXPECT_EQ(refund.ToolCalls()[0].arguments,
            nlohmann::json::parse(R"({"order_id": "123", "amount": 42.5})"));
}

}  // namespace
