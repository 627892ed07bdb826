#include "tools/tool_registry.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tools/calculator_tool.h"
#include "tools/typed_tool.h"

namespace keel::tools {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::shared_ptr<Tool> Echo() {
  return MakeTool<Json>("echo", "Echoes", Json{{"type", "object"}},
                        [](const Json& a) { return a.dump(); });
}

TEST(ToolRegistryTest, FindsAndInvokesToolsByName) {
  ToolRegistry registry;
  ASSERT_TRUE(registry.AddAll({Echo(), NewCalculatorTool()}).ok());
  EXPECT_THAT(registry.Names(), ElementsAre("echo", "calculator"));
  EXPECT_EQ(registry.Find("calculator")->Name(), "calculator");
  EXPECT_EQ(registry.Find("nope"), nullptr);
  EXPECT_EQ(registry.Invoke("calculator", {{"expression", "6*7"}}).ToText(), "42");
  ASSERT_EQ(registry.Specs().size(), 2u);
  EXPECT_EQ(registry.Specs()[1].name, "calculator");
}

TEST(ToolRegistryTest, RefusesDuplicateNames) {
  ToolRegistry registry;
  ASSERT_TRUE(registry.Add(Echo()).ok());
  EXPECT_EQ(registry.Add(Echo()).code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(registry.Add(nullptr).code(), StatusCode::kInvalidArgument);
}

TEST(ToolRegistryTest, AnUnknownToolIsAnErrorResultListingTheTools) {
  ToolRegistry registry;
  ASSERT_TRUE(registry.Add(Echo()).ok());
  ToolResult r = registry.Invoke("ecko", {});
  EXPECT_TRUE(r.is_error);
  EXPECT_THAT(r.ToText(), HasSubstr("no tool named 'ecko'; the tools are: echo"));
}

}  // namespace
}  // namespace keel::tools
