#include "llm_providers/wire/anthropic_wire.h"

#include <algorithm>
#include <cctype>
#include <limits>
#include <map>

#include "llm_providers/wire/wire_error.h"

namespace keel::llm::wire {

namespace {

using nlohmann::json;

constexpr char kOutputToolDescription[] =
    "Give the final answer: call this tool exactly once, with the answer as its input.";

json TextBlock(const std::string& text) { return {{"type", "text"}, {"text", text}}; }

// Anthropic rejects empty text blocks.
void AppendText(json& blocks, const std::vector<ContentPart>& parts) {
  for (const auto& p : parts) {
    if (!p.text.empty()) blocks.push_back(TextBlock(p.text));
  }
}

// One text part: a string; several: text blocks (empty ones dropped); none: no content.
json ToolResultBlock(const Message& m) {
  json block = {{"type", "tool_result"}, {"tool_use_id", AnthropicToolId(m.tool_call_id)}};
  if (m.content.size() == 1) {
    if (!m.content.front().text.empty()) block["content"] = m.content.front().text;
  } else if (m.content.size() > 1) {
    json blocks = json::array();
    AppendText(blocks, m.content);
    if (!blocks.empty()) block["content"] = std::move(blocks);
  }
  if (m.is_error) block["is_error"] = true;
  return block;
}

json WireMessages(const std::vector<Message>& messages) {
  json out = json::array();
  for (const auto& m : messages) {
    if (m.role == Role::kSystem) continue;
    const char* role = m.role == Role::kAssistant ? "assistant" : "user";
    json blocks = json::array();
    if (m.role == Role::kTool) {
      blocks.push_back(ToolResultBlock(m));
    } else {
      AppendText(blocks, m.content);
      for (const auto& c : m.tool_calls) {
        blocks.push_back({{"type", "tool_use"},
                          {"id", AnthropicToolId(c.id)},
                          {"name", c.name},
                          {"input", c.arguments}});
      }
    }
    if (blocks.empty()) continue;
    if (!out.empty() && out.back()["role"] == role) {
      for (auto& b : blocks) out.back()["content"].push_back(std::move(b));
    } else {
      out.push_back({{"role", role}, {"content", std::move(blocks)}});
    }
  }
  // tool_result blocks open their user message, in the order of the calls they answer
  // (the recorded order may be the order the tools finished in).
  for (size_t i = 0; i < out.size(); ++i) {
    if (out[i]["role"] != "user") continue;
    std::map<std::string, size_t> call_order;
    if (i > 0) {
      for (const auto& b : out[i - 1]["content"]) {
        if (b["type"] == "tool_use")
          call_order.emplace(b["id"].get<std::string>(), call_order.size());
      }
    }
    auto rank = [&call_order](const json& b) -> size_t {
      if (b.at("type") != "tool_result") return std::numeric_limits<size_t>::max();
      auto it = call_order.find(b.at("tool_use_id").get<std::string>());
      return it == call_order.end() ? call_order.size() : it->second;
    };
    auto& c = out[i]["content"];
    std::stable_sort(c.begin(), c.end(),
                     [&rank](const json& a, const json& b) { return rank(a) < rank(b); });
  }
  return out;
}

json ToolChoice(const std::string& choice) {
  if (choice == "auto") return {{"type", "auto"}};
  if (choice == "required") return {{"type", "any"}};
  if (choice == "none") return {{"type", "none"}};
  if (!choice.empty()) return {{"type", "tool"}, {"name", choice}};
  return nullptr;
}

// A tool_result's content: a string, or blocks of which the text ones are kept (one part
// each, as ToolResultBlock wrote them).
std::vector<ContentPart> PartsOf(const json& content) {
  if (content.is_string()) return {{content.get<std::string>()}};
  std::vector<ContentPart> parts;
  if (content.is_array()) {
    for (const auto& b : content) {
      if (b.value("type", std::string()) == "text")
        parts.push_back({b.at("text").get<std::string>()});
    }
  }
  if (parts.empty()) parts.push_back({""});
  return parts;
}

}  // namespace

std::string AnthropicToolId(std::string_view id) {
  if (id.empty()) return "missing_id";
  std::string out(id);
  for (char& c : out) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-') c = '_';
  }
  return out;
}

json ToAnthropicRequest(const ChatRequest& request, const std::string& model,
                        const AnthropicWireOptions& options) {
  json body = {{"model", model},
               {"max_tokens", request.sampling.max_tokens.value_or(options.default_max_tokens)},
               {"messages", WireMessages(request.messages)}};

  std::vector<std::string> system;
  for (const auto& m : request.messages) {
    if (m.role != Role::kSystem) continue;
    for (const auto& p : m.content) {
      if (!p.text.empty()) system.push_back(p.text);
    }
  }
  if (system.size() == 1) {
    body["system"] = system.front();
  } else if (system.size() > 1) {
    json blocks = json::array();
    for (const auto& s : system) blocks.push_back(TextBlock(s));
    body["system"] = std::move(blocks);
  }

  json tools = json::array();
  json tool_choice = ToolChoice(request.tool_choice);
  if (request.tool_choice != "none" || !request.output_schema) {
    for (const auto& t : request.tools) {
      json tool = {{"name", t.name}, {"input_schema", t.parameters}};
      if (!t.description.empty()) tool["description"] = t.description;
      tools.push_back(std::move(tool));
    }
  }
  if (request.output_schema) {
    const auto& s = *request.output_schema;
    if (options.native_structured_output) {
      body["output_config"] = {{"format", {{"type", "json_schema"}, {"schema", s.schema}}}};
    } else {
      tools.push_back(
          {{"name", s.name}, {"description", kOutputToolDescription}, {"input_schema", s.schema}});
      // The answer must come through the output tool, unless another tool is called first.
      if (tools.size() == 1 || request.tool_choice == "none") {
        tool_choice = {{"type", "tool"}, {"name", s.name}};
      } else if (tool_choice.is_null() || tool_choice["type"] == "auto") {
        tool_choice = {{"type", "any"}};
      }
    }
  }
  if (!tools.empty()) {
    body["tools"] = std::move(tools);
    if (request.parallel_tool_calls == false) {
      if (tool_choice.is_null()) tool_choice = {{"type", "auto"}};
      if (tool_choice["type"] != "none") tool_choice["disable_parallel_tool_use"] = true;
    }
    if (!tool_choice.is_null()) body["tool_choice"] = std::move(tool_choice);
  }

  const auto& p = request.sampling;
  if (p.temperature) body["temperature"] = *p.temperature;
  if (p.top_p) body["top_p"] = *p.top_p;
  if (!p.stop.empty()) body["stop_sequences"] = p.stop;
  return body;
}

ChatResponse FromAnthropicResponse(const json& body, const std::string& output_tool) {
  if (body.value("type", std::string()) == "error") {
    const json e = body.value("error", json::object());
    throw WireError("the server answered with an error: " + e.value("message", e.dump()));
  }
  const json& content = body.at("content");
  if (!content.is_array()) throw WireError("`content` is not an array");

  ChatResponse r;
  r.id = body.value("id", std::string());
  r.model = body.value("model", std::string());
  r.message.role = Role::kAssistant;
  std::optional<json> structured;
  for (const auto& block : content) {
    const auto type = block.at("type").get<std::string>();
    if (type == "text") {
      const auto text = block.at("text").get<std::string>();
      if (!text.empty()) r.message.content.push_back({text});
    } else if (type == "tool_use") {
      const auto name = block.at("name").get<std::string>();
      const json input = block.contains("input") ? block.at("input") : json::object();
      if (!output_tool.empty() && name == output_tool) {
        structured = input;
        continue;
      }
      ToolCall call{.id = block.at("id").get<std::string>(), .name = name};
      if (input.is_object()) {
        call.arguments = input;
      } else if (!input.is_null()) {
        call.raw_arguments = input.dump();
      }
      r.message.tool_calls.push_back(std::move(call));
    }
    // thinking, redacted_thinking and server-tool blocks are not part of the model.
  }
  if (structured) r.message.content = {{structured->dump()}};

  r.raw_finish_reason = body.contains("stop_reason") && body.at("stop_reason").is_string()
                            ? body.at("stop_reason").get<std::string>()
                            : "";
  static const std::map<std::string, FinishReason> kReasons = {
      {"end_turn", FinishReason::kStop},
      {"stop_sequence", FinishReason::kStop},
      {"max_tokens", FinishReason::kLength},
      {"model_context_window_exceeded", FinishReason::kLength},
      {"tool_use", FinishReason::kToolCalls},
      {"refusal", FinishReason::kContentFilter}};
  auto it = kReasons.find(r.raw_finish_reason);
  r.finish_reason = it == kReasons.end() ? FinishReason::kUnknown : it->second;
  if (!r.message.tool_calls.empty()) {
    r.finish_reason = FinishReason::kToolCalls;
  } else if (structured && r.finish_reason == FinishReason::kToolCalls) {
    r.finish_reason = FinishReason::kStop;  // the output tool is the answer, not a call
  }

  if (body.contains("usage") && body.at("usage").is_object()) {
    const json& u = body.at("usage");
    auto count = [&u](const char* field) {
      return u.contains(field) && u.at(field).is_number_integer() ? u.at(field).get<int64_t>() : 0;
    };
    r.usage.cached_input_tokens = count("cache_read_input_tokens");
    r.usage.cache_write_tokens = count("cache_creation_input_tokens");
    r.usage.input_tokens =
        count("input_tokens") + r.usage.cached_input_tokens + r.usage.cache_write_tokens;
    r.usage.output_tokens = count("output_tokens");
  }
  return r;
}

std::vector<Message> FromAnthropicMessages(const json& system, const json& messages) {
  std::vector<Message> out;
  if (system.is_string()) {
    out.push_back(Message::System(system.get<std::string>()));
  } else if (system.is_array()) {
    Message m{.role = Role::kSystem};
    for (const auto& b : system) m.content.push_back({b.at("text").get<std::string>()});
    out.push_back(std::move(m));
  }
  std::map<std::string, std::string> call_names;  // tool_use id -> tool name
  for (const auto& w : messages) {
    const auto role = w.at("role").get<std::string>();
    const json& content = w.at("content");
    Message m{.role = role == "assistant" ? Role::kAssistant : Role::kUser};
    if (content.is_string()) {
      m.content.push_back({content.get<std::string>()});
      out.push_back(std::move(m));
      continue;
    }
    for (const auto& b : content) {
      const auto type = b.at("type").get<std::string>();
      if (type == "text") {
        m.content.push_back({b.at("text").get<std::string>()});
      } else if (type == "tool_use") {
        ToolCall call{.id = b.at("id").get<std::string>(), .name = b.at("name").get<std::string>()};
        if (b.contains("input")) call.arguments = b.at("input");
        call_names[call.id] = call.name;
        m.tool_calls.push_back(std::move(call));
      } else if (type == "tool_result") {
        Message result{.role = Role::kTool,
                       .content = PartsOf(b.contains("content") ? b.at("content") : json()),
                       .tool_call_id = b.at("tool_use_id").get<std::string>(),
                       .is_error = b.value("is_error", false)};
        if (auto it = call_names.find(result.tool_call_id); it != call_names.end()) {
          result.tool_name = it->second;
        }
        out.push_back(std::move(result));
      }
    }
    if (!m.content.empty() || !m.tool_calls.empty()) out.push_back(std::move(m));
  }
  return out;
}

}  // namespace keel::llm::wire
