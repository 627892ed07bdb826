// AnthropicProvider: the Messages API (POST {base_url}/v1/messages) with the system
// prompt at the top level, a required max_tokens, tool_use / tool_result blocks and the
// anthropic-version header. One HTTP attempt per Complete (no hidden retries); the key is
// read once at construction and appears only in the x-api-key header. Thread-safe.
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

struct AnthropicOptions {
  // The model for requests that leave ChatRequest::model empty.
  std::string model;
  // Requests go to base_url + "/v1/messages".
  std::string base_url = "https://api.anthropic.com";
  // Empty: read from the environment variable api_key_env (ANTHROPIC_API_KEY).
  std::string api_key;
  std::string api_key_env = "ANTHROPIC_API_KEY";
  std::string version = "2023-06-01";  // the anthropic-version header
  std::vector<std::string> beta;       // anthropic-beta values, if any
  // max_tokens for requests that do not set SamplingParams::max_tokens.
  int default_max_tokens = 4096;
  // How ChatRequest::output_schema is sent. kTool (works with every model): a tool named
  // after the schema that the model must call; its input becomes the reply text.
  // kNative: output_config.format json_schema (models with native structured outputs).
  enum class StructuredOutput { kTool, kNative };
  StructuredOutput structured_output = StructuredOutput::kTool;
  std::vector<std::pair<std::string, std::string>> extra_headers;
  Duration timeout = std::chrono::seconds(120);  // the whole request
  Duration connect_timeout = std::chrono::seconds(10);
  size_t max_response_bytes = 32u << 20;
  // null: the process-wide libcurl transport. Tests pass their own.
  std::shared_ptr<http::Transport> transport;
  // null: ProcessEnv().
  EnvReader env;
  // null: Clock::System(). Turns Retry-After dates and rate-limit reset stamps into delays.
  const Clock* clock = nullptr;
  // null: DefaultPriceTable().
  const PriceTable* prices = nullptr;
};

class AnthropicProvider final : public LlmProvider {
 public:
  explicit AnthropicProvider(AnthropicOptions options = {});

  // Throws keel::ApplicationError (provider_errors.h); ConfigurationError when the key is
  // missing.
  ChatResponse Complete(const ChatRequest& request) override;
  std::string Name() const override { return "anthropic"; }
  std::string DefaultModel() const override { return options_.model; }

 private:
  AnthropicOptions options_;
  std::string api_key_;
};

}  // namespace keel::llm
