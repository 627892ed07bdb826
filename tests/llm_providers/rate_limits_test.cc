// Rate-limit and Retry-After headers of both providers, parsed into RateLimits.
#include "llm_providers/rate_limits.h"

#include <gtest/gtest.h>

namespace keel::llm {
namespace {

using namespace std::chrono_literals;

const Time kNow = ManualClock::DefaultStart();  // 2026-01-01T00:00:00Z

TEST(RateLimitsTest, ParsesOpenAIHeaders) {
  Headers h = {
      {"x-ratelimit-limit-requests", "5000"},     {"x-ratelimit-remaining-requests", "4999"},
      {"x-ratelimit-reset-requests", "12ms"},     {"x-ratelimit-limit-tokens", "160000"},
      {"x-ratelimit-remaining-tokens", "159976"}, {"x-ratelimit-reset-tokens", "6m0s"},
      {"content-type", "application/json"}};
  RateLimits r = ParseRateLimits(h, kNow);
  EXPECT_EQ(r.requests.limit, 5000);
  EXPECT_EQ(r.requests.remaining, 4999);
  EXPECT_EQ(r.requests.reset_after, Duration(12ms));
  EXPECT_EQ(r.tokens.limit, 160000);
  EXPECT_EQ(r.tokens.remaining, 159976);
  EXPECT_EQ(r.tokens.reset_after, Duration(6min));
  EXPECT_EQ(r.headers.size(), 6u);
  EXPECT_FALSE(r.retry_after);
}

TEST(RateLimitsTest, ParsesAnthropicHeadersWithAbsoluteResets) {
  Headers h = {{"anthropic-ratelimit-requests-limit", "1000"},
               {"anthropic-ratelimit-requests-remaining", "999"},
               {"anthropic-ratelimit-requests-reset", "2026-01-01T00:00:30Z"},
               {"anthropic-ratelimit-input-tokens-limit", "80000"},
               {"anthropic-ratelimit-input-tokens-remaining", "0"},
               {"anthropic-ratelimit-input-tokens-reset", "2026-01-01T00:01:00.500Z"},
               {"anthropic-ratelimit-output-tokens-remaining", "16000"},
               {"anthropic-ratelimit-tokens-reset", "2025-12-31T23:59:00Z"},  // in the past
               {"retry-after", "30"}};
  RateLimits r = ParseRateLimits(h, kNow);
  EXPECT_EQ(r.requests.limit, 1000);
  EXPECT_EQ(r.requests.remaining, 999);
  EXPECT_EQ(r.requests.reset_after, Duration(30s));
  EXPECT_EQ(r.input_tokens.limit, 80000);
  EXPECT_EQ(r.input_tokens.remaining, 0);
  EXPECT_EQ(r.input_tokens.reset_after, Duration(60500ms));
  EXPECT_EQ(r.output_tokens.remaining, 16000);
  EXPECT_EQ(r.tokens.reset_after, Duration::zero());
  EXPECT_EQ(r.retry_after, Duration(30s));
}

TEST(RateLimitsTest, RetryAfterInSecondsFractionsMillisecondsAndDates) {
  EXPECT_EQ(ParseRetryAfter({{"retry-after", "20"}}, kNow), Duration(20s));
  EXPECT_EQ(ParseRetryAfter({{"retry-after", "1.5"}}, kNow), Duration(1500ms));
  EXPECT_EQ(ParseRetryAfter({{"retry-after-ms", "250"}, {"retry-after", "9"}}, kNow),
            Duration(250ms));
  EXPECT_EQ(ParseRetryAfter({{"retry-after", "Thu, 01 Jan 2026 00:00:45 GMT"}}, kNow),
            Duration(45s));
  EXPECT_EQ(ParseRetryAfter({{"retry-after", "Wed, 31 Dec 2025 00:00:00 GMT"}}, kNow),
            Duration::zero());
  EXPECT_EQ(ParseRetryAfter({{"retry-after", "-5"}}, kNow), Duration::zero());
  EXPECT_FALSE(ParseRetryAfter({{"retry-after", "soon"}}, kNow));
  EXPECT_FALSE(ParseRetryAfter({}, kNow));
}

TEST(RateLimitsTest, GoDurations) {
  EXPECT_EQ(ParseGoDuration("1s"), Duration(1s));
  EXPECT_EQ(ParseGoDuration("1h2m3.5s"), Duration(3723500ms));
  EXPECT_EQ(ParseGoDuration("20ms"), Duration(20ms));
  EXPECT_EQ(ParseGoDuration("0s"), Duration::zero());
  EXPECT_FALSE(ParseGoDuration("5 parsecs"));
  EXPECT_FALSE(ParseGoDuration(""));
}

TEST(RateLimitsTest, Timestamps) {
  EXPECT_EQ(ParseRfc3339("2026-01-01T01:00:00+01:00"), kNow);
  EXPECT_EQ(ParseRfc3339("2025-12-31T23:00:00-01:00"), kNow);
  EXPECT_FALSE(ParseRfc3339("2026-01-01T00:00:00"));  // no offset
  EXPECT_FALSE(ParseRfc3339("2026-02-30T00:00:00Z"));
  EXPECT_EQ(ParseHttpDate("Thu, 01 Jan 2026 00:00:00 GMT"), kNow);
  EXPECT_FALSE(ParseHttpDate("Thursday, 01-Jan-26 00:00:00 GMT"));
}

TEST(RateLimitsTest, RoundTripsThroughJson) {
  RateLimits r =
      ParseRateLimits({{"x-ratelimit-remaining-tokens", "7"}, {"retry-after", "2"}}, kNow);
  EXPECT_EQ(nlohmann::json(r).get<RateLimits>(), r);
  EXPECT_TRUE(RateLimits{}.empty());
  EXPECT_FALSE(r.empty());
}

}  // namespace
}  // namespace keel::llm
