// Choosing a provider by spec string, from code or from KEEL_MODEL: "openai:MODEL",
// "anthropic:MODEL", "ollama:MODEL" (http://127.0.0.1:11434/v1 unless overridden) or
// "offline". Keys come from OPENAI_API_KEY / ANTHROPIC_API_KEY, base URLs from the options
// or OPENAI_BASE_URL / ANTHROPIC_BASE_URL / OLLAMA_BASE_URL, all through the injected env.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "engine/clock.h"
#include "engine/http.h"
#include "engine/status.h"
#include "llm_providers/env.h"
#include "llm_providers/offline_model.h"
#include "llm_providers/pricing.h"
#include "llm_providers/provider.h"

namespace keel::llm {

inline constexpr char kDefaultOllamaBaseUrl[] = "http://127.0.0.1:11434/v1";

struct ModelSpec {
  std::string provider;  // "openai", "anthropic", "ollama", "offline"
  std::string model;     // empty for "offline"

  std::string ToString() const;  // "openai:gpt-4o-mini", "offline"
  bool operator==(const ModelSpec&) const = default;
};

// InvalidArgument for an unknown provider or a missing model.
Result<ModelSpec> ParseModelSpec(std::string_view spec);

// Everything is optional; unset fields keep each provider's defaults.
struct ProviderOptions {
  std::string base_url;  // empty: the environment override, else the provider's default
  std::string api_key;   // empty: the provider's key variable
  EnvReader env;         // null: ProcessEnv()
  std::shared_ptr<http::Transport> transport;            // null: the shared libcurl transport
  const Clock* clock = nullptr;                          // null: Clock::System()
  const PriceTable* prices = nullptr;                    // null: DefaultPriceTable()
  std::optional<Duration> timeout;                       // null: the provider's default
  OfflineRules offline_rules = OfflineRules::Default();  // for "offline"
};

// A provider for `spec`. FailedPrecondition when its API key is not set.
Result<std::unique_ptr<LlmProvider>> NewProvider(std::string_view spec,
                                                 const ProviderOptions& options = {});

// The spec in KEEL_MODEL (read through options.env), or `fallback` when it is unset.
std::string ModelSpecFromEnv(const ProviderOptions& options = {},
                             std::string_view fallback = "offline");

}  // namespace keel::llm
