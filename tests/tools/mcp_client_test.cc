#include "tools/mcp_client.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "tests/support/temp_dir.h"
#include "tests/tools/mcp_test_servers.h"
#include "tools/mcp/protocol_versions.h"

namespace keel::tools {
namespace {

using ::testing::Contains;
using ::testing::ElementsAre;
using testing::EverythingServer;
using testing::FakeServer;
using testing::FilesystemServer;
using ::testing::HasSubstr;
using ::testing::Not;

std::shared_ptr<McpClient> StartOrDie(McpServerConfig config, McpClientOptions options = {}) {
  auto client = McpClient::Start(std::move(config), std::move(options));
  EXPECT_TRUE(client.ok()) << client.status().ToString();
  return client.ok() ? *client : nullptr;
}

std::vector<std::string> Names(const std::vector<ToolSpec>& specs) {
  std::vector<std::string> names;
  for (const auto& s : specs) names.push_back(s.name);
  return names;
}

// ---- the reference servers ----

TEST(McpClientEverythingTest, NegotiatesAVersionAndListsToolsWithSchemasAndAnnotations) {
  auto client = StartOrDie({.command = EverythingServer()});
  ASSERT_NE(client, nullptr);
  EXPECT_TRUE(mcp::IsSupportedProtocolVersion(client->ProtocolVersion()))
      << client->ProtocolVersion();
  EXPECT_EQ(client->ServerInfo()["name"], "mcp-servers/everything");

  auto tools = client->ListTools();
  ASSERT_TRUE(tools.ok()) << tools.status().ToString();
  EXPECT_THAT(Names(*tools), Contains("echo"));
  EXPECT_THAT(Names(*tools), Contains("get-sum"));
  for (const auto& t : *tools) {
    if (t.name != "echo") continue;
    EXPECT_EQ(t.input_schema["required"], Json::array({"message"}));
    EXPECT_EQ(t.annotations.read_only_hint, true);
    EXPECT_EQ(t.annotations.destructive_hint, false);
    EXPECT_EQ(t.annotations.idempotent_hint, true);
    EXPECT_FALSE(t.description.empty());
  }
}

TEST(McpClientEverythingTest, CallsTools) {
  auto client = StartOrDie({.command = EverythingServer()});
  ASSERT_NE(client, nullptr);
  auto echo = client->CallTool("echo", {{"message", "hello"}});
  ASSERT_TRUE(echo.ok()) << echo.status().ToString();
  EXPECT_FALSE(echo->is_error);
  EXPECT_EQ(echo->ToText(), "Echo: hello");

  auto sum = client->CallTool("get-sum", {{"a", 2}, {"b", 3}});
  ASSERT_TRUE(sum.ok()) << sum.status().ToString();
  EXPECT_THAT(sum->ToText(), HasSubstr("5"));
}

TEST(McpClientEverythingTest, TheServersErrorsAreErrorResults) {
  auto client = StartOrDie({.command = EverythingServer()});
  ASSERT_NE(client, nullptr);
  auto missing_arg = client->CallTool("echo", Json::object());
  ASSERT_TRUE(missing_arg.ok()) << missing_arg.status().ToString();
  EXPECT_TRUE(missing_arg->is_error);
  EXPECT_THAT(missing_arg->ToText(), HasSubstr("message"));

  auto unknown = client->CallTool("no-such-tool", Json::object());
  ASSERT_TRUE(unknown.ok()) << unknown.status().ToString();
  EXPECT_TRUE(unknown->is_error);
  EXPECT_THAT(unknown->ToText(), HasSubstr("no-such-tool"));
}

TEST(McpClientEverythingTest, TheServerNeverSeesApiKeys) {
  ::setenv("KEEL_TEST_OPENAI_API_KEY", "sk-must-not-leak", 1);
  ::setenv("KEEL_TEST_PLAIN_SETTING", "plain", 1);
  auto client = StartOrDie({.command = EverythingServer(), .pass_env = {"KEEL_TEST_*"}});
  ASSERT_NE(client, nullptr);
  auto env = client->CallTool("get-env", Json::object());
  ::unsetenv("KEEL_TEST_OPENAI_API_KEY");
  ::unsetenv("KEEL_TEST_PLAIN_SETTING");
  ASSERT_TRUE(env.ok()) << env.status().ToString();
  EXPECT_THAT(env->ToText(), HasSubstr("KEEL_TEST_PLAIN_SETTING"));
  EXPECT_THAT(env->ToText(), HasSubstr("\"PATH\""));
  EXPECT_THAT(env->ToText(), Not(HasSubstr("sk-must-not-leak")));
  EXPECT_THAT(env->ToText(), Not(HasSubstr("KEEL_TEST_OPENAI_API_KEY")));
}

TEST(McpClientEverythingTest, AKilledServerGivesAClearError) {
  auto client = StartOrDie({.command = EverythingServer()}, {.restart_on_failure = false});
  ASSERT_NE(client, nullptr);
  int pid = client->ServerPid();
  ASSERT_GT(pid, 0);
  ASSERT_EQ(::kill(pid, SIGKILL), 0);
  auto r = client->CallTool("echo", {{"message", "anyone there?"}});
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable);
  EXPECT_THAT(r.status().message(), HasSubstr("MCP server 'node "));
  EXPECT_THAT(r.status().message(),
              HasSubstr("server-everything/dist/index.js stdio' was killed by signal 9"));
  EXPECT_EQ(client->ListTools().status().code(), StatusCode::kUnavailable);
}

TEST(McpClientEverythingTest, ClosesCleanly) {
  auto client = StartOrDie({.command = EverythingServer()});
  ASSERT_NE(client, nullptr);
  int pid = client->ServerPid();
  client->Close();
  EXPECT_EQ(client->ServerPid(), 0);
  EXPECT_NE(::kill(pid, 0), 0);  // exited and reaped
  EXPECT_EQ(client->CallTool("echo", {{"message", "x"}}).status().code(),
            StatusCode::kFailedPrecondition);
  client->Close();  // idempotent
}

TEST(McpClientFilesystemTest, ReadsFilesOnlyInsideItsDirectory) {
  keel::testing::TempDir dir;
  std::ofstream(dir.File("hello.txt")) << "hello from the filesystem server";
  auto client = StartOrDie({.command = FilesystemServer(dir.path())});
  ASSERT_NE(client, nullptr);
  auto tools = client->ListTools();
  ASSERT_TRUE(tools.ok()) << tools.status().ToString();
  EXPECT_THAT(Names(*tools), Contains("read_text_file"));

  auto read = client->CallTool("read_text_file", {{"path", dir.File("hello.txt")}});
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  EXPECT_FALSE(read->is_error) << read->ToText();
  EXPECT_EQ(read->ToText(), "hello from the filesystem server");

  auto outside = client->CallTool("read_text_file", {{"path", "/etc/hostname"}});
  ASSERT_TRUE(outside.ok()) << outside.status().ToString();
  EXPECT_TRUE(outside->is_error);
}

// ---- what the reference servers cannot show on demand (fake_mcp_server.mjs) ----

TEST(McpClientFakeServerTest, FollowsTheListCursorAcrossPages) {
  auto client = StartOrDie({.command = FakeServer({"--pages", "3"})});
  ASSERT_NE(client, nullptr);
  auto tools = client->ListTools();
  ASSERT_TRUE(tools.ok()) << tools.status().ToString();
  EXPECT_THAT(Names(*tools), ElementsAre("echo", "env", "meta", "crash", "hang", "cancellations",
                                         "rpc_error", "tool_error", "ask_client"));
  EXPECT_EQ((*tools)[0].annotations.title, "Echo");
  EXPECT_EQ(client->Instructions(), "Use echo to test.");
}

TEST(McpClientFakeServerTest, AcceptsAnOlderListedVersionAndRefusesAnUnknownOne) {
  auto older = StartOrDie({.command = FakeServer({"--version", "2025-06-18"})});
  ASSERT_NE(older, nullptr);
  EXPECT_EQ(older->ProtocolVersion(), "2025-06-18");

  auto future = McpClient::Start({.command = FakeServer({"--version", "2099-01-01"})});
  EXPECT_EQ(future.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(future.status().message(), HasSubstr("speaks MCP protocol version '2099-01-01'"));
  EXPECT_THAT(future.status().message(), HasSubstr("Keel supports 2025-11-25, 2025-06-18"));
}

TEST(McpClientFakeServerTest, StartupFailuresSayWhy) {
  auto exits = McpClient::Start({.command = FakeServer({"--exit-at-start"})});
  EXPECT_EQ(exits.status().code(), StatusCode::kUnavailable);
  EXPECT_THAT(exits.status().message(),
              HasSubstr("fake_mcp_server.mjs --exit-at-start' exited with status 7"));
  EXPECT_THAT(exits.status().message(),
              HasSubstr("stderr: fake server: missing configuration file"));

  auto refuses = McpClient::Start({.command = FakeServer({"--refuse-init"})});
  EXPECT_EQ(refuses.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(refuses.status().message(),
              HasSubstr("refused to initialize: MCP error -32600: not today"));

  auto missing = McpClient::Start({.command = {"keel-no-such-mcp-server"}});
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_THAT(missing.status().message(), HasSubstr("command not found"));
}

TEST(McpClientFakeServerTest, ACrashFailsTheCallAndTheNextCallRestartsTheServer) {
  auto client = StartOrDie({.command = FakeServer()});
  ASSERT_NE(client, nullptr);
  int first_pid = client->ServerPid();
  auto crash = client->CallTool("crash", Json::object());
  EXPECT_EQ(crash.status().code(), StatusCode::kUnavailable);
  EXPECT_THAT(crash.status().message(),
              HasSubstr("exited with status 3; stderr: fake server: crashing on request"));

  auto again = client->CallTool("echo", {{"message", "back"}});
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(again->ToText(), "Echo: back");
  EXPECT_NE(client->ServerPid(), first_pid);
}

TEST(McpClientFakeServerTest, ATimedOutRequestIsCancelledAtTheServer) {
  auto client = StartOrDie({.command = FakeServer()});
  ASSERT_NE(client, nullptr);
  // Only this call has a short deadline, so a slow machine cannot fail the others.
  auto hang = client->CallTool(
      "hang", Json::object(), {.deadline = Clock::System().Now() + std::chrono::milliseconds(300)});
  EXPECT_EQ(hang.status().code(), StatusCode::kDeadlineExceeded);
  EXPECT_THAT(hang.status().message(), HasSubstr("did not answer tools/call in time"));
  // The server got a notifications/cancelled for that request before this next call.
  auto cancelled = client->CallTool("cancellations", Json::object());
  ASSERT_TRUE(cancelled.ok()) << cancelled.status().ToString();
  EXPECT_EQ((*cancelled->structured)["cancelled"].size(), 1u);
  // And the connection still works.
  EXPECT_EQ(client->CallTool("echo", {{"message", "still here"}})->ToText(), "Echo: still here");
}

TEST(McpClientFakeServerTest, TheCallersCancellationStopsTheWait) {
  auto client = StartOrDie({.command = FakeServer()});
  ASSERT_NE(client, nullptr);
  auto hang = client->CallTool("hang", Json::object(), {.is_cancelled = [] { return true; }});
  EXPECT_EQ(hang.status().code(), StatusCode::kCancelled);
}

TEST(McpClientFakeServerTest, JsonRpcErrorsAndIsErrorAreErrorResults) {
  auto client = StartOrDie({.command = FakeServer()});
  ASSERT_NE(client, nullptr);
  auto rpc = client->CallTool("rpc_error", Json::object());
  ASSERT_TRUE(rpc.ok());
  EXPECT_TRUE(rpc->is_error);
  EXPECT_EQ(rpc->ToText(), "MCP error -32603: internal failure");
  auto tool = client->CallTool("tool_error", Json::object());
  ASSERT_TRUE(tool.ok());
  EXPECT_TRUE(tool->is_error);
  EXPECT_EQ(tool->ToText(), "it went wrong");
}

TEST(McpClientFakeServerTest, AnswersPingsAndRefusesOtherServerRequests) {
  auto client = StartOrDie({.command = FakeServer()});
  ASSERT_NE(client, nullptr);
  auto asked = client->CallTool("ask_client", Json::object());
  ASSERT_TRUE(asked.ok()) << asked.status().ToString();
  const Json& s = *asked->structured;
  EXPECT_EQ(s["ping"]["result"], Json::object());
  EXPECT_EQ(s["sampling"]["error"]["code"], -32601);
}

TEST(McpClientFakeServerTest, SkipsLinesThatAreNotJsonRpc) {
  auto client = StartOrDie({.command = FakeServer({"--junk"})});
  ASSERT_NE(client, nullptr);
  EXPECT_TRUE(client->ListTools().ok());
}

TEST(McpClientFakeServerTest, SendsTheIdempotencyKeyAsMeta) {
  auto client = StartOrDie({.command = FakeServer()});
  ASSERT_NE(client, nullptr);
  auto meta =
      client->CallTool("meta", Json::object(), {.idempotency_key = "default/order-7/run-1/4"});
  ASSERT_TRUE(meta.ok());
  EXPECT_EQ((*meta->structured)["keel/idempotency-key"], "default/order-7/run-1/4");
}

TEST(McpClientFakeServerTest, TheEnvironmentIsScrubbed) {
  ::setenv("KEEL_FAKE_GITHUB_TOKEN", "ghp_secret", 1);
  ::setenv("KEEL_FAKE_REGION", "eu", 1);
  ::setenv("KEEL_UNRELATED", "x", 1);
  auto client = StartOrDie({.command = FakeServer(),
                            .env = {{"SERVICE_API_KEY", "given-on-purpose"}},
                            .pass_env = {"KEEL_FAKE_*"}});
  ::unsetenv("KEEL_FAKE_GITHUB_TOKEN");
  ::unsetenv("KEEL_FAKE_REGION");
  ::unsetenv("KEEL_UNRELATED");
  ASSERT_NE(client, nullptr);
  auto env = client->CallTool("env", Json::object());
  ASSERT_TRUE(env.ok());
  const Json& e = *env->structured;
  EXPECT_EQ(e.value("KEEL_FAKE_REGION", ""), "eu");
  EXPECT_EQ(e.value("SERVICE_API_KEY", ""), "given-on-purpose");
  EXPECT_FALSE(e.contains("KEEL_FAKE_GITHUB_TOKEN"));
  EXPECT_FALSE(e.contains("KEEL_UNRELATED"));
  EXPECT_TRUE(e.contains("PATH"));
}

TEST(McpClientFakeServerTest, OverlappingCallsEachGetTheirOwnAnswer) {
  auto client = StartOrDie({.command = FakeServer()});
  ASSERT_NE(client, nullptr);
  std::vector<std::thread> threads;
  std::vector<std::string> answers(8);
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&, i] {
      auto r = client->CallTool("echo", {{"message", std::to_string(i)}});
      answers[i] = r.ok() ? r->ToText() : r.status().ToString();
    });
  }
  for (auto& t : threads) t.join();
  for (int i = 0; i < 8; ++i) EXPECT_EQ(answers[i], "Echo: " + std::to_string(i));
}

}  // namespace
}  // namespace keel::tools
