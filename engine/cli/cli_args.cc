#include "engine/cli/cli_args.h"

#include <algorithm>
#include <cctype>
#include <limits>

namespace keel::cli {

namespace {

const OptionSpec* Find(const CommandSpec& spec, const std::string& name) {
  for (const auto& o : spec.options) {
    if (o.name == name) return &o;
  }
  return nullptr;
}

}  // namespace

std::string FormatHelp(const CommandSpec& spec) {
  std::string out = "usage: " + spec.usage + "\n\n" + spec.summary;
  if (!out.empty() && out.back() != '\n') out += "\n";
  out += "\noptions:\n";
  std::vector<std::pair<std::string, std::string>> rows;
  for (const auto& o : spec.options) {
    std::string left = o.name + (o.value.empty() ? "" : " " + o.value);
    std::string help = o.help;
    if (o.required) help += " (required)";
    if (o.repeatable) help += " (repeatable)";
    rows.emplace_back(left, help);
  }
  rows.emplace_back("-h, --help", "this text");
  size_t width = 0;
  for (const auto& [left, help] : rows) width = std::max(width, left.size());
  for (const auto& [left, help] : rows) {
    std::string line = "  " + left + std::string(width - left.size() + 2, ' ');
    // Continuation lines of a help text line up under its first line.
    for (char c : help) {
      line += c;
      if (c == '\n') line += std::string(width + 4, ' ');
    }
    out += line + "\n";
  }
  if (!spec.notes.empty()) {
    out += "\n" + spec.notes;
    if (out.back() != '\n') out += "\n";
  }
  return out;
}

std::string ParsedArgs::Get(std::string_view name, std::string fallback) const {
  auto it = values_.find(std::string(name));
  if (it == values_.end() || it->second.empty()) return fallback;
  return it->second.back();
}

std::vector<std::string> ParsedArgs::GetAll(std::string_view name) const {
  auto it = values_.find(std::string(name));
  return it == values_.end() ? std::vector<std::string>{} : it->second;
}

ParsedArgs Parse(const CommandSpec& spec, const std::vector<std::string>& args) {
  ParsedArgs parsed;
  std::string first_error;
  auto error = [&](std::string message) {
    if (first_error.empty()) first_error = std::move(message);
  };
  for (size_t i = 0; i < args.size(); ++i) {
    std::string arg = args[i];
    if (arg == "-h" || arg == "--help") {
      parsed.help_ = true;
      continue;
    }
    if (arg.rfind("--", 0) != 0) {
      error("unexpected argument '" + arg + "'");
      continue;
    }
    std::optional<std::string> inline_value;
    if (auto eq = arg.find('='); eq != std::string::npos) {
      inline_value = arg.substr(eq + 1);
      arg.resize(eq);
    }
    const OptionSpec* o = Find(spec, arg);
    if (o == nullptr) {
      error("unknown option " + arg);
      continue;
    }
    std::string value;
    if (o->value.empty()) {
      if (inline_value) error(arg + " takes no value");
    } else if (inline_value) {
      value = *inline_value;
    } else if (i + 1 < args.size()) {
      value = args[++i];
    } else {
      error(arg + " needs a value (" + o->value + ")");
      continue;
    }
    auto& slot = parsed.values_[o->name];
    if (!slot.empty() && !o->repeatable) error(arg + " given twice");
    slot.push_back(std::move(value));
  }
  if (parsed.help_) return parsed;
  if (!first_error.empty()) throw UsageError(first_error);
  for (const auto& o : spec.options) {
    if (o.required && !parsed.Has(o.name)) throw UsageError("missing " + o.name + " " + o.value);
  }
  return parsed;
}

nlohmann::json ParseJsonValue(const std::string& option, const std::string& text) {
  nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) {
    throw UsageError(option + ": not valid JSON: " + text.substr(0, 80) +
                     " (a string needs quotes: '\"text\"')");
  }
  return j;
}

std::pair<std::string, nlohmann::json> ParseKeyJson(const std::string& option,
                                                    const std::string& text) {
  auto eq = text.find('=');
  if (eq == std::string::npos || eq == 0)
    throw UsageError(option + ": expected KEY=JSON, got '" + text + "'");
  return {text.substr(0, eq),
          ParseJsonValue(option + " " + text.substr(0, eq), text.substr(eq + 1))};
}

Duration ParseDuration(const std::string& option, const std::string& text) {
  auto bad = [&]() {
    return UsageError(option + ": expected a duration like 30s, 5m, 2h, 30d or 1h30m, got '" +
                      text + "'");
  };
  if (text.empty()) throw bad();
  std::chrono::milliseconds total{0};
  size_t i = 0;
  while (i < text.size()) {
    size_t start = i;
    while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) ++i;
    if (i == start || i - start > 9) throw bad();
    long long n = std::stoll(text.substr(start, i - start));
    size_t unit_start = i;
    while (i < text.size() && std::isalpha(static_cast<unsigned char>(text[i]))) ++i;
    std::string unit = text.substr(unit_start, i - unit_start);
    if (unit == "ms")
      total += std::chrono::milliseconds(n);
    else if (unit == "s")
      total += std::chrono::seconds(n);
    else if (unit == "m")
      total += std::chrono::minutes(n);
    else if (unit == "h")
      total += std::chrono::hours(n);
    else if (unit == "d")
      total += std::chrono::hours(24 * n);
    else
      throw bad();
  }
  if (total <= std::chrono::milliseconds::zero()) throw UsageError(option + ": must be positive");
  return std::chrono::duration_cast<Duration>(total);
}

int ParsePositiveInt(const std::string& option, const std::string& text) {
  size_t used = 0;
  long long n = 0;
  try {
    n = std::stoll(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != text.size() || text.empty() || n < 1 || n > std::numeric_limits<int>::max()) {
    throw UsageError(option + ": expected a positive integer, got '" + text + "'");
  }
  return static_cast<int>(n);
}

std::string OneLine(std::string text) {
  for (char& c : text) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  while (!text.empty() && text.back() == ' ') text.pop_back();
  return text;
}

}  // namespace keel::cli
