// An API key never appears in an error, its details or a log line, whatever the server
// sends back: each provider runs against a FakeServer that echoes the credential header in
// every failure a provider reports (JSON errors, HTML pages, malformed 2xx bodies, rate
// limits), with the keel logger at trace level and its output captured.
#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>

#include <algorithm>
#include <functional>
#include <memory>
#include <sstream>
#include <string>

#include "engine/log.h"
#include "llm_providers/anthropic_provider.h"
#include "llm_providers/openai_provider.h"
#include "llm_providers/provider_errors.h"
#include "tests/llm_providers/fake_server.h"

namespace keel::llm {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
using testing::FakeServer;
using testing::RecordedRequest;
using testing::Reply;

constexpr char kOpenAIKey[] = "sk-proj-leakcheck-9f8e7d6c5b4a";
constexpr char kAnthropicKey[] = "sk-ant-api03-leakcheck-1a2b3c4d";

// Routes the keel logger, at trace level, into a string for the test's lifetime.
class CapturedLog {
 public:
  CapturedLog() : sink_(std::make_shared<spdlog::sinks::ostream_sink_mt>(out_)) {
    old_level_ = Log().level();
    Log().set_level(spdlog::level::trace);
    Log().sinks().push_back(sink_);
  }
  ~CapturedLog() {
    auto& sinks = Log().sinks();
    sinks.erase(std::remove(sinks.begin(), sinks.end(), sink_), sinks.end());
    Log().set_level(old_level_);
  }
  std::string Text() {
    Log().flush();
    return out_.str();
  }

 private:
  std::ostringstream out_;
  std::shared_ptr<spdlog::sinks::ostream_sink_mt> sink_;
  spdlog::level::level_enum old_level_;
};

// Text that puts the key inside credential `c` ("Bearer sk-..." or "sk-...") at `offset`.
std::string Padding(const std::string& c, size_t offset) {
  return std::string(offset - c.find("sk-"), '.');
}

// What a careless server or proxy might send back, each with the credential in it.
using Echo = std::function<Reply(const std::string& credential)>;

std::vector<std::pair<std::string, Echo>> Echoes(const std::string& error_json_prefix) {
  return {
      {"401 json",
       [=](const std::string& c) {
         return Reply{.status = 401,
                      .body = error_json_prefix + json("invalid key: " + c).dump() + "}}"};
       }},
      {"429 json with retry-after",
       [=](const std::string& c) {
         return Reply{.status = 429,
                      .body = error_json_prefix + json("slow down, " + c).dump() + "}}",
                      .headers = {{"retry-after", "2"}}};
       }},
      // Providers shorten such bodies to 300 (error status) or 200 (2xx) bytes: the key
      // starts 10 bytes before the cut.
      {"502 html, key where the body is cut",
       [](const std::string& c) {
         return Reply{.status = 502, .body = Padding(c, 290) + c + "</html>"};
       }},
      {"200 not json, key where the body is cut",
       [](const std::string& c) {
         return Reply{.status = 200, .body = Padding(c, 190) + c + " upstream"};
       }},
      {"200 json of the wrong shape",
       [](const std::string& c) {
         return Reply::Json({{"choices", c}, {"content", c}, {"error", c}});
       }},
  };
}

struct Case {
  std::string provider;
  std::string key;
  std::string header;  // where the key travels
  std::string error_json_prefix;
  std::function<std::unique_ptr<LlmProvider>(const std::string& url)> make;
};

void PrintTo(const Case& c, std::ostream* os) { *os << c.provider; }

class ApiKeyTest : public ::testing::TestWithParam<Case> {};

TEST_P(ApiKeyTest, NeverInAnErrorItsDetailsOrALogLine) {
  const Case& c = GetParam();
  const std::string prefix = c.key.substr(0, 8);  // no fragment either
  FakeServer server;
  Echo echo;
  server.SetHandler([&](const RecordedRequest& req) { return echo(req.Header(c.header)); });
  std::unique_ptr<LlmProvider> provider = c.make(server.Url());
  CapturedLog log;

  auto expect_clean = [&](const std::string& what, const std::string& text) {
    EXPECT_EQ(text.find(prefix), std::string::npos) << what << ": " << text;
  };
  auto fail = [&](const std::string& name) {
    try {
      provider->Complete({.messages = {Message::User("hi")}});
      ADD_FAILURE() << name << ": no error";
    } catch (const ApplicationError& e) {
      expect_clean(name + " message", e.what());
      expect_clean(name + " type", e.Type());
      for (const auto& d : e.Details()) expect_clean(name + " details", PayloadPreview(d, 1 << 20));
    }
  };

  for (const auto& [name, reply] : Echoes(c.error_json_prefix)) {
    echo = reply;
    fail(name);
  }
  // Each failure reached the server with the key, so the echoes above did carry it.
  ASSERT_EQ(server.Requests().size(), Echoes(c.error_json_prefix).size());
  EXPECT_NE(server.LastRequest().Header(c.header).find(c.key), std::string::npos);

  echo = [](const std::string&) { return Reply{.stall = true}; };
  fail("stalled");
  server.Stop();
  fail("connection refused");

  const std::string logged = log.Text();
  EXPECT_NE(logged.find("llm " + c.provider), std::string::npos) << "nothing was logged";
  expect_clean("log", logged);
}

INSTANTIATE_TEST_SUITE_P(
    Providers, ApiKeyTest,
    ::testing::Values(
        Case{.provider = "openai",
             .key = kOpenAIKey,
             .header = "authorization",
             .error_json_prefix = R"({"error":{"type":"invalid_request_error","message":)",
             .make =
                 [](const std::string& url) {
                   return std::make_unique<OpenAIProvider>(
                       OpenAIOptions{.model = "gpt-4o",
                                     .base_url = url + "/v1",
                                     .timeout = 300ms,
                                     .env = MapEnv({{"OPENAI_API_KEY", kOpenAIKey}})});
                 }},
        Case{.provider = "anthropic",
             .key = kAnthropicKey,
             .header = "x-api-key",
             .error_json_prefix =
                 R"({"type":"error","error":{"type":"authentication_error","message":)",
             .make =
                 [](const std::string& url) {
                   return std::make_unique<AnthropicProvider>(
                       AnthropicOptions{.model = "claude-sonnet-4-5",
                                        .base_url = url,
                                        .timeout = 300ms,
                                        .env = MapEnv({{"ANTHROPIC_API_KEY", kAnthropicKey}})});
                 }}),
    [](const ::testing::TestParamInfo<Case>& info) { return info.param.provider; });

}  // namespace
}  // namespace keel::llm
