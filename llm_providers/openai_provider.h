// OpenAIProvider: Chat Completions (POST {base_url}/chat/completions) with tools and
// response_format json_schema. The base URL makes the same code serve OpenAI, Ollama,
// vLLM and llama.cpp's server. One HTTP attempt per Complete (no hidden retries); the key
// is read once at construction and appears only in the Authorization header. Thread-safe.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "engine/clock.h"
#include "engine/http.h"
#include "llm_providers/env.h"
#include "llm_providers/pricing.h"
#include "llm_providers/provider.h"

namespace keel::llm {

struct OpenAIOptions {
  // The model for requests that leave ChatRequest::model empty.
  std::string model;
  // Requests go to base_url + "/chat/completions".
  std::string base_url = "https://api.openai.com/v1";
  // Empty: read from the environment variable api_key_env (OPENAI_API_KEY).
  std::string api_key;
  std::string api_key_env = "OPENAI_API_KEY";
  // false for servers that need no key (Ollama, a local vLLM): none is sent when absent.
  bool require_api_key = true;
  // Names the provider in responses, errors and logs ("openai", "ollama", "vllm", ...).
  std::string provider_name = "openai";
  // "max_completion_tokens" (OpenAI; required by reasoning models) or "max_tokens"
  // (what Ollama, vLLM and llama.cpp's server read).
  std::string max_tokens_field = "max_completion_tokens";
  // Sent with every request (e.g. {"OpenAI-Organization", "org-..."}).
  std::vector<std::pair<std::string, std::string>> extra_headers;
  Duration timeout = std::chrono::seconds(120);  // the whole request
  Duration connect_timeout = std::chrono::seconds(10);
  size_t max_response_bytes = 32u << 20;
  // null: the process-wide libcurl transport (keep-alive connections, system CAs, proxy
  // variables). Tests pass their own.
  std::shared_ptr<http::Transport> transport;
  // null: ProcessEnv().
  EnvReader env;
  // null: Clock::System(). Turns Retry-After dates and rate-limit reset stamps into delays.
  const Clock* clock = nullptr;
  // null: DefaultPriceTable().
  const PriceTable* prices = nullptr;
};

class OpenAIProvider final : public LlmProvider {
 public:
  explicit OpenAIProvider(OpenAIOptions options = {});

  // Throws keel::ApplicationError (provider_errors.h); ConfigurationError when the key is
  // required and missing.
  ChatResponse Complete(const ChatRequest& request) override;
  std::string Name() const override { return options_.provider_name; }
  std::string DefaultModel() const override { return options_.model; }

 private:
  OpenAIOptions options_;
  std::string api_key_;
};

}  // namespace keel::llm
