// Internal: the canonical chat model <-> Anthropic Messages JSON. System messages move to
// the top-level `system`; tool calls become tool_use blocks with `input` as an object; tool
// results become tool_result blocks, and consecutive ones (with any user text after them)
// merge into one user message, results first, in the order of the calls they answer. Pure
// functions; the mapping table is in docs/providers/anthropic.md.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "llm_providers/chat.h"

namespace keel::llm::wire {

struct AnthropicWireOptions {
  int default_max_tokens = 4096;  // max_tokens is required by the API
  // false: an output schema becomes a forced tool named OutputSchema::name (every model);
  // true: output_config.format json_schema (models with native structured outputs).
  bool native_structured_output = false;
};

nlohmann::json ToAnthropicRequest(const ChatRequest& request, const std::string& model,
                                  const AnthropicWireOptions& options);

// `output_tool`: the tool name that carries a structured reply ("" when none); its input
// becomes the reply text instead of a tool call. Throws WireError or nlohmann exceptions.
ChatResponse FromAnthropicResponse(const nlohmann::json& body, const std::string& output_tool);

// Imports Anthropic `system` (string, array or null) and `messages`.
std::vector<Message> FromAnthropicMessages(const nlohmann::json& system,
                                           const nlohmann::json& messages);

// Anthropic ids must match [a-zA-Z0-9_-]+: other characters become '_'.
std::string AnthropicToolId(std::string_view id);

}  // namespace keel::llm::wire
