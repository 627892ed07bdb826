#include "llm_providers/anthropic_provider.h"

#include "llm_providers/http/provider_http.h"
#include "llm_providers/provider_errors.h"
#include "llm_providers/wire/anthropic_wire.h"
#include "llm_providers/wire/wire_error.h"

namespace keel::llm {

AnthropicProvider::AnthropicProvider(AnthropicOptions options) : options_(std::move(options)) {
  api_key_ = internal::ApplyDefaults(options_);
}

ChatResponse AnthropicProvider::Complete(const ChatRequest& request) {
  const std::string provider = Name();
  if (api_key_.empty()) {
    throw ApplicationError(kConfigurationError,
                           provider + ": no API key (set " + options_.api_key_env + ")",
                           {.non_retryable = true});
  }
  const std::string model = request.model.empty() ? options_.model : request.model;
  if (model.empty()) {
    throw ApplicationError(kConfigurationError, provider + ": no model given",
                           {.non_retryable = true});
  }
  const bool native = options_.structured_output == AnthropicOptions::StructuredOutput::kNative;
  const nlohmann::json body = wire::ToAnthropicRequest(
      request, model,
      {.default_max_tokens = options_.default_max_tokens, .native_structured_output = native});
  const std::string output_tool =
      request.output_schema && !native ? request.output_schema->name : std::string();

  internal::JsonCall call{.provider = provider, .secrets = {api_key_}};
  call.request.method = "POST";
  call.request.url = internal::JoinUrl(options_.base_url, "/v1/messages");
  call.request.headers = {{"Content-Type", "application/json"},
                          {"Accept", "application/json"},
                          {"x-api-key", api_key_},
                          {"anthropic-version", options_.version}};
  if (!options_.beta.empty()) {
    std::string beta;
    for (const auto& b : options_.beta) beta += (beta.empty() ? "" : ",") + b;
    call.request.headers.emplace_back("anthropic-beta", beta);
  }
  for (const auto& h : options_.extra_headers) call.request.headers.push_back(h);
  call.request.body = body.dump();
  call.request.timeout = options_.timeout;
  call.request.connect_timeout = options_.connect_timeout;
  call.request.max_response_bytes = options_.max_response_bytes;

  internal::JsonReply reply = internal::SendJson(*options_.transport, *options_.clock, call);
  ChatResponse response;
  try {
    response = wire::FromAnthropicResponse(reply.body, output_tool);
  } catch (const wire::WireError& e) {
    throw internal::MalformedResponse(provider, internal::Redact(e.what(), call.secrets));
  } catch (const nlohmann::json::exception& e) {
    throw internal::MalformedResponse(provider, internal::Redact(e.what(), call.secrets));
  }
  response.provider = provider;
  if (response.model.empty()) response.model = model;
  response.rate_limits = std::move(reply.rate_limits);
  response.cost = options_.prices->CostOf(response.model, response.usage);
  return response;
}

}  // namespace keel::llm
