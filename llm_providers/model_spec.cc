#include "llm_providers/model_spec.h"

#include "llm_providers/anthropic_provider.h"
#include "llm_providers/openai_provider.h"

namespace keel::llm {

namespace {

constexpr char kSpecHelp[] = "expected openai:MODEL, anthropic:MODEL, ollama:MODEL or offline";

std::string BaseUrl(const ProviderOptions& options, const EnvReader& env, const char* variable,
                    std::string fallback) {
  if (!options.base_url.empty()) return options.base_url;
  return env(variable).value_or(std::move(fallback));
}

}  // namespace

std::string ModelSpec::ToString() const {
  return model.empty() ? provider : provider + ":" + model;
}

Result<ModelSpec> ParseModelSpec(std::string_view spec) {
  const auto colon = spec.find(':');
  ModelSpec out{
      .provider = std::string(spec.substr(0, colon)),
      .model = colon == std::string_view::npos ? "" : std::string(spec.substr(colon + 1))};
  if (out.provider == "offline") return out;
  if (out.provider != "openai" && out.provider != "anthropic" && out.provider != "ollama") {
    return InvalidArgument("unknown model spec '" + std::string(spec) + "' (" + kSpecHelp + ")");
  }
  if (out.model.empty()) {
    return InvalidArgument("model spec '" + std::string(spec) + "' names no model (" + kSpecHelp +
                           ")");
  }
  return out;
}

Result<std::unique_ptr<LlmProvider>> NewProvider(std::string_view spec_text,
                                                 const ProviderOptions& options) {
  KEEL_ASSIGN_OR_RETURN(ModelSpec spec, ParseModelSpec(spec_text));
  const EnvReader env = options.env ? options.env : ProcessEnv();
  if (spec.provider == "offline") {
    return std::unique_ptr<LlmProvider>(std::make_unique<OfflineModel>(options.offline_rules));
  }
  if (spec.provider == "anthropic") {
    AnthropicOptions o{
        .model = spec.model,
        .base_url = BaseUrl(options, env, "ANTHROPIC_BASE_URL", "https://api.anthropic.com"),
        .api_key = options.api_key,
        .transport = options.transport,
        .env = env,
        .clock = options.clock,
        .prices = options.prices};
    if (options.timeout) o.timeout = *options.timeout;
    if (o.api_key.empty() && !env(o.api_key_env)) {
      return FailedPrecondition(o.api_key_env + " is not set (needed for " + spec.ToString() + ")");
    }
    return std::unique_ptr<LlmProvider>(std::make_unique<AnthropicProvider>(std::move(o)));
  }
  OpenAIOptions o{.model = spec.model,
                  .api_key = options.api_key,
                  .transport = options.transport,
                  .env = env,
                  .clock = options.clock,
                  .prices = options.prices};
  if (options.timeout) o.timeout = *options.timeout;
  if (spec.provider == "ollama") {
    o.base_url = BaseUrl(options, env, "OLLAMA_BASE_URL", kDefaultOllamaBaseUrl);
    o.api_key_env = "OLLAMA_API_KEY";  // only for a proxy in front of Ollama
    o.require_api_key = false;
    o.provider_name = "ollama";
    o.max_tokens_field = "max_tokens";
  } else {
    const std::string official = o.base_url;
    o.base_url = BaseUrl(options, env, "OPENAI_BASE_URL", official);
    // A compatible server elsewhere (vLLM, llama.cpp) may need no key.
    o.require_api_key = o.base_url == official;
    if (o.require_api_key && o.api_key.empty() && !env(o.api_key_env)) {
      return FailedPrecondition(o.api_key_env + " is not set (needed for " + spec.ToString() + ")");
    }
  }
  return std::unique_ptr<LlmProvider>(std::make_unique<OpenAIProvider>(std::move(o)));
}

std::string ModelSpecFromEnv(const ProviderOptions& options, std::string_view fallback) {
  const EnvReader env = options.env ? options.env : ProcessEnv();
  return env("KEEL_MODEL").value_or(std::string(fallback));
}

}  // namespace keel::llm
