// The provider-neutral chat model: one ChatRequest / ChatResponse shape for every provider.
// It is the canonical transcript: every type converts to and from JSON (nlohmann ADL), so a
// request can be an activity's input and a response its result, and a conversation
// recorded from one provider converts losslessly to another provider's wire format (see
// docs/llm-providers.md for the mapping). Plain values; thread-compatible.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "llm_providers/rate_limits.h"

namespace keel::llm {

enum class Role { kSystem, kUser, kAssistant, kTool };

std::string_view RoleName(Role role);  // "system", "user", "assistant", "tool"

// A piece of message content. Text only today; the JSON form ({"type":"text",...}) leaves
// room for other kinds without changing recorded transcripts.
struct ContentPart {
  std::string text;

  bool operator==(const ContentPart&) const = default;
};

// A tool the model may call: its arguments are described by a JSON schema.
struct ToolDefinition {
  std::string name;
  std::string description;
  nlohmann::json parameters = {{"type", "object"}, {"properties", nlohmann::json::object()}};

  bool operator==(const ToolDefinition&) const = default;
};

// A call the model asked for. Arguments are canonically a JSON object (OpenAI sends a
// string, Anthropic an object); when the provider's text was not a JSON object it is kept
// verbatim in raw_arguments and `arguments` is {}.
struct ToolCall {
  std::string id;  // the provider's id; the tool result names it
  std::string name;
  nlohmann::json arguments = nlohmann::json::object();
  std::string raw_arguments;

  // Parses a provider's argument text ("" counts as {}).
  static ToolCall FromArgumentsText(std::string id, std::string name, std::string_view text);
  // raw_arguments when set, else arguments as compact JSON.
  std::string ArgumentsText() const;

  bool operator==(const ToolCall&) const = default;
};

// One conversation turn. System, user and assistant messages carry text parts; an
// assistant message may also carry tool calls; a tool message is the result of one call.
struct Message {
  Role role = Role::kUser;
  std::vector<ContentPart> content;
  std::vector<ToolCall> tool_calls;  // assistant only
  std::string tool_call_id;          // tool only: the call this result answers
  std::string tool_name;             // tool only (optional): the tool that produced it
  bool is_error = false;             // tool only: the tool failed; content says why

  static Message System(std::string text);
  static Message User(std::string text);
  static Message Assistant(std::string text, std::vector<ToolCall> calls = {});
  static Message ToolResult(std::string tool_call_id, std::string tool_name, std::string text,
                            bool is_error = false);

  // The text parts joined (no separator).
  std::string Text() const;

  bool operator==(const Message&) const = default;
};

// Ask for a JSON reply that matches `schema` (OpenAI response_format json_schema;
// Anthropic: a forced tool or output_config, see anthropic_provider.h).
struct OutputSchema {
  std::string name = "output";  // [a-zA-Z0-9_-]{1,64}
  nlohmann::json schema;
  bool strict = true;

  bool operator==(const OutputSchema&) const = default;
};

// Unset values leave the provider's default. A provider that lacks one ignores it
// (Anthropic has no seed).
struct SamplingParams {
  std::optional<double> temperature;
  std::optional<double> top_p;
  std::optional<int> max_tokens;  // Anthropic requires one: its provider fills a default
  std::vector<std::string> stop;
  std::optional<int64_t> seed;

  bool operator==(const SamplingParams&) const = default;
};

struct ChatRequest {
  std::string model;  // empty: the provider's default model
  std::vector<Message> messages;
  std::vector<ToolDefinition> tools;
  // "" (provider default), "auto", "none", "required", or the name of one tool to call.
  std::string tool_choice;
  std::optional<bool> parallel_tool_calls;
  std::optional<OutputSchema> output_schema;
  SamplingParams sampling;

  bool operator==(const ChatRequest&) const = default;
};

enum class FinishReason { kUnknown, kStop, kLength, kToolCalls, kContentFilter };

std::string_view FinishReasonName(FinishReason reason);  // "stop", "tool_calls", ...

// Tokens as the provider counted them. input_tokens counts every prompt token, including
// the cached_input_tokens read from and the cache_write_tokens written to a prompt cache;
// output_tokens includes reasoning_tokens.
struct Usage {
  int64_t input_tokens = 0;
  int64_t output_tokens = 0;
  int64_t cached_input_tokens = 0;
  int64_t cache_write_tokens = 0;
  int64_t reasoning_tokens = 0;

  Usage& operator+=(const Usage& other);
  bool operator==(const Usage&) const = default;
};

// What a call cost according to a PriceTable (pricing.h). unknown_price: the table has no
// price for the model (and local models: Ollama, offline), so usd is 0.
struct Cost {
  double usd = 0;
  bool unknown_price = false;

  bool operator==(const Cost&) const = default;
};

struct ChatResponse {
  std::string id;        // the provider's response id
  std::string model;     // the model that answered, as the provider named it
  std::string provider;  // "openai", "anthropic", "ollama", "offline", "scripted", ...
  Message message;       // role kAssistant: text parts and tool calls
  FinishReason finish_reason = FinishReason::kUnknown;
  std::string raw_finish_reason;  // the provider's word ("end_turn", "tool_calls", ...)
  Usage usage;
  Cost cost;
  RateLimits rate_limits;

  std::string Text() const { return message.Text(); }
  const std::vector<ToolCall>& ToolCalls() const { return message.tool_calls; }
  // The reply parsed as JSON (for requests with an output_schema). Throws
  // keel::ApplicationError "InvalidOutput" (retryable: another sample may do better).
  nlohmann::json JsonOutput() const;

  bool operator==(const ChatResponse&) const = default;
};

void to_json(nlohmann::json& j, const Role& r);
void from_json(const nlohmann::json& j, Role& r);
void to_json(nlohmann::json& j, const ContentPart& p);
void from_json(const nlohmann::json& j, ContentPart& p);
void to_json(nlohmann::json& j, const ToolDefinition& t);
void from_json(const nlohmann::json& j, ToolDefinition& t);
void to_json(nlohmann::json& j, const ToolCall& c);
void from_json(const nlohmann::json& j, ToolCall& c);
void to_json(nlohmann::json& j, const Message& m);
void from_json(const nlohmann::json& j, Message& m);
void to_json(nlohmann::json& j, const OutputSchema& s);
void from_json(const nlohmann::json& j, OutputSchema& s);
void to_json(nlohmann::json& j, const SamplingParams& s);
void from_json(const nlohmann::json& j, SamplingParams& s);
void to_json(nlohmann::json& j, const ChatRequest& r);
void from_json(const nlohmann::json& j, ChatRequest& r);
void to_json(nlohmann::json& j, const FinishReason& f);
void from_json(const nlohmann::json& j, FinishReason& f);
void to_json(nlohmann::json& j, const Usage& u);
void from_json(const nlohmann::json& j, Usage& u);
void to_json(nlohmann::json& j, const Cost& c);
void from_json(const nlohmann::json& j, Cost& c);
void to_json(nlohmann::json& j, const ChatResponse& r);
void from_json(const nlohmann::json& j, ChatResponse& r);

}  // namespace keel::llm
