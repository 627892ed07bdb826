// The keel CLI's option parser. A command describes its options once (CommandSpec); the
// same table parses argv and prints --help, so the usage text always lists every option.
// Options are `--name VALUE` or `--name=VALUE`; a bad command line throws UsageError
// (exit 2). Value helpers parse JSON, KEY=JSON pairs, durations and counts. Values only.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "engine/clock.h"

namespace keel::cli {

// A command line the user must fix: printed as one line with a hint to --help; exit 2.
class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct OptionSpec {
  std::string name;   // "--type"
  std::string value;  // the value's placeholder ("T"); empty for a switch
  std::string help;   // one line; continued lines start with "\n"
  bool required = false;
  bool repeatable = false;
};

struct CommandSpec {
  std::string usage;    // "keel workflow start --type T --id ID [options]"
  std::string summary;  // what the command does, a few lines
  std::vector<OptionSpec> options;
  std::string notes;  // examples, exit codes... (may be empty)
};

// The help text: usage, summary, the options (with "-h, --help"), notes.
std::string FormatHelp(const CommandSpec& spec);

class ParsedArgs {
 public:
  bool Has(std::string_view name) const { return values_.count(std::string(name)) > 0; }
  // The value of an option given once, or `fallback`.
  std::string Get(std::string_view name, std::string fallback = "") const;
  std::vector<std::string> GetAll(std::string_view name) const;
  bool help() const { return help_; }

 private:
  friend ParsedArgs Parse(const CommandSpec& spec, const std::vector<std::string>& args);
  std::map<std::string, std::vector<std::string>> values_;
  bool help_ = false;
};

// Parses `args` (the words after the command's name). With -h/--help anywhere, nothing
// else is checked (the caller prints the help); otherwise the first problem throws.
ParsedArgs Parse(const CommandSpec& spec, const std::vector<std::string>& args);

// ---- value helpers (all throw UsageError naming the option) ----

nlohmann::json ParseJsonValue(const std::string& option, const std::string& text);
// "key=JSON": tier="gold", vip=true, score=3.
std::pair<std::string, nlohmann::json> ParseKeyJson(const std::string& option,
                                                    const std::string& text);
// "90s", "5m", "2h", "30d", "1h30m", "250ms"; must be positive.
Duration ParseDuration(const std::string& option, const std::string& text);
int ParsePositiveInt(const std::string& option, const std::string& text);

// Replaces line breaks so that an error message stays one line.
std::string OneLine(std::string text);

}  // namespace keel::cli
