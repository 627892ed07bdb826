#include "tools/mcp_tool.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "engine/errors.h"
#include "tests/tools/mcp_test_servers.h"
#include "tools/tool_registry.h"

namespace keel::tools {
namespace {

using ::testing::ElementsAre;
using testing::EverythingServer;
using testing::FakeServer;
using ::testing::HasSubstr;

std::shared_ptr<McpClient> StartOrDie(McpServerConfig config, McpClientOptions options = {}) {
  auto client = McpClient::Start(std::move(config), std::move(options));
  EXPECT_TRUE(client.ok()) << client.status().ToString();
  return client.ok() ? *client : nullptr;
}

TEST(McpToolTest, EveryServerToolBecomesAToolWithItsAnnotations) {
  auto client = StartOrDie({.command = EverythingServer()});
  ASSERT_NE(client, nullptr);
  auto tools = LoadMcpTools(client);
  ASSERT_TRUE(tools.ok()) << tools.status().ToString();
  ToolRegistry registry;
  ASSERT_TRUE(registry.AddAll(*tools).ok());
  auto echo = registry.Find("echo");
  ASSERT_NE(echo, nullptr);
  EXPECT_TRUE(echo->ValidatesArguments());
  EXPECT_EQ(echo->Spec().annotations.read_only_hint, true);
  EXPECT_EQ(echo->Spec().annotations.idempotent_hint, true);
  EXPECT_EQ(echo->Spec().annotations.open_world_hint, false);
  EXPECT_EQ(registry.Invoke("echo", {{"message", "via keel"}}).ToText(), "Echo: via keel");
}

TEST(McpToolTest, ArgumentsAreCheckedAgainstTheServersSchemaBeforeTheCall) {
  auto client = StartOrDie({.command = FakeServer()});
  ASSERT_NE(client, nullptr);
  auto tools = LoadMcpTools(client, {.only = {"echo"}});
  ASSERT_TRUE(tools.ok());
  ToolResult r = (*tools)[0]->Invoke({{"message", 42}});
  EXPECT_TRUE(r.is_error);
  EXPECT_THAT(r.ToText(),
              HasSubstr("invalid arguments for tool 'echo': /message: wrong type: got integer 42"));
}

TEST(McpToolTest, APrefixKeepsServersApartWhileTheServerSeesItsOwnNames) {
  auto client = StartOrDie({.command = EverythingServer()});
  ASSERT_NE(client, nullptr);
  auto tools = LoadMcpTools(client, {.name_prefix = "ev_", .only = {"get-sum", "echo"}});
  ASSERT_TRUE(tools.ok()) << tools.status().ToString();
  std::vector<std::string> names;
  for (const auto& t : *tools) names.push_back(t->Name());
  EXPECT_THAT(names, ElementsAre("ev_echo", "ev_get-sum"));
  EXPECT_THAT((*tools)[1]->Invoke({{"a", 20}, {"b", 22}}).ToText(), HasSubstr("42"));

  EXPECT_EQ(LoadMcpTools(client, {.only = {"nope"}}).status().code(), StatusCode::kNotFound);
}

TEST(McpToolTest, NoAnswerIsARetryableApplicationError) {
  auto client = StartOrDie({.command = FakeServer()});
  ASSERT_NE(client, nullptr);
  auto tools = LoadMcpTools(client);
  ASSERT_TRUE(tools.ok());
  ToolRegistry registry;
  ASSERT_TRUE(registry.AddAll(*tools).ok());
  try {
    registry.Invoke("crash", {});
    FAIL() << "expected an ApplicationError";
  } catch (const ApplicationError& e) {
    EXPECT_EQ(e.Type(), "McpServerUnavailable");
    EXPECT_FALSE(e.NonRetryable());
    EXPECT_THAT(e.what(), HasSubstr("exited with status 3"));
  }
  try {
    registry.Invoke("hang", {},
                    {.deadline = Clock::System().Now() + std::chrono::milliseconds(300)});
    FAIL() << "expected an ApplicationError";
  } catch (const ApplicationError& e) {
    EXPECT_EQ(e.Type(), "McpTimeout");
    EXPECT_FALSE(e.NonRetryable());
  }
  // The server answered: an error result, not an exception.
  ToolResult rpc = registry.Invoke("rpc_error", {});
  EXPECT_TRUE(rpc.is_error);
  client->Close();
  try {
    registry.Invoke("echo", {{"message", "x"}});
    FAIL() << "expected an ApplicationError";
  } catch (const ApplicationError& e) {
    EXPECT_EQ(e.Type(), "McpError");
    EXPECT_TRUE(e.NonRetryable());
  }
}

TEST(McpToolTest, CancellationWhileWaitingIsCanceledError) {
  auto client = StartOrDie({.command = FakeServer()});
  ASSERT_NE(client, nullptr);
  auto tools = LoadMcpTools(client, {.only = {"hang"}});
  ASSERT_TRUE(tools.ok());
  // Not cancelled when the call starts, cancelled while it waits for the answer.
  int asked = 0;
  EXPECT_THROW((*tools)[0]->Invoke({}, {.is_cancelled = [&] { return ++asked > 1; }}),
               CanceledError);
  EXPECT_GT(asked, 1);
}

}  // namespace
}  // namespace keel::tools
