#include "llm_providers/offline_model.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <regex>
#include <stdexcept>

#include "llm_providers/offline/schema_example.h"
#include "llm_providers/offline/template.h"

namespace keel::llm {

namespace {

using nlohmann::json;
using offline::TemplateVars;

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

// A deterministic token estimate (about four characters per token).
int64_t Tokens(size_t chars) { return static_cast<int64_t>((chars + 3) / 4); }

std::regex Compile(const std::string& pattern) {
  return std::regex(pattern, std::regex::ECMAScript | std::regex::icase);
}

// What the rules look at in a conversation.
struct Facts {
  std::string last_user;                         // text of the last user message
  bool ends_with_user = false;                   // the last message is a user message
  std::vector<const Message*> results;           // the trailing tool results, in order
  std::map<std::string, const ToolCall*> calls;  // every tool call by id
  size_t call_count = 0;
  size_t assistant_turns = 0;
  size_t chars = 0;

  explicit Facts(const std::vector<Message>& messages) {
    for (const auto& m : messages) {
      chars += m.Text().size();
      if (m.role == Role::kUser) last_user = m.Text();
      if (m.role == Role::kAssistant) ++assistant_turns;
      for (const auto& c : m.tool_calls) {
        calls[c.id] = &c;
        chars += c.ArgumentsText().size();
        ++call_count;
      }
    }
    for (auto it = messages.rbegin(); it != messages.rend() && it->role == Role::kTool; ++it) {
      results.insert(results.begin(), &*it);
    }
    ends_with_user = !messages.empty() && messages.back().role == Role::kUser;
  }

  std::string ToolOf(const Message& result) const {
    if (!result.tool_name.empty()) return result.tool_name;
    auto it = calls.find(result.tool_call_id);
    return it == calls.end() ? "" : it->second->name;
  }

  // Fills the result variables from `result`.
  void Describe(const Message& result, TemplateVars& vars) const {
    vars.result = result.Text();
    vars.tool = ToolOf(result);
    vars.result_json = json::parse(vars.result, nullptr, /*allow_exceptions=*/false);
    if (vars.result_json.is_discarded()) vars.result_json = nullptr;
    auto it = calls.find(result.tool_call_id);
    vars.args = it == calls.end() ? json::object() : it->second->arguments;
  }
};

bool Offered(const ChatRequest& request, const std::string& tool) {
  return std::any_of(request.tools.begin(), request.tools.end(),
                     [&](const ToolDefinition& t) { return t.name == tool; });
}

bool Mentions(const std::string& lower_text, const std::string& tool) {
  std::string name = Lower(tool);
  if (lower_text.find(name) != std::string::npos) return true;
  std::replace(name.begin(), name.end(), '_', ' ');
  return lower_text.find(name) != std::string::npos;
}

}  // namespace

OfflineRules OfflineRules::Default() {
  OfflineRules r;
  r.rules.push_back({.after_tool = "*", .answer = "The {{tool}} tool returned: {{result}}"});
  return r;
}

OfflineModel::OfflineModel(OfflineRules rules) : rules_(std::move(rules)) {
  for (size_t i = 0; i < rules_.rules.size(); ++i) {
    try {
      if (!rules_.rules[i].pattern.empty()) Compile(rules_.rules[i].pattern);
    } catch (const std::regex_error& e) {
      throw std::invalid_argument("offline rule " + std::to_string(i) + ": bad pattern '" +
                                  rules_.rules[i].pattern + "': " + e.what());
    }
  }
}

ChatResponse OfflineModel::Complete(const ChatRequest& request) {
  const Facts facts(request.messages);
  const std::string lower_input = Lower(facts.last_user);

  ChatResponse r{.id = "offline-" + std::to_string(facts.assistant_turns + 1),
                 .model = "offline",
                 .provider = "offline",
                 .message = {.role = Role::kAssistant},
                 .raw_finish_reason = "offline",
                 .cost = {.usd = 0, .unknown_price = true}};
  auto call = [&](const std::string& tool, json arguments) {
    ToolCall c{.id = "offline_call_" + std::to_string(facts.call_count + 1),
               .name = tool,
               .arguments = arguments.is_object() ? std::move(arguments) : json::object()};
    r.usage.output_tokens = Tokens(tool.size() + c.ArgumentsText().size());
    r.message.tool_calls.push_back(std::move(c));
    r.finish_reason = FinishReason::kToolCalls;
  };
  auto answer = [&](const std::string& text, const json& output, const TemplateVars& vars) {
    std::string reply;
    if (request.output_schema) {
      reply = (output.is_null() ? offline::ExampleFromSchema(request.output_schema->schema)
                                : offline::RenderJson(output, vars))
                  .dump();
    } else {
      reply = rules_.text_prefix + offline::RenderText(text, vars);
    }
    r.usage.output_tokens = Tokens(reply.size());
    r.message.content.push_back({std::move(reply)});
    r.finish_reason = FinishReason::kStop;
  };
  r.usage.input_tokens = Tokens(facts.chars);

  for (const auto& rule : rules_.rules) {
    TemplateVars vars{.input = facts.last_user};
    if (!rule.after_tool.empty()) {
      auto hit = std::find_if(facts.results.begin(), facts.results.end(), [&](const Message* m) {
        return rule.after_tool == "*" || facts.ToolOf(*m) == rule.after_tool;
      });
      if (hit == facts.results.end()) continue;
      facts.Describe(**hit, vars);
    } else if (!facts.ends_with_user) {
      continue;
    }
    if (!rule.keywords.empty() &&
        std::none_of(rule.keywords.begin(), rule.keywords.end(), [&](const std::string& k) {
          return lower_input.find(Lower(k)) != std::string::npos;
        })) {
      continue;
    }
    if (!rule.pattern.empty()) {
      std::smatch match;
      const std::regex re = Compile(rule.pattern);
      if (!std::regex_search(facts.last_user, match, re)) continue;
      for (const auto& group : match) vars.captures.push_back(group.str());
    }
    if (!rule.call_tool.empty()) {
      if (!Offered(request, rule.call_tool)) continue;
      call(rule.call_tool, offline::RenderJson(rule.arguments, vars));
    } else {
      answer(rule.answer, rule.output, vars);
    }
    return r;
  }

  if (facts.ends_with_user && rules_.call_named_tools) {
    for (const auto& tool : request.tools) {
      if (Mentions(lower_input, tool.name)) {
        call(tool.name, offline::ExampleFromSchema(tool.parameters));
        return r;
      }
    }
  }
  TemplateVars vars{.input = facts.last_user};
  if (!facts.results.empty()) facts.Describe(*facts.results.front(), vars);
  answer(rules_.default_answer, nullptr, vars);
  return r;
}

void to_json(json& j, const OfflineRule& r) {
  j = json::object();
  if (!r.keywords.empty()) j["keywords"] = r.keywords;
  if (!r.pattern.empty()) j["pattern"] = r.pattern;
  if (!r.after_tool.empty()) j["after_tool"] = r.after_tool;
  if (!r.call_tool.empty()) {
    j["call_tool"] = r.call_tool;
    j["arguments"] = r.arguments;
  }
  if (!r.answer.empty()) j["answer"] = r.answer;
  if (!r.output.is_null()) j["output"] = r.output;
}

void from_json(const json& j, OfflineRule& r) {
  r = {};
  if (j.contains("keywords")) r.keywords = j.at("keywords").get<std::vector<std::string>>();
  r.pattern = j.value("pattern", std::string());
  r.after_tool = j.value("after_tool", std::string());
  r.call_tool = j.value("call_tool", std::string());
  if (j.contains("arguments")) r.arguments = j.at("arguments");
  r.answer = j.value("answer", std::string());
  if (j.contains("output")) r.output = j.at("output");
}

void to_json(json& j, const OfflineRules& r) {
  j = {{"rules", r.rules},
       {"call_named_tools", r.call_named_tools},
       {"default_answer", r.default_answer},
       {"text_prefix", r.text_prefix}};
}

void from_json(const json& j, OfflineRules& r) {
  r = {};
  if (j.contains("rules")) r.rules = j.at("rules").get<std::vector<OfflineRule>>();
  r.call_named_tools = j.value("call_named_tools", r.call_named_tools);
  r.default_answer = j.value("default_answer", r.default_answer);
  r.text_prefix = j.value("text_prefix", r.text_prefix);
}

}  // namespace keel::llm
