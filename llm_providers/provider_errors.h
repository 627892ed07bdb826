// The keel::ApplicationError types LlmProvider::Complete throws, so a RetryPolicy's
// non_retryable list and a workflow's catch site can name them. Retryable ones carry the
// server's Retry-After as next_retry_delay; every message is free of API keys. The table
// with the HTTP statuses behind each type is in docs/llm-providers.md.
#pragma once

#include <optional>
#include <string>

#include "engine/errors.h"
#include "llm_providers/rate_limits.h"

namespace keel::llm {

// Retryable.
inline constexpr char kRateLimited[] = "RateLimited";                  // 429
inline constexpr char kProviderOverloaded[] = "ProviderOverloaded";    // 529, overloaded_error
inline constexpr char kProviderUnavailable[] = "ProviderUnavailable";  // 5xx, connection failed
inline constexpr char kTimeout[] = "Timeout";                          // no answer in time, 408
inline constexpr char kInvalidOutput[] = "InvalidOutput";  // reply is not the JSON asked for

// Non-retryable.
inline constexpr char kInvalidRequest[] = "InvalidRequest";              // 400, 422, other 4xx
inline constexpr char kAuthenticationFailed[] = "AuthenticationFailed";  // 401
inline constexpr char kPermissionDenied[] = "PermissionDenied";          // 403
inline constexpr char kNotFound[] = "NotFound";                      // 404 (unknown model, bad URL)
inline constexpr char kQuotaExceeded[] = "QuotaExceeded";            // 429 insufficient_quota
inline constexpr char kMalformedResponse[] = "MalformedResponse";    // unparseable 2xx body
inline constexpr char kConfigurationError[] = "ConfigurationError";  // missing key, bad URL
inline constexpr char kScriptExhausted[] = "ScriptExhausted";        // ScriptedModel ran out

// What a provider error carries besides its message (ApplicationError::Details()[0]).
struct ProviderErrorInfo {
  std::string provider;       // "openai", "anthropic", ...
  int http_status = 0;        // 0 when no response came
  std::string provider_type;  // the provider's own error type ("overloaded_error", ...)
  RateLimits rate_limits;     // the error response's rate-limit headers
};

// The info attached to an error a provider threw; nullopt for other errors.
std::optional<ProviderErrorInfo> ErrorInfo(const ApplicationError& error);

void to_json(nlohmann::json& j, const ProviderErrorInfo& i);
void from_json(const nlohmann::json& j, ProviderErrorInfo& i);

}  // namespace keel::llm
