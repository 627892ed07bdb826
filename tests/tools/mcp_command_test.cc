// `keel mcp ...` (engine/cli/mcp_command.cc), run as a child process against the
// reference server and the fake server.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>

#include "tests/support/temp_dir.h"
#include "tests/tools/mcp_test_servers.h"

namespace keel::tools {
namespace {

using testing::EverythingServer;
using testing::FakeServer;
using ::testing::HasSubstr;

struct CliRun {
  int exit_code = -1;
  std::string out;
  std::string err;
};

std::string Quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

std::string Slurp(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

CliRun Keel(const std::vector<std::string>& args) {
  keel::testing::TempDir dir;
  std::string command = Quote(KEEL_CLI_PATH);
  for (const auto& a : args) command += " " + Quote(a);
  command += " >" + dir.File("out") + " 2>" + dir.File("err") + " </dev/null";
  int status = std::system(command.c_str());
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, Slurp(dir.File("out")),
          Slurp(dir.File("err"))};
}

std::vector<std::string> With(std::vector<std::string> args,
                              const std::vector<std::string>& server) {
  args.push_back("--");
  args.insert(args.end(), server.begin(), server.end());
  return args;
}

int Lines(const std::string& s) { return static_cast<int>(std::count(s.begin(), s.end(), '\n')); }

TEST(McpCommandTest, ListsToolsWithSchemasAndAnnotations) {
  CliRun r = Keel(With({"mcp", "tools"}, EverythingServer()));
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("mcp-servers/everything"));
  EXPECT_THAT(r.out, HasSubstr("\necho [read-only, idempotent]\n"));
  EXPECT_THAT(
      r.out,
      HasSubstr(
          R"(input: {"properties":{"message":{"description":"Message to echo","type":"string"}})"));
  EXPECT_EQ(r.err, "");
}

TEST(McpCommandTest, ListsToolsAsJson) {
  CliRun r = Keel(With({"mcp", "tools", "--json"}, EverythingServer()));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  bool found = false;
  for (const auto& t : j["tools"]) {
    if (t["name"] != "echo") continue;
    found = true;
    EXPECT_EQ(t["inputSchema"]["required"], nlohmann::json::array({"message"}));
    EXPECT_EQ(t["annotations"]["readOnlyHint"], true);
  }
  EXPECT_TRUE(found);
}

TEST(McpCommandTest, CallsATool) {
  CliRun r =
      Keel(With({"mcp", "call", "echo", R"({"message":"hi from the shell"})"}, EverythingServer()));
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "Echo: hi from the shell\n");
  CliRun json =
      Keel(With({"mcp", "call", "--json", "get-sum", R"({"a":1,"b":2})"}, EverythingServer()));
  ASSERT_EQ(json.exit_code, 0) << json.err;
  EXPECT_THAT(nlohmann::json::parse(json.out)["content"][0]["text"].get<std::string>(),
              HasSubstr("3"));
}

TEST(McpCommandTest, FailuresAreOneLineOnStderrWithExitCodeOne) {
  CliRun invalid = Keel(With({"mcp", "call", "echo", "{}"}, EverythingServer()));
  EXPECT_EQ(invalid.exit_code, 1);
  EXPECT_THAT(invalid.err, HasSubstr("invalid arguments for tool 'echo'"));
  EXPECT_EQ(Lines(invalid.err), 1) << invalid.err;

  CliRun unknown = Keel(With({"mcp", "call", "nope", "{}"}, EverythingServer()));
  EXPECT_EQ(unknown.exit_code, 1);
  EXPECT_THAT(unknown.err, HasSubstr("has no tool 'nope'"));

  CliRun tool_error = Keel(With({"mcp", "call", "tool_error", "{}"}, FakeServer()));
  EXPECT_EQ(tool_error.exit_code, 1);
  EXPECT_EQ(tool_error.err, "keel mcp: tool_error returned an error: it went wrong\n");

  CliRun dies = Keel(With({"mcp", "tools"}, FakeServer({"--exit-at-start"})));
  EXPECT_EQ(dies.exit_code, 1);
  EXPECT_THAT(dies.err,
              HasSubstr("exited with status 7; stderr: fake server: missing configuration file"));
  EXPECT_EQ(Lines(dies.err), 1) << dies.err;

  CliRun crash = Keel(With({"mcp", "call", "crash", "{}"}, FakeServer()));
  EXPECT_EQ(crash.exit_code, 1);
  EXPECT_THAT(crash.err, HasSubstr("exited with status 3"));
  EXPECT_EQ(Lines(crash.err), 1) << crash.err;

  CliRun missing = Keel({"mcp", "tools", "--", "keel-no-such-mcp-server"});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_THAT(missing.err, HasSubstr("command not found"));
}

TEST(McpCommandTest, BadUsageExitsWithTwo) {
  for (const auto& args :
       std::vector<std::vector<std::string>>{{"mcp"},
                                             {"mcp", "tools"},
                                             {"mcp", "frobnicate", "--", "x"},
                                             {"mcp", "call", "echo", "--", "x"},
                                             {"mcp", "call", "echo", "not json", "--", "x"},
                                             {"mcp", "call", "echo", "[1]", "--", "x"},
                                             {"mcp", "tools", "--timeout", "soon", "--", "x"},
                                             {"mcp", "tools", "--timeout", "inf", "--", "x"},
                                             {"mcp", "tools", "--timeout", "nan", "--", "x"},
                                             {"mcp", "tools", "--bogus", "--", "x"}}) {
    CliRun r = Keel(args);
    EXPECT_EQ(r.exit_code, 2) << ::testing::PrintToString(args) << ": " << r.err;
    EXPECT_EQ(Lines(r.err), 1) << r.err;
  }
  CliRun help = Keel({"mcp", "--help"});
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_THAT(help.out, HasSubstr("keel mcp call [OPTIONS] TOOL ARGS_JSON -- COMMAND [ARGS...]"));
}

TEST(McpCommandTest, PassesOnlyTheEnvironmentItIsTold) {
  CliRun r = Keel(With({"mcp", "call", "--env", "GIVEN=yes", "env", "{}"}, FakeServer()));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto env = nlohmann::json::parse(r.out);
  EXPECT_EQ(env.value("GIVEN", ""), "yes");
  EXPECT_TRUE(env.contains("PATH"));
}

}  // namespace
}  // namespace keel::tools
