// Internal: the OfflineModel's templates. "{{name}}" placeholders in text, and in every
// string of a JSON template: input, result, tool, result.PATH, args.PATH (dot paths, array
// indices as numbers) and the pattern's captures 0-9. A JSON string that is exactly one
// result./args. placeholder takes the value with its JSON type. Unknown placeholders stay.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace keel::llm::offline {

struct TemplateVars {
  std::string input;                  // the last user message
  std::string result;                 // the tool result that triggered the rule
  std::string tool;                   // the tool that produced it
  nlohmann::json result_json;         // `result` parsed (null when it is not JSON)
  nlohmann::json args;                // the arguments of the call that produced it
  std::vector<std::string> captures;  // the rule's pattern match: [0] whole, [1..] groups
};

std::string RenderText(std::string_view text, const TemplateVars& vars);
nlohmann::json RenderJson(const nlohmann::json& value, const TemplateVars& vars);

}  // namespace keel::llm::offline
