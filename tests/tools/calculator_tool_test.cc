#include "tools/calculator_tool.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tools/builtin/expression.h"

namespace keel::tools {
namespace {

using ::testing::HasSubstr;

double Eval(const std::string& e) {
  auto v = internal::EvaluateExpression(e);
  EXPECT_TRUE(v.ok()) << e << ": " << v.status().ToString();
  return v.ok() ? *v : 0;
}

std::string ErrorOf(const std::string& e) {
  auto v = internal::EvaluateExpression(e);
  EXPECT_FALSE(v.ok()) << e;
  return v.status().message();
}

TEST(CalculatorTest, FollowsTheUsualPrecedence) {
  EXPECT_EQ(Eval("1 + 2 * 3"), 7);
  EXPECT_EQ(Eval("(1 + 2) * 3"), 9);
  EXPECT_EQ(Eval("10 - 4 - 3"), 3);
  EXPECT_EQ(Eval("2 ^ 3 ^ 2"), 512);  // right-associative
  EXPECT_EQ(Eval("-2 ^ 2"), -4);      // ^ binds tighter than unary minus
  EXPECT_EQ(Eval("2 ^ -1"), 0.5);
  EXPECT_EQ(Eval("--3"), 3);
  EXPECT_EQ(Eval("7 % 4"), 3);
  EXPECT_EQ(Eval("1.5e3 / .5"), 3000);
}

TEST(CalculatorTest, KnowsAFewFunctionsAndConstants) {
  EXPECT_EQ(Eval("sqrt(16) + abs(-2)"), 6);
  EXPECT_EQ(Eval("max(1, 7, 3) - min(4, 2)"), 5);
  EXPECT_EQ(Eval("round(2.5) + floor(1.9) + ceil(1.1)"), 6);
  EXPECT_NEAR(Eval("2 * pi"), 6.283185307, 1e-9);
  EXPECT_NEAR(Eval("ln(e)"), 1, 1e-12);
}

TEST(CalculatorTest, SyntaxErrorsSayWhere) {
  EXPECT_EQ(ErrorOf("2 * (3 + 4"), "syntax error at column 11: expected ')'");
  EXPECT_EQ(ErrorOf("2 +"), "syntax error at column 4: expected a number");
  EXPECT_EQ(ErrorOf("2 $ 3"), "syntax error at column 3: unexpected '$'");
  EXPECT_EQ(ErrorOf(""), "syntax error at column 1: expected a number");
  EXPECT_THAT(ErrorOf("system(1)"), HasSubstr("unknown name 'system'"));
  EXPECT_THAT(ErrorOf("sqrt(1, 2)"), HasSubstr("sqrt takes one argument"));
}

TEST(CalculatorTest, RefusesWhatHasNoValue) {
  EXPECT_EQ(ErrorOf("1 / 0"), "division by zero");
  EXPECT_EQ(ErrorOf("1 / (2 - 2)"), "division by zero");
  EXPECT_EQ(ErrorOf("5 % 0"), "modulo by zero");
  EXPECT_EQ(ErrorOf("sqrt(-1)"), "sqrt of a negative number");
  EXPECT_EQ(ErrorOf("10 ^ 400"), "the result is not a finite number");
  EXPECT_EQ(ErrorOf("(-8) ^ 0.5"), "a negative number to a fractional power");
}

TEST(CalculatorTest, DeepNestingAndLongInputAreRefusedNotACrash) {
  EXPECT_THAT(ErrorOf(std::string(10000, '(') + "1" + std::string(10000, ')')),
              HasSubstr("longer than"));
  EXPECT_THAT(ErrorOf(std::string(500, '(') + "1" + std::string(500, ')')),
              HasSubstr("nested too deeply"));
  EXPECT_THAT(ErrorOf(std::string(500, '-') + "1"), HasSubstr("nested too deeply"));
}

TEST(CalculatorToolTest, ReturnsTheNumberAsTextAndStructuredContent) {
  auto tool = NewCalculatorTool();
  ToolResult r = tool->Invoke({{"expression", "2 * (3 + 4)"}});
  EXPECT_FALSE(r.is_error);
  EXPECT_EQ(r.ToText(), "14");
  EXPECT_EQ(*r.structured, Json({{"result", 14}}));
  EXPECT_EQ(tool->Invoke({{"expression", "1/3"}}).ToText(), "0.333333333333333");
  EXPECT_EQ(tool->Spec().annotations.read_only_hint, true);
}

TEST(CalculatorToolTest, MistakesAreErrorResultsTheModelCanRead) {
  auto tool = NewCalculatorTool();
  ToolResult r = tool->Invoke({{"expression", "4 / 0"}});
  EXPECT_TRUE(r.is_error);
  EXPECT_EQ(r.ToText(), "cannot evaluate '4 / 0': division by zero");
  EXPECT_TRUE(tool->Invoke({{"expr", "1"}}).is_error);  // schema: wrong field
}

}  // namespace
}  // namespace keel::tools
