// Choosing a provider by spec string, with keys and base URLs from an injected env.
#include "llm_providers/model_spec.h"

#include <gtest/gtest.h>

#include "tests/llm_providers/fake_server.h"

namespace keel::llm {
namespace {

using nlohmann::json;

TEST(ModelSpecTest, ParsesTheFourForms) {
  EXPECT_EQ(*ParseModelSpec("openai:gpt-4o-mini"), (ModelSpec{"openai", "gpt-4o-mini"}));
  EXPECT_EQ(*ParseModelSpec("anthropic:claude-sonnet-4-5"),
            (ModelSpec{"anthropic", "claude-sonnet-4-5"}));
  EXPECT_EQ(*ParseModelSpec("ollama:llama3.2:3b"), (ModelSpec{"ollama", "llama3.2:3b"}));
  EXPECT_EQ(*ParseModelSpec("offline"), (ModelSpec{"offline", ""}));
  EXPECT_EQ(ParseModelSpec("ollama:qwen2.5:7b")->ToString(), "ollama:qwen2.5:7b");
}

TEST(ModelSpecTest, RejectsUnknownProvidersAndMissingModels) {
  for (const char* bad : {"gemini:pro", "openai", "openai:", "anthropic:", "", "gpt-4o"}) {
    auto spec = ParseModelSpec(bad);
    ASSERT_FALSE(spec.ok()) << bad;
    EXPECT_EQ(spec.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(spec.status().message().find("openai:MODEL"), std::string::npos);
  }
}

TEST(ModelSpecTest, BuildsEachProvider) {
  ProviderOptions options{.env = MapEnv({{"OPENAI_API_KEY", "k1"}, {"ANTHROPIC_API_KEY", "k2"}})};
  auto openai = NewProvider("openai:gpt-4o", options);
  ASSERT_TRUE(openai.ok());
  EXPECT_EQ((*openai)->Name(), "openai");
  EXPECT_EQ((*openai)->DefaultModel(), "gpt-4o");
  auto anthropic = NewProvider("anthropic:claude-haiku-4-5", options);
  ASSERT_TRUE(anthropic.ok());
  EXPECT_EQ((*anthropic)->Name(), "anthropic");
  auto ollama = NewProvider("ollama:llama3.2", {.env = MapEnv({})});
  ASSERT_TRUE(ollama.ok());
  EXPECT_EQ((*ollama)->Name(), "ollama");
  auto offline = NewProvider("offline", {.env = MapEnv({})});
  ASSERT_TRUE(offline.ok());
  EXPECT_EQ((*offline)->Name(), "offline");
}

TEST(ModelSpecTest, MissingKeysAreReportedByName) {
  auto openai = NewProvider("openai:gpt-4o", {.env = MapEnv({})});
  ASSERT_FALSE(openai.ok());
  EXPECT_EQ(openai.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(openai.status().message().find("OPENAI_API_KEY"), std::string::npos);
  auto anthropic = NewProvider("anthropic:claude-haiku-4-5", {.env = MapEnv({})});
  ASSERT_FALSE(anthropic.ok());
  EXPECT_NE(anthropic.status().message().find("ANTHROPIC_API_KEY"), std::string::npos);
  EXPECT_TRUE(NewProvider("openai:gpt-4o", {.api_key = "explicit", .env = MapEnv({})}).ok());
}

TEST(ModelSpecTest, KeelModelPicksTheSpec) {
  EXPECT_EQ(ModelSpecFromEnv({.env = MapEnv({{"KEEL_MODEL", "anthropic:claude-haiku-4-5"}})}),
            "anthropic:claude-haiku-4-5");
  EXPECT_EQ(ModelSpecFromEnv({.env = MapEnv({})}), "offline");
  EXPECT_EQ(ModelSpecFromEnv({.env = MapEnv({})}, "ollama:llama3.2"), "ollama:llama3.2");
}

TEST(ModelSpecTest, BaseUrlsComeFromOptionsThenEnvironment) {
  testing::FakeServer server;
  auto reply =
      json::parse(R"({"choices": [{"finish_reason": "stop", "message": {"content": "hi"}}]})");
  server.Push(testing::Reply::Json(reply));
  server.Push(testing::Reply::Json(reply));
  server.Push(
      testing::Reply::Json(json::parse(R"({"content": [{"type": "text", "text": "hi"}]})")));
  // A compatible server given by URL needs no key.
  auto by_option =
      NewProvider("openai:local-model", {.base_url = server.Url() + "/a", .env = MapEnv({})});
  ASSERT_TRUE(by_option.ok()) << by_option.status().ToString();
  (*by_option)->Complete({.messages = {Message::User("x")}});
  EXPECT_EQ(server.LastRequest().path, "/a/chat/completions");
  auto by_env =
      NewProvider("openai:m", {.env = MapEnv({{"OPENAI_BASE_URL", server.Url() + "/b/"}})});
  ASSERT_TRUE(by_env.ok());
  (*by_env)->Complete({.messages = {Message::User("x")}});
  EXPECT_EQ(server.LastRequest().path, "/b/chat/completions");
  auto anthropic = NewProvider(
      "anthropic:m",
      {.env = MapEnv({{"ANTHROPIC_BASE_URL", server.Url()}, {"ANTHROPIC_API_KEY", "k"}})});
  ASSERT_TRUE(anthropic.ok());
  (*anthropic)->Complete({.messages = {Message::User("x")}});
  EXPECT_EQ(server.LastRequest().path, "/v1/messages");
}

TEST(ModelSpecTest, OfflineUsesTheGivenRules) {
  OfflineRules rules;
  rules.default_answer = "custom";
  auto offline = NewProvider("offline", {.env = MapEnv({}), .offline_rules = rules});
  ASSERT_TRUE(offline.ok());
  EXPECT_EQ((*offline)->Complete({.messages = {Message::User("x")}}).Text(),
            "[offline model] custom");
}

}  // namespace
}  // namespace keel::llm
