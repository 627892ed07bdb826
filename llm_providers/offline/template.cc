#include "llm_providers/offline/template.h"

#include <cctype>
#include <optional>

namespace keel::llm::offline {

namespace {

using nlohmann::json;

// Walks "a.b.0.c" through objects and arrays.
std::optional<json> Walk(const json& root, std::string_view path) {
  const json* node = &root;
  while (!path.empty()) {
    const auto dot = path.find('.');
    const std::string key(path.substr(0, dot));
    path = dot == std::string_view::npos ? std::string_view() : path.substr(dot + 1);
    if (node->is_object() && node->contains(key)) {
      node = &node->at(key);
    } else if (node->is_array() && !key.empty() &&
               key.find_first_not_of("0123456789") == std::string::npos &&
               std::stoul(key) < node->size()) {
      node = &node->at(std::stoul(key));
    } else {
      return std::nullopt;
    }
  }
  return *node;
}

// The value of one placeholder name, as JSON (strings for the text variables).
std::optional<json> Lookup(std::string_view name, const TemplateVars& vars) {
  if (name == "input") return vars.input;
  if (name == "result") return vars.result;
  if (name == "tool") return vars.tool;
  if (name.rfind("result.", 0) == 0) return Walk(vars.result_json, name.substr(7));
  if (name.rfind("args.", 0) == 0) return Walk(vars.args, name.substr(5));
  if (name.size() == 1 && std::isdigit(static_cast<unsigned char>(name[0]))) {
    const size_t i = name[0] - '0';
    return i < vars.captures.size() ? std::optional<json>(vars.captures[i]) : std::nullopt;
  }
  return std::nullopt;
}

std::string AsText(const json& v) { return v.is_string() ? v.get<std::string>() : v.dump(); }

}  // namespace

std::string RenderText(std::string_view text, const TemplateVars& vars) {
  std::string out;
  size_t pos = 0;
  while (pos < text.size()) {
    const auto open = text.find("{{", pos);
    const auto close = open == std::string_view::npos ? open : text.find("}}", open + 2);
    if (close == std::string_view::npos) break;
    out.append(text.substr(pos, open - pos));
    const auto name = text.substr(open + 2, close - open - 2);
    if (auto v = Lookup(name, vars)) {
      out += AsText(*v);
    } else {
      out.append(text.substr(open, close + 2 - open));
    }
    pos = close + 2;
  }
  out.append(text.substr(pos));
  return out;
}

json RenderJson(const json& value, const TemplateVars& vars) {
  if (value.is_string()) {
    const auto& s = value.get_ref<const std::string&>();
    if (s.size() > 4 && s.rfind("{{", 0) == 0 && s.find("{{", 2) == std::string::npos &&
        s.compare(s.size() - 2, 2, "}}") == 0) {
      const auto name = std::string_view(s).substr(2, s.size() - 4);
      if (name.rfind("result.", 0) == 0 || name.rfind("args.", 0) == 0) {
        if (auto v = Lookup(name, vars)) return *v;
      }
    }
    return RenderText(s, vars);
  }
  if (value.is_object()) {
    json out = json::object();
    for (const auto& [k, v] : value.items()) out[k] = RenderJson(v, vars);
    return out;
  }
  if (value.is_array()) {
    json out = json::array();
    for (const auto& v : value) out.push_back(RenderJson(v, vars));
    return out;
  }
  return value;
}

}  // namespace keel::llm::offline
