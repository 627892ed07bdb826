#include "llm_providers/chat.h"

#include "engine/errors.h"
#include "llm_providers/provider_errors.h"

namespace keel::llm {

using nlohmann::json;

namespace {
// A decoding error of nlohmann's own type, so FromPayload reports it as a PayloadError.
[[noreturn]] void BadJson(const json& j, const std::string& what) {
  throw json::other_error::create(501, what, &j);
}
}  // namespace

std::string_view RoleName(Role role) {
  switch (role) {
    case Role::kSystem:
      return "system";
    case Role::kUser:
      return "user";
    case Role::kAssistant:
      return "assistant";
    case Role::kTool:
      return "tool";
  }
  return "user";
}

std::string_view FinishReasonName(FinishReason reason) {
  switch (reason) {
    case FinishReason::kStop:
      return "stop";
    case FinishReason::kLength:
      return "length";
    case FinishReason::kToolCalls:
      return "tool_calls";
    case FinishReason::kContentFilter:
      return "content_filter";
    case FinishReason::kUnknown:
      break;
  }
  return "unknown";
}

ToolCall ToolCall::FromArgumentsText(std::string id, std::string name, std::string_view text) {
  ToolCall call{.id = std::move(id), .name = std::move(name)};
  if (text.find_first_not_of(" \t\r\n") == std::string_view::npos) return call;
  json parsed = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_object()) {
    call.arguments = std::move(parsed);
  } else {
    call.raw_arguments = std::string(text);
  }
  return call;
}

std::string ToolCall::ArgumentsText() const {
  return raw_arguments.empty() ? arguments.dump() : raw_arguments;
}

Message Message::System(std::string text) {
  return {.role = Role::kSystem, .content = {{std::move(text)}}};
}

Message Message::User(std::string text) {
  return {.role = Role::kUser, .content = {{std::move(text)}}};
}

Message Message::Assistant(std::string text, std::vector<ToolCall> calls) {
  Message m{.role = Role::kAssistant, .tool_calls = std::move(calls)};
  if (!text.empty()) m.content.push_back({std::move(text)});
  return m;
}

Message Message::ToolResult(std::string tool_call_id, std::string tool_name, std::string text,
                            bool is_error) {
  return {.role = Role::kTool,
          .content = {{std::move(text)}},
          .tool_call_id = std::move(tool_call_id),
          .tool_name = std::move(tool_name),
          .is_error = is_error};
}

std::string Message::Text() const {
  std::string out;
  for (const auto& part : content) out += part.text;
  return out;
}

Usage& Usage::operator+=(const Usage& other) {
  input_tokens += other.input_tokens;
  output_tokens += other.output_tokens;
  cached_input_tokens += other.cached_input_tokens;
  cache_write_tokens += other.cache_write_tokens;
  reasoning_tokens += other.reasoning_tokens;
  return *this;
}

json ChatResponse::JsonOutput() const {
  const std::string text = Text();
  json parsed = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded()) {
    throw ApplicationError(kInvalidOutput, provider + " model " + model +
                                               ": the reply is not JSON: " + text.substr(0, 200));
  }
  return parsed;
}

// ---- JSON ----

void to_json(json& j, const Role& r) { j = std::string(RoleName(r)); }

void from_json(const json& j, Role& r) {
  const auto s = j.get<std::string>();
  if (s == "system" || s == "developer") {
    r = Role::kSystem;
  } else if (s == "user") {
    r = Role::kUser;
  } else if (s == "assistant") {
    r = Role::kAssistant;
  } else if (s == "tool") {
    r = Role::kTool;
  } else {
    BadJson(j, "unknown message role '" + s + "'");
  }
}

void to_json(json& j, const ContentPart& p) { j = {{"type", "text"}, {"text", p.text}}; }

void from_json(const json& j, ContentPart& p) {
  if (j.is_string()) {
    p.text = j.get<std::string>();
    return;
  }
  const auto type = j.value("type", std::string("text"));
  if (type != "text") BadJson(j, "unsupported content part type '" + type + "'");
  p.text = j.at("text").get<std::string>();
}

void to_json(json& j, const ToolDefinition& t) {
  j = {{"name", t.name}, {"description", t.description}, {"parameters", t.parameters}};
}

void from_json(const json& j, ToolDefinition& t) {
  t = {};
  t.name = j.at("name").get<std::string>();
  t.description = j.value("description", std::string());
  if (j.contains("parameters")) t.parameters = j.at("parameters");
}

void to_json(json& j, const ToolCall& c) {
  j = {{"id", c.id}, {"name", c.name}, {"arguments", c.arguments}};
  if (!c.raw_arguments.empty()) j["raw_arguments"] = c.raw_arguments;
}

void from_json(const json& j, ToolCall& c) {
  const auto id = j.value("id", std::string());
  const auto name = j.at("name").get<std::string>();
  const json& args = j.contains("arguments") ? j.at("arguments") : json::object();
  if (args.is_string()) {
    c = ToolCall::FromArgumentsText(id, name, args.get<std::string>());
  } else {
    c = {.id = id, .name = name, .arguments = args.is_null() ? json::object() : args};
  }
  if (j.contains("raw_arguments")) c.raw_arguments = j.at("raw_arguments").get<std::string>();
}

void to_json(json& j, const Message& m) {
  j = {{"role", m.role}, {"content", m.content}};
  if (!m.tool_calls.empty()) j["tool_calls"] = m.tool_calls;
  if (!m.tool_call_id.empty()) j["tool_call_id"] = m.tool_call_id;
  if (!m.tool_name.empty()) j["tool_name"] = m.tool_name;
  if (m.is_error) j["is_error"] = true;
}

void from_json(const json& j, Message& m) {
  m = {};
  m.role = j.at("role").get<Role>();
  if (j.contains("content")) {
    const json& c = j.at("content");
    if (c.is_string()) {
      m.content.push_back({c.get<std::string>()});
    } else if (!c.is_null()) {
      m.content = c.get<std::vector<ContentPart>>();
    }
  }
  if (j.contains("tool_calls")) m.tool_calls = j.at("tool_calls").get<std::vector<ToolCall>>();
  m.tool_call_id = j.value("tool_call_id", std::string());
  m.tool_name = j.value("tool_name", std::string());
  m.is_error = j.value("is_error", false);
}

void to_json(json& j, const OutputSchema& s) {
  j = {{"name", s.name}, {"schema", s.schema}, {"strict", s.strict}};
}

void from_json(const json& j, OutputSchema& s) {
  s = {};
  s.name = j.value("name", std::string("output"));
  s.schema = j.at("schema");
  s.strict = j.value("strict", true);
}

void to_json(json& j, const SamplingParams& s) {
  j = json::object();
  if (s.temperature) j["temperature"] = *s.temperature;
  if (s.top_p) j["top_p"] = *s.top_p;
  if (s.max_tokens) j["max_tokens"] = *s.max_tokens;
  if (!s.stop.empty()) j["stop"] = s.stop;
  if (s.seed) j["seed"] = *s.seed;
}

void from_json(const json& j, SamplingParams& s) {
  s = {};
  if (j.contains("temperature")) s.temperature = j.at("temperature").get<double>();
  if (j.contains("top_p")) s.top_p = j.at("top_p").get<double>();
  if (j.contains("max_tokens")) s.max_tokens = j.at("max_tokens").get<int>();
  if (j.contains("stop")) s.stop = j.at("stop").get<std::vector<std::string>>();
  if (j.contains("seed")) s.seed = j.at("seed").get<int64_t>();
}

void to_json(json& j, const ChatRequest& r) {
  j = {{"model", r.model}, {"messages", r.messages}};
  if (!r.tools.empty()) j["tools"] = r.tools;
  if (!r.tool_choice.empty()) j["tool_choice"] = r.tool_choice;
  if (r.parallel_tool_calls) j["parallel_tool_calls"] = *r.parallel_tool_calls;
  if (r.output_schema) j["output_schema"] = *r.output_schema;
  json sampling = r.sampling;
  if (!sampling.empty()) j["sampling"] = std::move(sampling);
}

void from_json(const json& j, ChatRequest& r) {
  r = {};
  r.model = j.value("model", std::string());
  r.messages = j.at("messages").get<std::vector<Message>>();
  if (j.contains("tools")) r.tools = j.at("tools").get<std::vector<ToolDefinition>>();
  r.tool_choice = j.value("tool_choice", std::string());
  if (j.contains("parallel_tool_calls"))
    r.parallel_tool_calls = j.at("parallel_tool_calls").get<bool>();
  if (j.contains("output_schema")) r.output_schema = j.at("output_schema").get<OutputSchema>();
  if (j.contains("sampling")) r.sampling = j.at("sampling").get<SamplingParams>();
}

void to_json(json& j, const FinishReason& f) { j = std::string(FinishReasonName(f)); }

void from_json(const json& j, FinishReason& f) {
  const auto s = j.get<std::string>();
  f = s == "stop"             ? FinishReason::kStop
      : s == "length"         ? FinishReason::kLength
      : s == "tool_calls"     ? FinishReason::kToolCalls
      : s == "content_filter" ? FinishReason::kContentFilter
                              : FinishReason::kUnknown;
}

void to_json(json& j, const Usage& u) {
  j = {{"input_tokens", u.input_tokens}, {"output_tokens", u.output_tokens}};
  if (u.cached_input_tokens) j["cached_input_tokens"] = u.cached_input_tokens;
  if (u.cache_write_tokens) j["cache_write_tokens"] = u.cache_write_tokens;
  if (u.reasoning_tokens) j["reasoning_tokens"] = u.reasoning_tokens;
}

void from_json(const json& j, Usage& u) {
  u.input_tokens = j.value("input_tokens", int64_t{0});
  u.output_tokens = j.value("output_tokens", int64_t{0});
  u.cached_input_tokens = j.value("cached_input_tokens", int64_t{0});
  u.cache_write_tokens = j.value("cache_write_tokens", int64_t{0});
  u.reasoning_tokens = j.value("reasoning_tokens", int64_t{0});
}

void to_json(json& j, const Cost& c) { j = {{"usd", c.usd}, {"unknown_price", c.unknown_price}}; }

void from_json(const json& j, Cost& c) {
  c.usd = j.value("usd", 0.0);
  c.unknown_price = j.value("unknown_price", false);
}

void to_json(json& j, const ChatResponse& r) {
  j = {{"id", r.id},
       {"model", r.model},
       {"provider", r.provider},
       {"message", r.message},
       {"finish_reason", r.finish_reason},
       {"raw_finish_reason", r.raw_finish_reason},
       {"usage", r.usage},
       {"cost", r.cost}};
  if (!r.rate_limits.empty()) j["rate_limits"] = r.rate_limits;
}

void from_json(const json& j, ChatResponse& r) {
  r = {};
  r.id = j.value("id", std::string());
  r.model = j.value("model", std::string());
  r.provider = j.value("provider", std::string());
  r.message = j.at("message").get<Message>();
  if (j.contains("finish_reason")) r.finish_reason = j.at("finish_reason").get<FinishReason>();
  r.raw_finish_reason = j.value("raw_finish_reason", std::string());
  if (j.contains("usage")) r.usage = j.at("usage").get<Usage>();
  if (j.contains("cost")) r.cost = j.at("cost").get<Cost>();
  if (j.contains("rate_limits")) r.rate_limits = j.at("rate_limits").get<RateLimits>();
}

}  // namespace keel::llm
