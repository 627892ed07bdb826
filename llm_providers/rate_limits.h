// RateLimits: what a provider said about its rate limits in one response's headers
// (OpenAI's x-ratelimit-*, Anthropic's anthropic-ratelimit-*, and Retry-After), parsed into
// one shape so a shared limiter can pace every call to one provider/model/key. Values
// only; the parse functions are pure (the caller passes the current time).
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "engine/clock.h"

namespace keel::llm {

// One limited quantity (requests, tokens, ...) in the provider's current window.
struct RateLimitWindow {
  std::optional<int64_t> limit;
  std::optional<int64_t> remaining;
  // Time until the window refills, relative to when the response arrived.
  std::optional<Duration> reset_after;

  bool empty() const { return !limit && !remaining && !reset_after; }
  bool operator==(const RateLimitWindow&) const = default;
};

struct RateLimits {
  RateLimitWindow requests;
  RateLimitWindow tokens;         // input + output where the provider counts them together
  RateLimitWindow input_tokens;   // Anthropic only
  RateLimitWindow output_tokens;  // Anthropic only
  // The server's Retry-After (retry-after-ms, or retry-after in seconds or an HTTP-date).
  std::optional<Duration> retry_after;
  // Every x-ratelimit-* / anthropic-ratelimit-* header as received (lower-case names).
  std::map<std::string, std::string> headers;

  bool empty() const;
  bool operator==(const RateLimits&) const = default;
};

using Headers = std::vector<std::pair<std::string, std::string>>;  // lower-case names

// Parses the rate-limit headers of either provider; `now` turns absolute reset times
// (Anthropic's RFC 3339 stamps, HTTP-dates) into durations.
RateLimits ParseRateLimits(const Headers& headers, Time now);

// retry-after-ms, else retry-after (seconds, possibly fractional, or an HTTP-date);
// never negative. nullopt when absent or unparseable.
std::optional<Duration> ParseRetryAfter(const Headers& headers, Time now);

// Go-style durations as OpenAI sends them: "1s", "6m0s", "20ms", "1h2m3.5s".
std::optional<Duration> ParseGoDuration(std::string_view text);
// RFC 3339 ("2025-08-21T12:40:59Z", fractions and offsets allowed) and IMF-fixdate
// ("Wed, 21 Oct 2015 07:28:00 GMT").
std::optional<Time> ParseRfc3339(std::string_view text);
std::optional<Time> ParseHttpDate(std::string_view text);

void to_json(nlohmann::json& j, const RateLimitWindow& w);
void from_json(const nlohmann::json& j, RateLimitWindow& w);
void to_json(nlohmann::json& j, const RateLimits& r);
void from_json(const nlohmann::json& j, RateLimits& r);

}  // namespace keel::llm
