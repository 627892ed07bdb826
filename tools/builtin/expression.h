// EvaluateExpression: the calculator's arithmetic. A recursive-descent parser over
// numbers, + - * / % ^, parentheses, unary minus, the constants pi and e and a fixed set
// of functions; nothing else is evaluated. Pure and thread-safe.
#pragma once

#include <string_view>

#include "engine/status.h"

namespace keel::tools::internal {

inline constexpr size_t kMaxExpressionLength = 2000;
inline constexpr int kMaxExpressionDepth = 64;

// The value, or kInvalidArgument saying what is wrong and where ("at column 7: expected
// ')'", "division by zero", "sqrt of a negative number").
Result<double> EvaluateExpression(std::string_view expression);

}  // namespace keel::tools::internal
