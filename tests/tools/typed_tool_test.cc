#include "tools/typed_tool.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace keel::tools {
namespace {

using ::testing::HasSubstr;

// The schema is declared once, next to the struct.
struct Forecast {
  std::string city;
  int days = 1;
  static Json Schema() {
    return Json::parse(R"({
      "type": "object",
      "properties": {
        "city": {"type": "string", "description": "City name"},
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
  double celsius;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(Weather, city, celsius)

struct Pair {
  int a = 0;
  int b = 0;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(Pair, a, b)

TEST(TypedToolTest, DecodesValidatedArgumentsIntoTheStruct) {
  auto tool = MakeTool<Forecast>("forecast", "Weather for a city", [](const Forecast& f) {
    return f.city + " for " + std::to_string(f.days) + " days";
  });
  EXPECT_EQ(tool->Spec().input_schema, Forecast::Schema());
  EXPECT_EQ(tool->Invoke({{"city", "Oslo"}, {"days", 3}}).ToText(), "Oslo for 3 days");
  EXPECT_EQ(tool->Invoke({{"city", "Oslo"}}).ToText(), "Oslo for 1 days");
}

TEST(TypedToolTest, SchemaViolationsNeverReachTheFunction) {
  int calls = 0;
  auto tool = MakeTool<Forecast>("forecast", "Weather", [&](const Forecast&) {
    ++calls;
    return std::string("x");
  });
  for (const Json& bad : {Json{{"days", 2}}, Json{{"city", 5}}, Json{{"city", "Oslo"}, {"days", 9}},
                          Json{{"city", "Oslo"}, {"hours", 2}}}) {
    ToolResult r = tool->Invoke(bad);
    EXPECT_TRUE(r.is_error) << bad.dump();
    EXPECT_THAT(r.ToText(), HasSubstr("invalid arguments for tool 'forecast'"));
  }
  EXPECT_EQ(calls, 0);
}

TEST(TypedToolTest, AStructResultIsStructuredContent) {
  auto tool = MakeTool<Forecast>("weather", "Weather", [](const Forecast& f) {
    return Weather{f.city, 21.5};
  });
  ToolResult r = tool->Invoke({{"city", "Rome"}});
  ASSERT_TRUE(r.structured.has_value());
  EXPECT_EQ((*r.structured)["celsius"], 21.5);
  EXPECT_EQ(r.ToText(), R"({"celsius":21.5,"city":"Rome"})");
}

TEST(TypedToolTest, TheSchemaCanBeGivenAlongsideAndTheContextReachesTheFunction) {
  auto tool = MakeTool<Pair>(
      "add", "Adds two integers",
      Json::parse(R"({"type":"object","properties":{"a":{"type":"integer"},"b":{"type":"integer"}},
                     "required":["a","b"]})"),
      [](const Pair& p, const ToolContext& ctx) {
        return ToolResult::Text(std::to_string(p.a + p.b) + " (" + ctx.idempotency_key + ")");
      });
  EXPECT_EQ(tool->Invoke({{"a", 2}, {"b", 3}}, {.idempotency_key = "k1"}).ToText(), "5 (k1)");
  EXPECT_TRUE(tool->Invoke({{"a", 2}}).is_error);
}

TEST(TypedToolTest, ToolErrorFromTheFunctionIsAnErrorResult) {
  auto tool = MakeTool<Forecast>("forecast", "Weather", [](const Forecast& f) -> std::string {
    throw ToolError("no city named '" + f.city + "'");
  });
  ToolResult r = tool->Invoke({{"city", "Pariss"}});
  EXPECT_TRUE(r.is_error);
  EXPECT_EQ(r.ToText(), "no city named 'Pariss'");
}

TEST(TypedToolTest, VoidFunctionsAndSpecsWithAnnotations) {
  int pinged = 0;
  auto tool = MakeTool<Json>(ToolSpec{.name = "ping",
                                      .description = "Pings",
                                      .input_schema = Json{{"type", "object"}},
                                      .annotations = {.read_only_hint = true}},
                             [&](const Json&) { ++pinged; });
  EXPECT_EQ(tool->Invoke({}).ToText(), "ok");
  EXPECT_EQ(pinged, 1);
  EXPECT_EQ(tool->Spec().annotations.read_only_hint, true);
}

TEST(TypedToolTest, AStructTheSchemaLetsThroughButCannotHoldIsAnErrorResult) {
  // The schema does not say "integer", the struct does: the model still gets an answer.
  auto tool = MakeTool<Pair>("add", "Adds", Json{{"type", "object"}},
                             [](const Pair& p) { return p.a + p.b; });
  ToolResult r = tool->Invoke({{"a", "two"}});
  EXPECT_TRUE(r.is_error);
  EXPECT_THAT(r.ToText(), HasSubstr("invalid arguments for tool 'add'"));
}

}  // namespace
}  // namespace keel::tools
