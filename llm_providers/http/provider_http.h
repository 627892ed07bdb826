// Internal: one provider HTTP call. Sends a JSON request through the injected Transport,
// turns every failure (no response, non-2xx status, a body that is not JSON) into the
// keel::ApplicationError types of provider_errors.h, and scrubs the API key from every
// message it builds. Stateless; thread-safe.
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "engine/clock.h"
#include "engine/errors.h"
#include "engine/http.h"
#include "engine/status.h"
#include "llm_providers/env.h"
#include "llm_providers/pricing.h"
#include "llm_providers/rate_limits.h"

namespace keel::llm::internal {

struct JsonCall {
  std::string provider;  // names the provider in messages and ErrorInfo
  http::Request request;
  std::vector<std::string> secrets;  // never appear in any message (the API key)
};

struct JsonReply {
  nlohmann::json body;  // always an object
  RateLimits rate_limits;
};

// Throws ApplicationError for every failure.
JsonReply SendJson(http::Transport& transport, const Clock& clock, const JsonCall& call);

// The error for a response with a non-2xx status.
ApplicationError HttpError(const std::string& provider, const http::Response& response, Time now,
                           const std::vector<std::string>& secrets);
// The error for a request that got no response.
ApplicationError TransportError(const std::string& provider, const Status& status,
                                const std::vector<std::string>& secrets);
// A 2xx body that does not have the provider's shape.
ApplicationError MalformedResponse(const std::string& provider, const std::string& what);

// `text` with every occurrence of each non-empty secret (raw or JSON-escaped) replaced.
std::string Redact(std::string text, const std::vector<std::string>& secrets);

// base_url (trailing slashes dropped) + path.
std::string JoinUrl(std::string_view base_url, std::string_view path);

// One libcurl transport for the process, so every provider shares its connection pool.
std::shared_ptr<http::Transport> SharedCurlTransport();

// Fills a provider's unset options (transport, env, clock, prices) with the defaults and
// returns its API key: the given one, else the one in the environment variable named by
// api_key_env. Shared by the OpenAI and Anthropic providers, whose options have these
// fields.
template <typename Options>
std::string ApplyDefaults(Options& o) {
  if (!o.transport) o.transport = SharedCurlTransport();
  if (!o.env) o.env = ProcessEnv();
  if (!o.clock) o.clock = &Clock::System();
  if (!o.prices) o.prices = &DefaultPriceTable();
  if (!o.api_key.empty() || o.api_key_env.empty()) return o.api_key;
  return o.env(o.api_key_env).value_or("");
}

}  // namespace keel::llm::internal
