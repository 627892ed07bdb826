// Internal: the canonical chat model <-> OpenAI Chat Completions JSON. Tool-call arguments
// go out as a string (raw_arguments verbatim when set, else the object as compact JSON);
// tool results are `tool` messages carrying tool_call_id, in transcript order. Pure
// functions; the mapping table is in docs/providers/openai.md.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "llm_providers/chat.h"

namespace keel::llm::wire {

struct OpenAIWireOptions {
  // "max_completion_tokens" (OpenAI) or "max_tokens" (Ollama, vLLM, llama.cpp server).
  std::string max_tokens_field = "max_completion_tokens";
};

nlohmann::json ToOpenAIRequest(const ChatRequest& request, const std::string& model,
                               const OpenAIWireOptions& options);
nlohmann::json ToOpenAIMessages(const std::vector<Message>& messages);

// Throws WireError or nlohmann::json::exception when the body has another shape.
ChatResponse FromOpenAIResponse(const nlohmann::json& body);
// Imports an OpenAI `messages` array (e.g. a recorded conversation); tool results get their
// tool_name from the assistant call they answer.
std::vector<Message> FromOpenAIMessages(const nlohmann::json& messages);

}  // namespace keel::llm::wire
