#include "llm_providers/http/provider_http.h"

#include <chrono>
#include <cstdio>

#include "engine/log.h"
#include "llm_providers/provider_errors.h"

namespace keel::llm::internal {

namespace {

using nlohmann::json;

constexpr char kRedacted[] = "[REDACTED]";

// One line, at most `max` bytes: provider bodies can be HTML pages.
std::string OneLine(std::string_view text, size_t max = 300) {
  std::string out;
  for (char c : text.substr(0, max)) out += (c == '\n' || c == '\r' || c == '\t') ? ' ' : c;
  if (text.size() > max) out += "...";
  return out;
}

std::string StringField(const json& object, const char* name) {
  if (!object.is_object() || !object.contains(name)) return "";
  const json& v = object.at(name);
  if (v.is_string()) return v.get<std::string>();
  if (v.is_number()) return v.dump();
  return "";
}

struct ErrorBody {
  std::string message;
  std::string type;  // "rate_limit_error", "overloaded_error", ...
  std::string code;  // OpenAI's code ("insufficient_quota", "invalid_api_key")
};

// OpenAI: {"error":{"message","type","code"}}; Anthropic: {"type":"error","error":{"type",
// "message"}}; Ollama and others: {"error":"text"} or {"message":"text"}.
ErrorBody ParseErrorBody(const std::string& body) {
  ErrorBody out;
  json j = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (j.is_object()) {
    if (j.contains("error") && j.at("error").is_object()) {
      const json& e = j.at("error");
      out.message = StringField(e, "message");
      out.type = StringField(e, "type");
      out.code = StringField(e, "code");
    } else {
      out.message = StringField(j, "error");
      if (out.message.empty()) out.message = StringField(j, "message");
    }
  }
  if (out.message.empty()) out.message = body.empty() ? "(empty body)" : OneLine(body);
  return out;
}

std::string FormatDelay(Duration d) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3g s", std::chrono::duration<double>(d).count());
  return buf;
}

Payloads InfoDetails(const ProviderErrorInfo& info) { return {JsonPayload(info)}; }

ApplicationError Make(const char* type, std::string message, bool retryable,
                      std::optional<Duration> delay, const ProviderErrorInfo& info) {
  ApplicationErrorOptions options{.non_retryable = !retryable, .details = InfoDetails(info)};
  if (retryable && delay) options.next_retry_delay = delay;
  return ApplicationError(type, message, std::move(options));
}

}  // namespace

std::string Redact(std::string text, const std::vector<std::string>& secrets) {
  for (const auto& secret : secrets) {
    if (secret.empty()) continue;
    const std::string escaped = json(secret).dump();  // as it would appear inside JSON text
    for (const std::string& needle : {secret, escaped.substr(1, escaped.size() - 2)}) {
      for (size_t pos = text.find(needle); pos != std::string::npos;
           pos = text.find(needle, pos + sizeof(kRedacted) - 1)) {
        text.replace(pos, needle.size(), kRedacted);
      }
    }
  }
  return text;
}

ApplicationError HttpError(const std::string& provider, const http::Response& response, Time now,
                           const std::vector<std::string>& secrets) {
  const int status = response.status;
  // Redact before anything shortens the body: a key cut in half no longer matches.
  const ErrorBody body = ParseErrorBody(Redact(response.body, secrets));
  ProviderErrorInfo info{.provider = provider,
                         .http_status = status,
                         .provider_type = Redact(body.type, secrets),
                         .rate_limits = ParseRateLimits(response.headers, now)};
  const std::optional<Duration> delay = info.rate_limits.retry_after;
  std::string message = provider + ": HTTP " + std::to_string(status);
  if (!body.type.empty()) message += " (" + body.type + ")";
  message += ": " + body.message;

  const char* type = kInvalidRequest;
  bool retryable = false;
  if (status == 529 || body.type == "overloaded_error") {
    type = kProviderOverloaded;
    retryable = true;
  } else if (status == 429 &&
             (body.type == "insufficient_quota" || body.code == "insufficient_quota")) {
    type = kQuotaExceeded;
  } else if (status == 429) {
    type = kRateLimited;
    retryable = true;
  } else if (status == 408) {
    type = kTimeout;
    retryable = true;
  } else if (status >= 500) {
    type = kProviderUnavailable;
    retryable = true;
  } else if (status == 401) {
    type = kAuthenticationFailed;
  } else if (status == 403) {
    type = kPermissionDenied;
  } else if (status == 404) {
    type = kNotFound;
  } else if (status < 400) {
    type = kMalformedResponse;
    message = provider + ": unexpected HTTP status " + std::to_string(status);
  }
  if (retryable && delay) message += " (retry after " + FormatDelay(*delay) + ")";
  return Make(type, Redact(std::move(message), secrets), retryable, delay, info);
}

ApplicationError TransportError(const std::string& provider, const Status& status,
                                const std::vector<std::string>& secrets) {
  const ProviderErrorInfo info{.provider = provider};
  std::string message = Redact(provider + ": " + status.message(), secrets);
  switch (status.code()) {
    case StatusCode::kDeadlineExceeded:
      return Make(kTimeout, std::move(message), true, std::nullopt, info);
    case StatusCode::kInvalidArgument:
      return Make(kConfigurationError, std::move(message), false, std::nullopt, info);
    case StatusCode::kResourceExhausted:
      return Make(kMalformedResponse, std::move(message), false, std::nullopt, info);
    default:
      return Make(kProviderUnavailable, std::move(message), true, std::nullopt, info);
  }
}

ApplicationError MalformedResponse(const std::string& provider, const std::string& what) {
  return Make(kMalformedResponse, provider + ": malformed response: " + what, false, std::nullopt,
              ProviderErrorInfo{.provider = provider, .http_status = 200});
}

JsonReply SendJson(http::Transport& transport, const Clock& clock, const JsonCall& call) {
  const std::string where =
      call.request.method + " " + call.request.url.substr(0, call.request.url.find('?'));
  auto result = transport.Send(call.request);
  if (!result.ok()) {
    Log().debug("llm {}: {} failed: {}", call.provider, Redact(where, call.secrets),
                Redact(result.status().ToString(), call.secrets));
    throw TransportError(call.provider, result.status(), call.secrets);
  }
  const http::Response& response = *result;
  Log().debug("llm {}: {} -> HTTP {}", call.provider, Redact(where, call.secrets), response.status);
  const Time now = clock.Now();
  if (response.status < 200 || response.status >= 300) {
    throw HttpError(call.provider, response, now, call.secrets);
  }
  json body = json::parse(response.body, nullptr, /*allow_exceptions=*/false);
  if (body.is_discarded() || !body.is_object()) {
    throw MalformedResponse(call.provider, "the body is not a JSON object: " +
                                               OneLine(Redact(response.body, call.secrets), 200));
  }
  return {std::move(body), ParseRateLimits(response.headers, now)};
}

std::string JoinUrl(std::string_view base_url, std::string_view path) {
  while (!base_url.empty() && base_url.back() == '/') base_url.remove_suffix(1);
  return std::string(base_url) + std::string(path);
}

std::shared_ptr<http::Transport> SharedCurlTransport() {
  static const std::shared_ptr<http::Transport> transport = http::NewCurlTransport();
  return transport;
}

}  // namespace keel::llm::internal
