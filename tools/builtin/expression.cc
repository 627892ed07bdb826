#include "tools/builtin/expression.h"

#include <cctype>
#include <charconv>
#include <cmath>
#include <numbers>
#include <string>
#include <vector>

namespace keel::tools::internal {

namespace {

// Grammar (^ binds tighter than unary minus and is right-associative: -2^2 = -4):
//   expr    := term (('+' | '-') term)*
//   term    := unary (('*' | '/' | '%') unary)*
//   unary   := ('-' | '+') unary | power
//   power   := primary ('^' unary)?
//   primary := number | '(' expr ')' | name | name '(' expr (',' expr)* ')'
class Parser {
 public:
  explicit Parser(std::string_view text) : text_(text) {}

  Result<double> Parse() {
    double v = Expr();
    SkipSpace();
    if (error_.empty() && pos_ < text_.size())
      Fail("unexpected '" + std::string(1, text_[pos_]) + "'");
    if (!error_.empty()) return InvalidArgument(error_);
    if (!std::isfinite(v)) return InvalidArgument("the result is not a finite number");
    return v;
  }

 private:
  double Expr() {
    if (!Enter()) return 0;
    double v = Term();
    for (;;) {
      if (Accept('+')) {
        v += Term();
      } else if (Accept('-')) {
        v -= Term();
      } else {
        break;
      }
    }
    --depth_;
    return v;
  }

  double Term() {
    double v = Unary();
    for (;;) {
      if (Accept('*')) {
        v *= Unary();
      } else if (Accept('/')) {
        double d = Unary();
        if (d == 0 && error_.empty()) FailPlain("division by zero");
        v = d == 0 ? 0 : v / d;
      } else if (Accept('%')) {
        double d = Unary();
        if (d == 0 && error_.empty()) FailPlain("modulo by zero");
        v = d == 0 ? 0 : std::fmod(v, d);
      } else {
        return v;
      }
    }
  }

  double Unary() {
    if (!Enter()) return 0;
    double v;
    if (Accept('-')) {
      v = -Unary();
    } else if (Accept('+')) {
      v = Unary();
    } else {
      v = Power();
    }
    --depth_;
    return v;
  }

  double Power() {
    double base = Primary();
    if (!Accept('^')) return base;
    double exponent = Unary();
    if (base == 0 && exponent < 0 && error_.empty()) FailPlain("division by zero");
    if (base < 0 && exponent != std::floor(exponent) && error_.empty()) {
      FailPlain("a negative number to a fractional power");
    }
    return std::pow(base, exponent);
  }

  double Primary() {
    SkipSpace();
    if (!error_.empty()) return 0;
    if (pos_ >= text_.size()) {
      Fail("expected a number");
      return 0;
    }
    char c = text_[pos_];
    if (Accept('(')) {
      double v = Expr();
      Expect(')');
      return v;
    }
    if (std::isdigit(static_cast<unsigned char>(c)) || c == '.') return Number();
    if (std::isalpha(static_cast<unsigned char>(c))) return Name();
    Fail("unexpected '" + std::string(1, c) + "'");
    return 0;
  }

  double Number() {
    double v = 0;
    auto [end, ec] = std::from_chars(text_.data() + pos_, text_.data() + text_.size(), v);
    if (ec != std::errc()) {
      Fail("bad number");
      return 0;
    }
    pos_ = end - text_.data();
    return v;
  }

  double Name() {
    size_t start = pos_;
    while (pos_ < text_.size() &&
           (std::isalnum(static_cast<unsigned char>(text_[pos_])) || text_[pos_] == '_')) {
      ++pos_;
    }
    std::string name(text_.substr(start, pos_ - start));
    if (name == "pi") return std::numbers::pi;
    if (name == "e") return std::numbers::e;
    if (!IsFunction(name)) {
      pos_ = start;
      Fail("unknown name '" + name +
           "' (functions: sqrt abs min max round floor ceil exp ln log10 sin cos tan; constants: "
           "pi e)");
      return 0;
    }
    if (!Expect('(')) return 0;
    std::vector<double> args{Expr()};
    while (Accept(',')) args.push_back(Expr());
    if (!Expect(')')) return 0;
    return Apply(name, args);
  }

  static bool IsFunction(const std::string& n) {
    for (const char* f : {"sqrt", "abs", "min", "max", "round", "floor", "ceil", "exp", "ln",
                          "log10", "sin", "cos", "tan"}) {
      if (n == f) return true;
    }
    return false;
  }

  double Apply(const std::string& name, const std::vector<double>& args) {
    if (name == "min" || name == "max") {
      double v = args[0];
      for (double a : args) v = name == "min" ? std::fmin(v, a) : std::fmax(v, a);
      return v;
    }
    if (args.size() != 1) {
      FailPlain(name + " takes one argument, got " + std::to_string(args.size()));
      return 0;
    }
    double x = args[0];
    if (name == "sqrt") {
      if (x < 0) FailPlain("sqrt of a negative number");
      return x < 0 ? 0 : std::sqrt(x);
    }
    if (name == "ln" || name == "log10") {
      if (x <= 0) FailPlain(name + " of a number that is not positive");
      if (x <= 0) return 0;
      return name == "ln" ? std::log(x) : std::log10(x);
    }
    if (name == "abs") return std::fabs(x);
    if (name == "round") return std::round(x);
    if (name == "floor") return std::floor(x);
    if (name == "ceil") return std::ceil(x);
    if (name == "exp") return std::exp(x);
    if (name == "sin") return std::sin(x);
    if (name == "cos") return std::cos(x);
    return std::tan(x);
  }

  bool Enter() {
    if (++depth_ > kMaxExpressionDepth) {
      FailPlain("the expression is nested too deeply");
      return false;
    }
    return true;
  }

  void SkipSpace() {
    while (pos_ < text_.size() && std::isspace(static_cast<unsigned char>(text_[pos_]))) ++pos_;
  }

  bool Accept(char c) {
    SkipSpace();
    if (!error_.empty() || pos_ >= text_.size() || text_[pos_] != c) return false;
    ++pos_;
    return true;
  }

  bool Expect(char c) {
    if (Accept(c)) return true;
    Fail(std::string("expected '") + c + "'");
    return false;
  }

  // The first error wins; parsing then unwinds without consuming more input.
  void Fail(const std::string& what) {
    if (error_.empty()) error_ = "syntax error at column " + std::to_string(pos_ + 1) + ": " + what;
    pos_ = text_.size();
  }
  void FailPlain(const std::string& what) {
    if (error_.empty()) error_ = what;
    pos_ = text_.size();
  }

  std::string_view text_;
  size_t pos_ = 0;
  int depth_ = 0;
  std::string error_;
};

}  // namespace

Result<double> EvaluateExpression(std::string_view expression) {
  if (expression.size() > kMaxExpressionLength) {
    return InvalidArgument("the expression is longer than " + std::to_string(kMaxExpressionLength) +
                           " characters");
  }
  return Parser(expression).Parse();
}

}  // namespace keel::tools::internal
