// The examples of docs/tools.md and docs/mcp.md, kept compiling (and true where they run
// without a network).
#include <gtest/gtest.h>

#include <cstdio>
#include <nlohmann/json.hpp>

#include "engine/activity.h"
#include "engine/registry.h"
#include "tools/calculator_tool.h"
#include "tools/mcp_client.h"
#include "tools/mcp_tool.h"
#include "tools/tool_registry.h"
#include "tools/typed_tool.h"

namespace {

struct Forecast {
  std::string city;
  int days = 1;
  static nlohmann::json Schema() {
    return nlohmann::json::parse(R"({
      "type": "object",
      "properties": {
        "city": {"type": "string", "description": "City name, e.g. Oslo"},
        "days": {"type": "integer", "minimum": 1, "maximum": 7}
      },
      "required": ["city"],
      "additionalProperties": false
    })");
  }
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(Forecast, city, days)

struct Weather {
  std::string city;
  double celsius = 0;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(Weather, city, celsius)

TEST(ToolsDocTest, TheTypedToolExampleDoesWhatItSays) {
  auto forecast = keel::tools::MakeTool<Forecast>(
      "forecast", "The weather forecast for a city", [](const Forecast& f) {
        if (f.city == "Atlantis") throw keel::tools::ToolError("no city named 'Atlantis'");
        return Weather{f.city, 21.5};
      });
  keel::tools::ToolRegistry tools;
  ASSERT_TRUE(tools.Add(forecast).ok());
  keel::tools::ToolResult ok = tools.Invoke("forecast", {{"city", "Oslo"}});
  EXPECT_EQ(ok.ToText(), R"({"celsius":21.5,"city":"Oslo"})");
  EXPECT_FALSE(ok.is_error);
  keel::tools::ToolResult bad = tools.Invoke("forecast", {{"city", "Oslo"}, {"days", "3"}});
  EXPECT_TRUE(bad.is_error);
  EXPECT_EQ(bad.ToText(),
            R"(invalid arguments for tool 'forecast': /days: wrong type: got string "3")");
  EXPECT_EQ(
      tools.Invoke("forecast", {{"days", "3"}}).ToText(),
      R"(invalid arguments for tool 'forecast': /days: wrong type: got string "3"; Missing required property 'city')");
  EXPECT_EQ(tools.Invoke("forecast", {{"city", "Atlantis"}}).ToText(), "no city named 'Atlantis'");
  EXPECT_EQ(keel::tools::NewCalculatorTool()->Invoke({{"expression", "2 * (3 + 4) ^ 2"}}).ToText(),
            "98");
}

// docs/mcp.md's program, compiled but not run (it starts a server with npx).
[[maybe_unused]] int McpDocExample() {
  auto client = keel::tools::McpClient::Start(
      {.command = {"npx", "-y", "@modelcontextprotocol/server-filesystem",
                   "/srv/agent-workspace"}});
  if (!client.ok()) {
    std::fprintf(stderr, "%s\n", client.status().ToString().c_str());
    return 1;
  }
  auto tools = keel::tools::LoadMcpTools(*client, {.name_prefix = "fs_"});
  if (!tools.ok()) return 1;

  keel::tools::ToolRegistry registry;
  if (!registry.AddAll(*tools).ok()) return 1;
  keel::tools::ToolResult r =
      registry.Invoke("fs_list_directory", {{"path", "/srv/agent-workspace"}});
  std::printf("%s\n", r.ToText().c_str());
  return 0;
}

TEST(ToolsDocTest, AToolCallRegistersAsAnActivity) {
  keel::tools::ToolRegistry tools;
  keel::Registry registry;
  registry.RegisterActivity(
      "tool.forecast", [&tools](keel::ActivityContext& ctx, nlohmann::json args) {
        return tools.Invoke("forecast", args,
                            {.idempotency_key = ctx.IdempotencyKey(), .is_cancelled = [&ctx] {
                               ctx.Heartbeat();
                               return ctx.IsCancelled();
                             }});
      });
  EXPECT_NE(registry.FindActivity("tool.forecast"), nullptr);
}

}  // namespace
