#include "engine/cli/cli_args.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace keel::cli {
namespace {

using ::testing::HasSubstr;
using namespace std::chrono_literals;

CommandSpec Spec() {
  return {
      .usage = "keel thing --id ID [options]",
      .summary = "Does a thing.",
      .options = {{"--id", "ID", "the id", /*required=*/true},
                  {"--tag", "T", "a tag", false, /*repeatable=*/true},
                  {"--note", "TEXT", "a note\nover two lines"},
                  {"--wait", "", "wait"}},
      .notes = "example:\n  keel thing --id 1\n",
  };
}

std::string ErrorOf(const std::vector<std::string>& args) {
  try {
    (void)Parse(Spec(), args);
  } catch (const UsageError& e) {
    return e.what();
  }
  return "";
}

TEST(CliArgsTest, ParsesValuesSwitchesAndRepeats) {
  ParsedArgs a = Parse(Spec(), {"--id", "x", "--tag=a", "--tag", "b", "--wait", "--note", "-h"});
  EXPECT_FALSE(a.help());  // "-h" was --note's value
  EXPECT_EQ(a.Get("--id"), "x");
  EXPECT_EQ(a.GetAll("--tag"), (std::vector<std::string>{"a", "b"}));
  EXPECT_TRUE(a.Has("--wait"));
  EXPECT_EQ(a.Get("--note"), "-h");
  EXPECT_EQ(a.Get("--missing", "fallback"), "fallback");
}

TEST(CliArgsTest, RejectsBadCommandLines) {
  EXPECT_THAT(ErrorOf({}), HasSubstr("missing --id"));
  EXPECT_THAT(ErrorOf({"--id", "x", "--bogus"}), HasSubstr("unknown option --bogus"));
  EXPECT_THAT(ErrorOf({"--id", "x", "stray"}), HasSubstr("unexpected argument 'stray'"));
  EXPECT_THAT(ErrorOf({"--id"}), HasSubstr("--id needs a value"));
  EXPECT_THAT(ErrorOf({"--id", "x", "--id", "y"}), HasSubstr("--id given twice"));
  EXPECT_THAT(ErrorOf({"--id", "x", "--wait=yes"}), HasSubstr("--wait takes no value"));
}

TEST(CliArgsTest, HelpWinsOverEveryOtherProblem) {
  EXPECT_TRUE(Parse(Spec(), {"--bogus", "--help"}).help());
  EXPECT_TRUE(Parse(Spec(), {"-h"}).help());  // --id is required, but help was asked for
}

TEST(CliArgsTest, HelpListsEveryOption) {
  std::string help = FormatHelp(Spec());
  EXPECT_THAT(help, HasSubstr("usage: keel thing --id ID [options]\n"));
  EXPECT_THAT(help, HasSubstr("--id ID"));
  EXPECT_THAT(help, HasSubstr("(required)"));
  EXPECT_THAT(help, HasSubstr("--tag T"));
  EXPECT_THAT(help, HasSubstr("(repeatable)"));
  EXPECT_THAT(help, HasSubstr("-h, --help"));
  EXPECT_THAT(help, HasSubstr("example:\n  keel thing --id 1\n"));
  // A two-line help text continues under its first line.
  EXPECT_THAT(help, HasSubstr("a note\n               over two lines"));
}

TEST(CliArgsTest, ParsesDurations) {
  EXPECT_EQ(ParseDuration("--d", "30s"), 30s);
  EXPECT_EQ(ParseDuration("--d", "5m"), 5min);
  EXPECT_EQ(ParseDuration("--d", "2h"), 2h);
  EXPECT_EQ(ParseDuration("--d", "30d"), 720h);
  EXPECT_EQ(ParseDuration("--d", "1h30m"), 90min);
  EXPECT_EQ(ParseDuration("--d", "250ms"), 250ms);
  for (const char* bad : {"", "30", "s", "5x", "-5s", "0s", "1.5h", "9999999999s"}) {
    EXPECT_THROW(ParseDuration("--d", bad), UsageError) << bad;
  }
}

TEST(CliArgsTest, ParsesJsonAndKeyJson) {
  EXPECT_EQ(ParseJsonValue("--input", "\"ada\""), "ada");
  EXPECT_EQ(ParseJsonValue("--input", "{\"n\":1}")["n"], 1);
  EXPECT_THROW(ParseJsonValue("--input", "ada"), UsageError);
  auto [key, value] = ParseKeyJson("--memo", "tier=\"gold\"");
  EXPECT_EQ(key, "tier");
  EXPECT_EQ(value, "gold");
  EXPECT_EQ(ParseKeyJson("--memo", "eq=\"a=b\"").second, "a=b");
  EXPECT_THROW(ParseKeyJson("--memo", "tier"), UsageError);
  EXPECT_THROW(ParseKeyJson("--memo", "=1"), UsageError);
  EXPECT_THROW(ParseKeyJson("--memo", "tier=gold"), UsageError);
}

TEST(CliArgsTest, ParsesPositiveInts) {
  EXPECT_EQ(ParsePositiveInt("--limit", "20"), 20);
  for (const char* bad : {"0", "-1", "x", "2x", "", "99999999999"}) {
    EXPECT_THROW(ParsePositiveInt("--limit", bad), UsageError) << bad;
  }
}

TEST(CliArgsTest, OneLineJoinsLines) { EXPECT_EQ(OneLine("a\nb\r\nc\n"), "a b  c"); }

}  // namespace
}  // namespace keel::cli
