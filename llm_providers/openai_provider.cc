#include "llm_providers/openai_provider.h"

#include "llm_providers/http/provider_http.h"
#include "llm_providers/provider_errors.h"
#include "llm_providers/wire/openai_wire.h"
#include "llm_providers/wire/wire_error.h"

namespace keel::llm {

OpenAIProvider::OpenAIProvider(OpenAIOptions options) : options_(std::move(options)) {
  api_key_ = internal::ApplyDefaults(options_);
}

ChatResponse OpenAIProvider::Complete(const ChatRequest& request) {
  const std::string& provider = options_.provider_name;
  if (api_key_.empty() && options_.require_api_key) {
    throw ApplicationError(kConfigurationError,
                           provider + ": no API key (set " + options_.api_key_env + ")",
                           {.non_retryable = true});
  }
  const std::string model = request.model.empty() ? options_.model : request.model;
  if (model.empty()) {
    throw ApplicationError(kConfigurationError, provider + ": no model given",
                           {.non_retryable = true});
  }
  const nlohmann::json body =
      wire::ToOpenAIRequest(request, model, {.max_tokens_field = options_.max_tokens_field});

  internal::JsonCall call{.provider = provider, .secrets = {api_key_}};
  call.request.method = "POST";
  call.request.url = internal::JoinUrl(options_.base_url, "/chat/completions");
  call.request.headers = {{"Content-Type", "application/json"}, {"Accept", "application/json"}};
  if (!api_key_.empty()) call.request.headers.emplace_back("Authorization", "Bearer " + api_key_);
  for (const auto& h : options_.extra_headers) call.request.headers.push_back(h);
  call.request.body = body.dump();
  call.request.timeout = options_.timeout;
  call.request.connect_timeout = options_.connect_timeout;
  call.request.max_response_bytes = options_.max_response_bytes;

  internal::JsonReply reply = internal::SendJson(*options_.transport, *options_.clock, call);
  ChatResponse response;
  try {
    response = wire::FromOpenAIResponse(reply.body);
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
