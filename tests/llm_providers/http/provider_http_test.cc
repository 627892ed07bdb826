// Failure classification for retries: every HTTP status and transport error becomes the
// documented ApplicationError type, retryable or not, with Retry-After as the delay and
// no API key in any message.
#include "llm_providers/http/provider_http.h"

#include <gtest/gtest.h>

#include "llm_providers/provider_errors.h"

namespace keel::llm::internal {
namespace {

using namespace std::chrono_literals;

const Time kNow = ManualClock::DefaultStart();
const std::vector<std::string> kSecrets = {"sk-secret-123"};

ApplicationError ErrorFor(int status, std::string body = "{}", Headers headers = {}) {
  return HttpError("openai",
                   {.status = status, .headers = std::move(headers), .body = std::move(body)}, kNow,
                   kSecrets);
}

struct Case {
  int status;
  const char* body;
  const char* type;
  bool retryable;
};

TEST(ProviderHttpTest, StatusesMapToTheDocumentedTypes) {
  const Case cases[] = {
      {400, R"({"error":{"message":"bad","type":"invalid_request_error"}})", kInvalidRequest,
       false},
      {401, R"({"error":{"message":"bad key"}})", kAuthenticationFailed, false},
      {403, "{}", kPermissionDenied, false},
      {404, R"({"type":"error","error":{"type":"not_found_error","message":"model: x"}})",
       kNotFound, false},
      {408, "", kTimeout, true},
      {413, "{}", kInvalidRequest, false},
      {422, "{}", kInvalidRequest, false},
      {429, R"({"error":{"message":"slow down","type":"rate_limit_error"}})", kRateLimited, true},
      {429,
       R"({"error":{"message":"pay","type":"insufficient_quota","code":"insufficient_quota"}})",
       kQuotaExceeded, false},
      {500, "<html>oops</html>", kProviderUnavailable, true},
      {502, "", kProviderUnavailable, true},
      {503, "{}", kProviderUnavailable, true},
      {529, R"({"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}})",
       kProviderOverloaded, true},
      {500, R"({"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}})",
       kProviderOverloaded, true},
      {302, "", kMalformedResponse, false},
  };
  for (const auto& c : cases) {
    ApplicationError e = ErrorFor(c.status, c.body);
    EXPECT_EQ(e.Type(), c.type) << c.status << " " << c.body;
    EXPECT_EQ(e.NonRetryable(), !c.retryable) << c.status << " " << c.body;
    auto info = ErrorInfo(e);
    ASSERT_TRUE(info) << c.status;
    EXPECT_EQ(info->provider, "openai");
    EXPECT_EQ(info->http_status, c.status);
  }
}

TEST(ProviderHttpTest, MessagesCarryTheProvidersWords) {
  ApplicationError e = ErrorFor(
      400, R"({"error":{"message":"messages: field required","type":"invalid_request_error"}})");
  EXPECT_STREQ(e.what(), "openai: HTTP 400 (invalid_request_error): messages: field required");
  EXPECT_STREQ(ErrorFor(500, "").what(), "openai: HTTP 500: (empty body)");
  EXPECT_STREQ(ErrorFor(502, "<h1>Bad\ngateway</h1>").what(),
               "openai: HTTP 502: <h1>Bad gateway</h1>");
  EXPECT_STREQ(ErrorFor(500, R"({"error":"model not loaded"})").what(),
               "openai: HTTP 500: model not loaded");
}

TEST(ProviderHttpTest, RetryableErrorsCarryRetryAfterAsTheNextDelay) {
  ApplicationError e =
      ErrorFor(429, "{}", {{"retry-after", "20"}, {"x-ratelimit-remaining-requests", "0"}});
  EXPECT_EQ(e.NextRetryDelay(), Duration(20s));
  EXPECT_NE(std::string(e.what()).find("retry after 20 s"), std::string::npos) << e.what();
  auto info = ErrorInfo(e);
  ASSERT_TRUE(info);
  EXPECT_EQ(info->rate_limits.requests.remaining, 0);
  EXPECT_EQ(
      ErrorFor(529, "{}", {{"retry-after", "Thu, 01 Jan 2026 00:00:03 GMT"}}).NextRetryDelay(),
      Duration(3s));
  EXPECT_EQ(ErrorFor(503, "{}", {{"retry-after-ms", "1500"}}).NextRetryDelay(), Duration(1500ms));
  EXPECT_FALSE(ErrorFor(500).NextRetryDelay());
  // A non-retryable error never asks for a retry delay.
  EXPECT_FALSE(ErrorFor(400, "{}", {{"retry-after", "5"}}).NextRetryDelay());
}

TEST(ProviderHttpTest, TransportErrorsMapToTheDocumentedTypes) {
  ApplicationError timeout = TransportError(
      "anthropic", DeadlineExceeded("POST http://h/v1/messages: timed out"), kSecrets);
  EXPECT_EQ(timeout.Type(), kTimeout);
  EXPECT_FALSE(timeout.NonRetryable());
  EXPECT_STREQ(timeout.what(), "anthropic: POST http://h/v1/messages: timed out");
  ApplicationError refused =
      TransportError("anthropic", Unavailable("Couldn't connect to server"), kSecrets);
  EXPECT_EQ(refused.Type(), kProviderUnavailable);
  EXPECT_FALSE(refused.NonRetryable());
  ApplicationError bad_url =
      TransportError("anthropic", InvalidArgument("URL using bad/illegal format"), kSecrets);
  EXPECT_EQ(bad_url.Type(), kConfigurationError);
  EXPECT_TRUE(bad_url.NonRetryable());
  ApplicationError too_big =
      TransportError("anthropic", ResourceExhausted("response larger than 10 bytes"), kSecrets);
  EXPECT_EQ(too_big.Type(), kMalformedResponse);
  EXPECT_TRUE(too_big.NonRetryable());
}

TEST(ProviderHttpTest, SecretsAreRedactedEverywhere) {
  ApplicationError e = ErrorFor(
      401,
      R"({"error":{"message":"Incorrect API key provided: sk-secret-123.","type":"sk-secret-123"}})");
  EXPECT_EQ(std::string(e.what()).find("sk-secret-123"), std::string::npos) << e.what();
  EXPECT_NE(std::string(e.what()).find("[REDACTED]"), std::string::npos);
  EXPECT_EQ(PayloadPreview(e.Details().at(0), 1000).find("sk-secret-123"), std::string::npos);
  EXPECT_EQ(Redact("a \"k\\\"ey\" b", {"k\"ey"}), "a \"[REDACTED]\" b");
  EXPECT_EQ(Redact("keykey", {"key"}), "[REDACTED][REDACTED]");
  EXPECT_EQ(Redact("text", {""}), "text");
}

class OneReplyTransport final : public http::Transport {
 public:
  explicit OneReplyTransport(Result<http::Response> reply) : reply_(std::move(reply)) {}
  Result<http::Response> Send(const http::Request&) override { return reply_; }

 private:
  Result<http::Response> reply_;
};

// Bodies that are not JSON are shortened for the message; a key that straddles the cut
// must not leave its first characters behind.
TEST(ProviderHttpTest, AKeyAtTheEdgeOfAShortenedBodyLeavesNoPrefix) {
  const std::string prefix = kSecrets[0].substr(0, 8);  // "sk-secre"
  for (size_t pad = 180; pad < 310; ++pad) {
    const std::string body = std::string(pad, 'x') + kSecrets[0] + " proxy echo";
    const std::string http_error = ErrorFor(502, body).what();
    EXPECT_EQ(http_error.find(prefix), std::string::npos) << pad << ": " << http_error;

    ManualClock clock;
    OneReplyTransport t(http::Response{.status = 200, .body = body});
    try {
      SendJson(t, clock, {.provider = "openai", .secrets = kSecrets});
      FAIL() << "no error for " << body;
    } catch (const ApplicationError& e) {
      EXPECT_EQ(std::string(e.what()).find(prefix), std::string::npos) << pad << ": " << e.what();
    }
  }
}

TEST(ProviderHttpTest, SendJsonRejectsBodiesThatAreNotJsonObjects) {
  ManualClock clock;
  for (const char* body : {"not json", "[1,2]", "", "{\"truncated\":"}) {
    OneReplyTransport t(http::Response{.status = 200, .body = body});
    try {
      SendJson(t, clock, {.provider = "openai"});
      FAIL() << body;
    } catch (const ApplicationError& e) {
      EXPECT_EQ(e.Type(), kMalformedResponse) << body;
      EXPECT_TRUE(e.NonRetryable());
      EXPECT_NE(std::string(e.what()).find("malformed response"), std::string::npos) << e.what();
    }
  }
}

TEST(ProviderHttpTest, JoinUrlDropsTrailingSlashes) {
  EXPECT_EQ(JoinUrl("http://h/v1/", "/chat/completions"), "http://h/v1/chat/completions");
  EXPECT_EQ(JoinUrl("http://h/v1", "/chat/completions"), "http://h/v1/chat/completions");
}

}  // namespace
}  // namespace keel::llm::internal
