// `keel llm complete` as a user runs it: the keel binary as a child process, talking to a
// FakeServer on 127.0.0.1 (or to the offline model), with a controlled environment.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <spawn.h>
#include <sys/wait.h>

#include <algorithm>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "tests/llm_providers/fake_server.h"
#include "tests/support/temp_dir.h"

namespace keel::llm {
namespace {

using nlohmann::json;
using testing::FakeServer;
using testing::Reply;

constexpr char kKey[] = "sk-cli-test-0b1c2d3e";

struct CliRun {
  int exit_code = -1;
  std::string out;
  std::string err;
};

std::string Slurp(const std::string& path) {
  std::ifstream in(path);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

class LlmCommandTest : public ::testing::Test {
 protected:
  // Runs `keel llm ARGS...` with only the given environment variables.
  CliRun Keel(std::vector<std::string> args, std::vector<std::string> env = {}) {
    args.insert(args.begin(), {KEEL_CLI_PATH, "llm"});
    env.push_back("no_proxy=127.0.0.1,localhost");
    std::vector<char*> argv, envp;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    for (auto& e : env) envp.push_back(e.data());
    envp.push_back(nullptr);
    const std::string out = dir_.File("stdout"), err = dir_.File("stderr");
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_addopen(&actions, 2, err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    pid_t pid = 0;
    CliRun run;
    if (posix_spawn(&pid, KEEL_CLI_PATH, &actions, nullptr, argv.data(), envp.data()) == 0) {
      int status = 0;
      waitpid(pid, &status, 0);
      run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    }
    posix_spawn_file_actions_destroy(&actions);
    run.out = Slurp(out);
    run.err = Slurp(err);
    return run;
  }

  std::string WriteFile(const std::string& name, const std::string& text) {
    std::ofstream(dir_.File(name)) << text;
    return dir_.File(name);
  }

  keel::testing::TempDir dir_;
  FakeServer server_;
};

TEST_F(LlmCommandTest, OfflineModelAnswersWithoutNetwork) {
  CliRun r = Keel({"complete", "--model", "offline", "hello", "there"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("[offline model] I have no rule for that. You said: hello there"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("model: offline (offline)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("cost: unknown"), std::string::npos) << r.out;
  EXPECT_EQ(r.err, "");
}

TEST_F(LlmCommandTest, KeelModelIsTheDefaultSpec) {
  CliRun r = Keel({"complete", "hi"}, {"KEEL_MODEL=offline"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("model: offline"), std::string::npos) << r.out;
}

TEST_F(LlmCommandTest, PrintsToolCallsUsageAndCostFromAProvider) {
  server_.Push(Reply::Json(json::parse(R"({"id": "chatcmpl-9", "model": "gpt-4o-mini-2024-07-18",
    "choices": [{"finish_reason": "tool_calls", "message": {"role": "assistant", "content": "Let me look.",
      "tool_calls": [{"id": "call_7", "type": "function", "function": {"name": "lookup_order", "arguments": "{\"id\":\"42\"}"}}]}}],
    "usage": {"prompt_tokens": 2000, "completion_tokens": 1000}})")));
  const std::string tools =
      WriteFile("tools.json", R"([{"name": "lookup_order", "description": "Find an order",
      "parameters": {"type": "object", "properties": {"id": {"type": "string"}}}}])");
  CliRun r = Keel(
      {"complete", "--model", "openai:gpt-4o-mini", "--base-url", server_.Url() + "/v1", "--system",
       "You are a clerk.", "--tools", tools, "--max-tokens", "50", "Where is order 42?"},
      {std::string("OPENAI_API_KEY=") + kKey});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out,
            "Let me look.\n"
            "tool call: lookup_order {\"id\":\"42\"} (id call_7)\n"
            "\n"
            "model: gpt-4o-mini-2024-07-18 (openai), finish: tool_calls\n"
            "usage: 2000 input, 1000 output tokens\n"
            "cost: $0.000900\n");
  auto sent = server_.LastRequest();
  EXPECT_EQ(sent.Header("authorization"), std::string("Bearer ") + kKey);
  EXPECT_EQ(sent.Json(), json::parse(R"({"model": "gpt-4o-mini",
    "messages": [{"role": "system", "content": "You are a clerk."}, {"role": "user", "content": "Where is order 42?"}],
    "tools": [{"type": "function", "function": {"name": "lookup_order", "description": "Find an order",
               "parameters": {"type": "object", "properties": {"id": {"type": "string"}}}}}],
    "max_completion_tokens": 50})"));
}

TEST_F(LlmCommandTest, JsonPrintsTheChatResponseWithStructuredOutput) {
  server_.Push(
      Reply::Json(json::parse(R"({"type": "message", "id": "msg_1", "model": "claude-haiku-4-5",
    "content": [{"type": "tool_use", "id": "toolu_1", "name": "output", "input": {"risk": "low"}}],
    "stop_reason": "tool_use", "usage": {"input_tokens": 10, "output_tokens": 4}})")));
  const std::string schema =
      WriteFile("schema.json", R"({"type": "object", "properties": {"risk": {"type": "string"}}})");
  CliRun r = Keel({"complete", "--model=anthropic:claude-haiku-4-5", "--base-url", server_.Url(),
                   "--schema", schema, "--json", "Rate order 7"},
                  {"ANTHROPIC_API_KEY=ant-key"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  json out = json::parse(r.out);
  EXPECT_EQ(out["provider"], "anthropic");
  EXPECT_EQ(out["message"]["content"][0]["text"], R"({"risk":"low"})");
  EXPECT_EQ(out["finish_reason"], "stop");
  EXPECT_EQ(out["usage"]["input_tokens"], 10);
  EXPECT_EQ(server_.LastRequest().Json()["tool_choice"],
            json::parse(R"({"type":"tool","name":"output"})"));
}

TEST_F(LlmCommandTest, ProviderFailureIsOneLineOnStderrWithoutTheKey) {
  server_.SetHandler([](const testing::RecordedRequest& req) {
    return Reply::Json(
        {{"error", {{"message", "Incorrect API key provided:\n" + req.Header("authorization")}}}},
        401);
  });
  CliRun r =
      Keel({"complete", "--model", "openai:gpt-4o", "--base-url", server_.Url() + "/v1", "hi"},
           {std::string("OPENAI_API_KEY=") + kKey});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err,
            "keel llm: AuthenticationFailed: openai: HTTP 401: Incorrect API key provided: Bearer "
            "[REDACTED]\n");
}

TEST_F(LlmCommandTest, RateLimitSaysWhenToRetry) {
  server_.Push({.status = 429,
                .body = R"({"error":{"message":"slow down"}})",
                .headers = {{"retry-after", "3"}}});
  CliRun r =
      Keel({"complete", "--model", "ollama:llama3.2", "--base-url", server_.Url() + "/v1", "hi"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "keel llm: RateLimited: ollama: HTTP 429: slow down (retry after 3 s)\n");
}

TEST_F(LlmCommandTest, MissingKeyFails) {
  CliRun r = Keel({"complete", "--model", "anthropic:claude-haiku-4-5", "hi"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err,
            "keel llm: ANTHROPIC_API_KEY is not set (needed for anthropic:claude-haiku-4-5)\n");
}

TEST_F(LlmCommandTest, BadUsageExitsTwoWithOneLineOnStderr) {
  for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{
           {},
           {"complete"},
           {"complete", "--model", "gemini:pro", "hi"},
           {"complete", "--bogus", "hi"},
           {"complete", "--tools", dir_.File("missing.json"), "hi"},
           {"complete", "--tools", WriteFile("tools.json", R"({"name": "t"})"), "hi"},
           {"complete", "--schema", WriteFile("bad.json", "{nope"), "hi"},
           {"complete", "--max-tokens", "many", "hi"},
           {"complete", "--timeout", "0", "hi"},
           {"complete", "--timeout", "inf", "hi"},
           {"complete", "--timeout", "nan", "hi"},
           {"complete", "--temperature", "nan", "hi"},
           {"frobnicate"}}) {
    CliRun r = Keel(args);
    std::string shown;
    for (const auto& a : args) shown += a + " ";
    EXPECT_EQ(r.exit_code, 2) << shown;
    EXPECT_EQ(r.out, "") << shown;
    EXPECT_EQ(r.err.rfind("keel llm: ", 0), 0u) << shown << ": " << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << shown << ": " << r.err;
  }
  CliRun r = Keel({"complete", "--model"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, "keel llm: --model needs a value (see keel llm --help)\n");
}

TEST_F(LlmCommandTest, HelpGoesToStdout) {
  CliRun r = Keel({"complete", "--help"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("usage: keel llm complete"), std::string::npos);
}

}  // namespace
}  // namespace keel::llm
