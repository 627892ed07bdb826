// OfflineModel: a deterministic model with no network, so the examples and the demo run on
// any machine. It follows declarative rules (OfflineRules, loadable from JSON, one set per
// agent): a keyword or pattern in the user's message -> a tool call; a tool result -> an
// answer or the next call; a JSON template when an output schema is asked for. Every
// response says where it came from (provider and model "offline", text prefixed
// "[offline model]"). Immutable after construction; thread-safe.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "llm_providers/provider.h"

namespace keel::llm {

struct OfflineRule {
  // When. Without after_tool the rule looks at a conversation that ends with a user
  // message; with after_tool, at one that ends with results of that tool ("*": any).
  // keywords (any of them) and pattern (an ECMAScript regex) test the last user message,
  // case-insensitively. Conditions left empty hold.
  std::vector<std::string> keywords;
  std::string pattern;
  std::string after_tool;
  // Then: call `call_tool` with `arguments` (skipped when the request does not offer that
  // tool); otherwise answer with `answer`, or with `output` when the request has an output
  // schema (null: an example built from the schema). All are templates: {{input}},
  // {{result}}, {{result.PATH}}, {{tool}}, {{args.PATH}}, {{0}}..{{9}} (pattern captures).
  std::string call_tool;
  nlohmann::json arguments = nlohmann::json::object();
  std::string answer;
  nlohmann::json output;

  bool operator==(const OfflineRule&) const = default;
};

struct OfflineRules {
  std::vector<OfflineRule> rules;  // the first rule that matches wins
  // With no matching rule: when the last user message names an offered tool
  // ("get_weather" or "get weather"), call it with example arguments from its schema.
  bool call_named_tools = true;
  // With no matching rule and no named tool (a template, like answer).
  std::string default_answer = "I have no rule for that. You said: {{input}}";
  // Starts every text answer (never a JSON output).
  std::string text_prefix = "[offline model] ";

  // One rule: after any tool result, answer "The {{tool}} tool returned: {{result}}".
  static OfflineRules Default();

  bool operator==(const OfflineRules&) const = default;
};

class OfflineModel final : public LlmProvider {
 public:
  explicit OfflineModel(OfflineRules rules = OfflineRules::Default());

  ChatResponse Complete(const ChatRequest& request) override;
  std::string Name() const override { return "offline"; }
  std::string DefaultModel() const override { return "offline"; }

 private:
  OfflineRules rules_;
};

void to_json(nlohmann::json& j, const OfflineRule& r);
void from_json(const nlohmann::json& j, OfflineRule& r);
void to_json(nlohmann::json& j, const OfflineRules& r);
void from_json(const nlohmann::json& j, OfflineRules& r);

}  // namespace keel::llm
