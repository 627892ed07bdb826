#include "llm_providers/wire/openai_wire.h"

#include <map>

#include "llm_providers/wire/wire_error.h"

namespace keel::llm::wire {

namespace {

using nlohmann::json;

// One part: a string (what every compatible server accepts); several: an array of parts.
json TextContent(const std::vector<ContentPart>& parts) {
  if (parts.empty()) return "";
  if (parts.size() == 1) return parts.front().text;
  json array = json::array();
  for (const auto& p : parts) array.push_back({{"type", "text"}, {"text", p.text}});
  return array;
}

std::vector<ContentPart> PartsFrom(const json& content) {
  std::vector<ContentPart> parts;
  if (content.is_string()) {
    parts.push_back({content.get<std::string>()});
  } else if (content.is_array()) {
    for (const auto& p : content) {
      if (p.is_string()) {
        parts.push_back({p.get<std::string>()});
      } else if (p.value("type", std::string()) == "text") {
        parts.push_back({p.at("text").get<std::string>()});
      }
    }
  }
  return parts;
}

ToolCall CallFrom(const json& tc, size_t index) {
  std::string id =
      tc.contains("id") && tc.at("id").is_string() ? tc.at("id").get<std::string>() : "";
  if (id.empty()) id = "call_" + std::to_string(index);  // some local servers omit ids
  const json& fn = tc.at("function");
  std::string name = fn.at("name").get<std::string>();
  const json args = fn.contains("arguments") ? fn.at("arguments") : json();
  if (args.is_string()) return ToolCall::FromArgumentsText(id, name, args.get<std::string>());
  if (args.is_object()) return {.id = id, .name = name, .arguments = args};
  if (args.is_null()) return {.id = id, .name = name};
  return {.id = id, .name = name, .raw_arguments = args.dump()};
}

int64_t IntAt(const json& j, const char* object, const char* field) {
  if (!j.contains(object) || !j.at(object).is_object()) return 0;
  const json& o = j.at(object);
  return o.contains(field) && o.at(field).is_number_integer() ? o.at(field).get<int64_t>() : 0;
}

}  // namespace

json ToOpenAIMessages(const std::vector<Message>& messages) {
  json out = json::array();
  for (const auto& m : messages) {
    json w = {{"role", RoleName(m.role)}};
    switch (m.role) {
      case Role::kSystem:
      case Role::kUser:
        w["content"] = TextContent(m.content);
        break;
      case Role::kAssistant:
        // null content is how OpenAI writes "tool calls only".
        w["content"] =
            m.content.empty() && !m.tool_calls.empty() ? json(nullptr) : TextContent(m.content);
        if (!m.tool_calls.empty()) {
          json calls = json::array();
          for (const auto& c : m.tool_calls) {
            calls.push_back({{"id", c.id},
                             {"type", "function"},
                             {"function", {{"name", c.name}, {"arguments", c.ArgumentsText()}}}});
          }
          w["tool_calls"] = std::move(calls);
        }
        break;
      case Role::kTool:
        w["tool_call_id"] = m.tool_call_id;
        w["content"] = TextContent(m.content);
        break;
    }
    out.push_back(std::move(w));
  }
  return out;
}

json ToOpenAIRequest(const ChatRequest& request, const std::string& model,
                     const OpenAIWireOptions& options) {
  json body = {{"model", model}, {"messages", ToOpenAIMessages(request.messages)}};
  if (!request.tools.empty()) {
    json tools = json::array();
    for (const auto& t : request.tools) {
      json fn = {{"name", t.name}, {"parameters", t.parameters}};
      if (!t.description.empty()) fn["description"] = t.description;
      tools.push_back({{"type", "function"}, {"function", std::move(fn)}});
    }
    body["tools"] = std::move(tools);
    const std::string& choice = request.tool_choice;
    if (choice == "auto" || choice == "none" || choice == "required") {
      body["tool_choice"] = choice;
    } else if (!choice.empty()) {
      body["tool_choice"] = {{"type", "function"}, {"function", {{"name", choice}}}};
    }
    if (request.parallel_tool_calls) body["parallel_tool_calls"] = *request.parallel_tool_calls;
  }
  if (request.output_schema) {
    const auto& s = *request.output_schema;
    body["response_format"] = {
        {"type", "json_schema"},
        {"json_schema", {{"name", s.name}, {"schema", s.schema}, {"strict", s.strict}}}};
  }
  const auto& p = request.sampling;
  if (p.temperature) body["temperature"] = *p.temperature;
  if (p.top_p) body["top_p"] = *p.top_p;
  if (p.max_tokens) body[options.max_tokens_field] = *p.max_tokens;
  if (!p.stop.empty()) body["stop"] = p.stop;
  if (p.seed) body["seed"] = *p.seed;
  return body;
}

ChatResponse FromOpenAIResponse(const json& body) {
  if (!body.contains("choices") && body.contains("error")) {
    const json& e = body.at("error");
    throw WireError("the server answered with an error: " + (e.is_object()
                                                                 ? e.value("message", e.dump())
                                                             : e.is_string() ? e.get<std::string>()
                                                                             : e.dump()));
  }
  const json& choices = body.at("choices");
  if (!choices.is_array() || choices.empty()) throw WireError("no choices in the response");
  const json& choice = choices.at(0);
  const json& msg = choice.at("message");
  if (!msg.is_object()) throw WireError("choices[0].message is not an object");

  ChatResponse r;
  r.id = body.value("id", std::string());
  r.model = body.value("model", std::string());
  r.message.role = Role::kAssistant;
  if (msg.contains("content")) {
    for (auto& part : PartsFrom(msg.at("content"))) {
      if (!part.text.empty()) r.message.content.push_back(std::move(part));
    }
  }
  bool refused = false;
  if (msg.contains("refusal") && msg.at("refusal").is_string()) {
    r.message.content.push_back({msg.at("refusal").get<std::string>()});
    refused = true;
  }
  if (msg.contains("tool_calls") && msg.at("tool_calls").is_array()) {
    size_t i = 0;
    for (const auto& tc : msg.at("tool_calls")) r.message.tool_calls.push_back(CallFrom(tc, i++));
  }

  r.raw_finish_reason = choice.contains("finish_reason") && choice.at("finish_reason").is_string()
                            ? choice.at("finish_reason").get<std::string>()
                            : "";
  static const std::map<std::string, FinishReason> kReasons = {
      {"stop", FinishReason::kStop},
      {"length", FinishReason::kLength},
      {"tool_calls", FinishReason::kToolCalls},
      {"function_call", FinishReason::kToolCalls},
      {"content_filter", FinishReason::kContentFilter}};
  auto it = kReasons.find(r.raw_finish_reason);
  r.finish_reason = it == kReasons.end() ? FinishReason::kUnknown : it->second;
  // Some compatible servers say "stop" next to tool calls; the calls are what matters.
  if (!r.message.tool_calls.empty()) r.finish_reason = FinishReason::kToolCalls;
  if (refused) r.finish_reason = FinishReason::kContentFilter;

  if (body.contains("usage") && body.at("usage").is_object()) {
    const json& u = body.at("usage");
    r.usage.input_tokens = u.value("prompt_tokens", int64_t{0});
    r.usage.output_tokens = u.value("completion_tokens", int64_t{0});
    r.usage.cached_input_tokens = IntAt(u, "prompt_tokens_details", "cached_tokens");
    r.usage.reasoning_tokens = IntAt(u, "completion_tokens_details", "reasoning_tokens");
  }
  return r;
}

std::vector<Message> FromOpenAIMessages(const json& messages) {
  std::vector<Message> out;
  std::map<std::string, std::string> call_names;  // tool_call_id -> tool name
  size_t call_index = 0;
  for (const auto& w : messages) {
    Message m;
    m.role = w.at("role").get<Role>();
    if (w.contains("content")) m.content = PartsFrom(w.at("content"));
    if (m.role == Role::kAssistant) {
      if (m.content.size() == 1 && m.content.front().text.empty()) m.content.clear();
      if (w.contains("tool_calls")) {
        for (const auto& tc : w.at("tool_calls")) {
          m.tool_calls.push_back(CallFrom(tc, call_index++));
          call_names[m.tool_calls.back().id] = m.tool_calls.back().name;
        }
      }
    } else if (m.role == Role::kTool) {
      m.tool_call_id = w.value("tool_call_id", std::string());
      if (auto it = call_names.find(m.tool_call_id); it != call_names.end())
        m.tool_name = it->second;
    }
    out.push_back(std::move(m));
  }
  return out;
}

}  // namespace keel::llm::wire
