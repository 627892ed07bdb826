#include "tools/tool.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>

#include "engine/errors.h"

namespace keel::tools {
namespace {

using ::testing::HasSubstr;

// Records what Run() was given.
class RecordingTool final : public Tool {
 public:
  explicit RecordingTool(Json schema)
      : Tool(ToolSpec{.name = "rec", .input_schema = std::move(schema)}) {}
  mutable std::atomic<int> runs{0};
  mutable Json last;

 protected:
  ToolResult Run(const Json& args, const ToolContext& ctx) const override {
    ++runs;
    last = args;
    if (args.contains("fail")) throw ToolError("no such thing: " + args["fail"].get<std::string>());
    if (args.contains("crash")) throw ApplicationError("Outage", "service down");
    return ToolResult::Text("key=" + ctx.idempotency_key);
  }
};

const Json kSchema = Json::parse(R"({"type": "object",
  "properties": {"n": {"type": "integer"}, "fail": {"type": "string"}, "crash": {"type": "boolean"}},
  "additionalProperties": false})");

TEST(ToolTest, RunsOnlyWithArgumentsThatMatchTheSchema) {
  RecordingTool tool(kSchema);
  ToolResult bad = tool.Invoke({{"n", "seven"}});
  EXPECT_TRUE(bad.is_error);
  EXPECT_THAT(bad.ToText(), HasSubstr("invalid arguments for tool 'rec'"));
  EXPECT_THAT(bad.ToText(), HasSubstr("/n: wrong type: got string"));
  EXPECT_EQ(tool.runs, 0);

  ToolResult good = tool.Invoke({{"n", 7}}, {.idempotency_key = "wf/run/3"});
  EXPECT_FALSE(good.is_error);
  EXPECT_EQ(good.ToText(), "key=wf/run/3");
  EXPECT_EQ(tool.runs, 1);
}

TEST(ToolTest, NullArgumentsAreAnEmptyObject) {
  RecordingTool tool(kSchema);
  EXPECT_FALSE(tool.Invoke(nullptr).is_error);
  EXPECT_EQ(tool.last, Json::object());
}

TEST(ToolTest, IntegralFloatsCountAsIntegers) {
  RecordingTool tool(kSchema);
  EXPECT_FALSE(tool.Invoke({{"n", 3.0}}).is_error);
  EXPECT_TRUE(tool.last["n"].is_number_integer());
  EXPECT_TRUE(tool.Invoke({{"n", 3.5}}).is_error);
}

TEST(ToolTest, ToolErrorBecomesAnErrorResultAndOtherExceptionsPropagate) {
  RecordingTool tool(kSchema);
  ToolResult r = tool.Invoke({{"fail", "Pariss"}});
  EXPECT_TRUE(r.is_error);
  EXPECT_EQ(r.ToText(), "no such thing: Pariss");
  EXPECT_THROW(tool.Invoke({{"crash", true}}), ApplicationError);
}

TEST(ToolTest, ACancelledCallDoesNotRun) {
  RecordingTool tool(kSchema);
  EXPECT_THROW(tool.Invoke({}, {.is_cancelled = [] { return true; }}), CanceledError);
  EXPECT_EQ(tool.runs, 0);
}

TEST(ToolTest, AnUnusableSchemaIsRefusedAtConstruction) {
  EXPECT_THROW(RecordingTool tool(Json{{"type", "objectx"}}), std::invalid_argument);
}

TEST(ToolTest, ResultsRoundTripThroughMcpShapedJson) {
  ToolResult r = ToolResult::Structured({{"temp", 21}});
  r.content.push_back({{"type", "image"}, {"mimeType", "image/png"}, {"data", "AAAA"}});
  Json j = r;
  EXPECT_EQ(j["structuredContent"]["temp"], 21);
  EXPECT_FALSE(j.contains("isError"));
  EXPECT_EQ(j.get<ToolResult>(), r);
  EXPECT_EQ(r.ToText(), "{\"temp\":21}\n[image image/png]");

  Json e = ToolResult::Error("bad");
  EXPECT_EQ(e["isError"], true);
  EXPECT_TRUE(e.get<ToolResult>().is_error);
}

TEST(ToolTest, ResultTextFallsBackToStructuredContent) {
  ToolResult r;
  r.structured = Json{{"a", 1}};
  EXPECT_EQ(r.ToText(), "{\"a\":1}");
}

TEST(ToolTest, SpecsConvertToMcpToolsWithTheirAnnotations) {
  ToolSpec spec{.name = "delete_file",
                .title = "Delete",
                .description = "Deletes a file.",
                .input_schema = kSchema,
                .annotations = {.read_only_hint = false, .destructive_hint = true}};
  Json j = spec;
  EXPECT_EQ(j["inputSchema"], kSchema);
  EXPECT_EQ(j["annotations"], Json({{"readOnlyHint", false}, {"destructiveHint", true}}));
  ToolSpec back = j.get<ToolSpec>();
  EXPECT_EQ(back.annotations, spec.annotations);
  EXPECT_FALSE(back.annotations.idempotent_hint.has_value());
  EXPECT_EQ(back.title, "Delete");
}

}  // namespace
}  // namespace keel::tools
