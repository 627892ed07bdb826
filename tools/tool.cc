#include "tools/tool.h"

#include <cmath>
#include <limits>
#include <utility>

#include "engine/errors.h"
#include "engine/log.h"
#include "tools/schema_validator.h"

namespace keel::tools {

namespace {

template <typename T>
void PutOptional(Json& j, const char* key, const std::optional<T>& v) {
  if (v) j[key] = *v;
}

template <typename T>
void GetOptional(const Json& j, const char* key, std::optional<T>& v) {
  auto it = j.find(key);
  if (it != j.end() && !it->is_null()) v = it->get<T>();
}

// 3.0 is an integer to JSON Schema but not to valijson or to from_json into an int, and
// models write it that way now and then.
void NormalizeIntegers(Json& v) {
  if (v.is_number_float()) {
    double d = v.get<double>();
    if (std::isfinite(d) && d == std::floor(d) && std::fabs(d) < 9.0e15)
      v = static_cast<int64_t>(d);
  } else if (v.is_structured()) {
    for (auto& child : v) NormalizeIntegers(child);
  }
}

std::string BlockText(const Json& block) {
  std::string type = block.value("type", "");
  if (type == "text") return block.value("text", "");
  if (type == "image" || type == "audio")
    return "[" + type + " " + block.value("mimeType", "") + "]";
  if (type == "resource_link") return "[resource " + block.value("uri", "") + "]";
  if (type == "resource" && block.contains("resource")) {
    const Json& r = block["resource"];
    if (r.contains("text") && r["text"].is_string()) return r["text"].get<std::string>();
    return "[resource " + r.value("uri", "") + "]";
  }
  return block.dump();
}

}  // namespace

void to_json(Json& j, const ToolAnnotations& a) {
  j = Json::object();
  PutOptional(j, "title", a.title);
  PutOptional(j, "readOnlyHint", a.read_only_hint);
  PutOptional(j, "destructiveHint", a.destructive_hint);
  PutOptional(j, "idempotentHint", a.idempotent_hint);
  PutOptional(j, "openWorldHint", a.open_world_hint);
}

void from_json(const Json& j, ToolAnnotations& a) {
  a = {};
  if (!j.is_object()) return;
  GetOptional(j, "title", a.title);
  GetOptional(j, "readOnlyHint", a.read_only_hint);
  GetOptional(j, "destructiveHint", a.destructive_hint);
  GetOptional(j, "idempotentHint", a.idempotent_hint);
  GetOptional(j, "openWorldHint", a.open_world_hint);
}

void to_json(Json& j, const ToolSpec& s) {
  j = Json{{"name", s.name}, {"description", s.description}, {"inputSchema", s.input_schema}};
  if (!s.title.empty()) j["title"] = s.title;
  if (s.output_schema) j["outputSchema"] = *s.output_schema;
  Json annotations = s.annotations;
  if (!annotations.empty()) j["annotations"] = annotations;
}

void from_json(const Json& j, ToolSpec& s) {
  s = {};
  s.name = j.at("name").get<std::string>();
  s.title = j.value("title", "");
  s.description = j.value("description", "");
  if (j.contains("inputSchema")) s.input_schema = j["inputSchema"];
  if (j.contains("outputSchema") && !j["outputSchema"].is_null())
    s.output_schema = j["outputSchema"];
  if (j.contains("annotations")) s.annotations = j["annotations"].get<ToolAnnotations>();
}

void ToolContext::ThrowIfCancelled() const {
  if (Cancelled()) throw CanceledError("tool call canceled");
}

ToolResult ToolResult::Text(std::string text) {
  ToolResult r;
  r.content.push_back(Json{{"type", "text"}, {"text", std::move(text)}});
  return r;
}

ToolResult ToolResult::Structured(Json value) {
  ToolResult r = Text(value.dump());
  r.structured = std::move(value);
  return r;
}

ToolResult ToolResult::Error(std::string message) {
  ToolResult r = Text(std::move(message));
  r.is_error = true;
  return r;
}

std::string ToolResult::ToText() const {
  if (content.empty()) return structured ? structured->dump() : "";
  std::string out;
  for (const auto& block : content) {
    if (!out.empty()) out += "\n";
    out += BlockText(block);
  }
  return out;
}

void to_json(Json& j, const ToolResult& r) {
  j = Json{{"content", r.content}};
  if (r.structured) j["structuredContent"] = *r.structured;
  if (r.is_error) j["isError"] = true;
}

void from_json(const Json& j, ToolResult& r) {
  r = {};
  if (j.contains("content") && j["content"].is_array()) {
    for (const auto& block : j["content"]) r.content.push_back(block);
  }
  if (j.contains("structuredContent") && !j["structuredContent"].is_null()) {
    r.structured = j["structuredContent"];
  }
  r.is_error = j.value("isError", false);
}

Tool::Tool(ToolSpec spec, SchemaCheck check) : spec_(std::move(spec)) {
  auto compiled = SchemaValidator::Compile(spec_.input_schema);
  if (compiled.ok()) {
    validator_ = std::move(compiled).value();
  } else if (check == SchemaCheck::kStrict) {
    throw std::invalid_argument("tool '" + spec_.name + "': " + compiled.status().message());
  } else {
    Log().debug("tool '{}': arguments are not checked locally: {}", spec_.name,
                compiled.status().message());
  }
}

Tool::~Tool() = default;

ToolResult Tool::Invoke(const Json& args, const ToolContext& ctx) const {
  Json checked = args.is_null() ? Json::object() : args;
  NormalizeIntegers(checked);
  if (validator_) {
    Status valid = validator_->Validate(checked);
    if (!valid.ok()) {
      return ToolResult::Error("invalid arguments for tool '" + spec_.name +
                               "': " + valid.message());
    }
  }
  ctx.ThrowIfCancelled();
  try {
    return Run(checked, ctx);
  } catch (const ToolError& e) {
    return ToolResult::Error(e.what());
  }
}

}  // namespace keel::tools
