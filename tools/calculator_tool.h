// The built-in "calculator" tool: evaluates an arithmetic expression (numbers,
// + - * / % ^, parentheses, unary minus, sqrt abs min max round floor ceil exp ln log10
// sin cos tan, pi, e) with a small parser; nothing else is evaluated. Syntax errors,
// division by zero and non-finite results are error results. Stateless; thread-safe.
#pragma once

#include <memory>

#include "tools/tool.h"

namespace keel::tools {

// Arguments: {"expression": "2 * (3 + 4)"}; result: text "14", structured {"result": 14}.
std::shared_ptr<Tool> NewCalculatorTool();

}  // namespace keel::tools
