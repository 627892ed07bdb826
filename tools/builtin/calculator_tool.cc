#include "tools/calculator_tool.h"

#include <cmath>
#include <cstdio>

#include "tools/builtin/expression.h"

namespace keel::tools {

namespace {

const char kSchema[] = R"({
  "type": "object",
  "properties": {
    "expression": {
      "type": "string",
      "description": "Arithmetic such as \"(2 + 3) * 4 ^ 2 / sqrt(16)\". Operators + - * / % ^ and parentheses; functions sqrt abs min max round floor ceil exp ln log10 sin cos tan; constants pi e.",
      "maxLength": 2000
    }
  },
  "required": ["expression"],
  "additionalProperties": false
})";

std::string Format(double v) {
  if (v == std::floor(v) && std::fabs(v) < 1e15) return std::to_string(static_cast<long long>(v));
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.15g", v);
  return buf;
}

class CalculatorTool final : public Tool {
 public:
  CalculatorTool()
      : Tool(ToolSpec{
            .name = "calculator",
            .description =
                "Evaluates an arithmetic expression exactly as written and returns the number. "
                "Use it instead of doing arithmetic in your head.",
            .input_schema = Json::parse(kSchema),
            .annotations = {.read_only_hint = true,
                            .destructive_hint = false,
                            .idempotent_hint = true,
                            .open_world_hint = false}}) {}

 protected:
  ToolResult Run(const Json& args, const ToolContext&) const override {
    const std::string expression = args.at("expression").get<std::string>();
    Result<double> v = internal::EvaluateExpression(expression);
    if (!v.ok())
      return ToolResult::Error("cannot evaluate '" + expression + "': " + v.status().message());
    ToolResult r = ToolResult::Text(Format(*v));
    bool integral = *v == std::floor(*v) && std::fabs(*v) < 1e15;
    r.structured = Json{{"result", integral ? Json(static_cast<int64_t>(*v)) : Json(*v)}};
    return r;
  }
};

}  // namespace

std::shared_ptr<Tool> NewCalculatorTool() { return std::make_shared<CalculatorTool>(); }

}  // namespace keel::tools
