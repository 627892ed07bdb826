// keel workflow, end to end across processes: a real keeld on a fresh database, a real
// hello worker (examples/hello: type `hello`, input a name, waits for `proceed`) and the
// real keel binary, checked through stdout, stderr and exit codes.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <fstream>
#include <functional>
#include <iterator>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "engine/clock.h"
#include "tests/cli/process.h"
#include "tests/support/temp_dir.h"

namespace keel::testing {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

const std::vector<std::string> kSubcommands = {"start",  "signal", "query",     "describe", "list",
                                               "result", "cancel", "terminate", "history"};

// The ambient environment must not leak a server or token into the tests.
EnvChanges CleanEnv(EnvChanges more = {}) {
  more.emplace("KEEL_SERVER", std::nullopt);
  more.emplace("KEEL_TOKEN", std::nullopt);
  return more;
}

// An error is one line on stderr starting "keel: ", and the expected exit code.
void ExpectOneLineError(const CommandResult& r, int exit_code) {
  EXPECT_EQ(r.exit_code, exit_code) << r.Describe();
  EXPECT_THAT(r.err, StartsWith("keel: ")) << r.Describe();
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.Describe();
  EXPECT_EQ(r.out, "") << r.Describe();
}

json ParseJson(const CommandResult& r) {
  json j = json::parse(r.out, nullptr, /*allow_exceptions=*/false);
  EXPECT_FALSE(j.is_discarded()) << r.Describe();
  return j;
}

// Waits until the file at `path` holds `text`; false after 60 s (a safety net against a
// hang, not a timing check).
bool WaitForText(const std::string& path, const std::string& text) {
  const Time until = Clock::System().Now() + std::chrono::seconds(60);
  while (Clock::System().Now() < until) {
    std::ifstream in(path);
    std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (all.find(text) != std::string::npos) return true;
    std::this_thread::yield();
  }
  return false;
}

class WorkflowCommandTest : public ::testing::Test {
 protected:
  // keeld on a fresh database and a free port; optionally with a tokens file.
  void StartServer(const std::string& tokens_file = "", const std::vector<std::string>& flags = {},
                   const std::string& listen = "127.0.0.1:0") {
    std::vector<std::string> argv = {KEELD_BIN, "--db", dir_.File("keel.db"), "--listen", listen};
    argv.insert(argv.end(), flags.begin(), flags.end());
    if (!tokens_file.empty()) {
      argv.push_back("--tokens");
      argv.push_back(tokens_file);
    }
    keeld_ = std::make_unique<Process>(argv, dir_.File("keeld.log"), CleanEnv());
    std::string line;
    ASSERT_TRUE(keeld_->WaitForLine("keeld listening on ", &line))
        << "keeld did not start; see " << dir_.path();
    address_ = line.substr(std::string("keeld listening on ").size());
    address_ = address_.substr(0, address_.find(' '));
  }

  void StartWorker(const std::string& token = "") {
    std::vector<std::string> argv = {HELLO_BIN, "worker", "--server", address_};
    if (!token.empty()) {
      argv.push_back("--token");
      argv.push_back(token);
    }
    worker_ = std::make_unique<Process>(argv, dir_.File("worker.log"), CleanEnv());
    ASSERT_TRUE(worker_->WaitForLine("polling task queue")) << "the hello worker did not start";
  }

  // `keel workflow start --type hello --id ID --input INPUT --wait`, left running once it
  // has printed the run id (it then waits for the result).
  std::unique_ptr<Process> StartHelloAndWait(const std::string& id, const std::string& input,
                                             const std::string& log) {
    auto p = std::make_unique<Process>(std::vector<std::string>{KEEL_BIN, "--server", address_, "workflow", "start",
                                                                "--type", "hello", "--id", id, "--input", input,
                                                                "--wait"},
                                       dir_.File(log), CleanEnv());
    EXPECT_TRUE(p->WaitForLine("run id:"));
    return p;
  }

  // Stops keeld with SIGTERM, waits until the waiting command whose stderr goes to `log`
  // says it waits for keeld, and starts keeld again on the same address and database.
  void RestartKeeldUnder(const std::string& log) {
    keeld_->Signal(SIGTERM);
    std::string rest;
    ASSERT_EQ(keeld_->Wait(&rest), 0) << rest;
    // Its waiting call fails (or the next one finds nobody): it says so and waits on.
    ASSERT_TRUE(WaitForText(dir_.File(log), "waiting for it to come back"));
    StartServer("", {}, address_);
  }

  // `keel --server ADDR ARGS...`
  CommandResult Keel(const std::vector<std::string>& args, const EnvChanges& env = {}) {
    std::vector<std::string> argv = {KEEL_BIN, "--server", address_};
    argv.insert(argv.end(), args.begin(), args.end());
    return RunCommand(argv, CleanEnv(env));
  }

  CommandResult StartHello(const std::string& id, const std::string& name_json) {
    return Keel({"workflow", "start", "--type", "hello", "--id", id, "--input", name_json});
  }

  // Polls describe until `done(description)`; a generous deadline, never a timing check.
  json DescribeUntil(const std::string& id, const std::function<bool(const json&)>& done) {
    Time deadline = Clock::System().Now() + std::chrono::seconds(60);
    json last;
    while (Clock::System().Now() < deadline) {
      CommandResult r = Keel({"workflow", "describe", "--id", id, "--json"});
      if (r.exit_code != 0) {
        ADD_FAILURE() << r.Describe();
        return last;
      }
      last = ParseJson(r);
      if (done(last)) return last;
    }
    ADD_FAILURE() << "describe never reached the expected state: " << last.dump(2);
    return last;
  }

  TempDir dir_;
  std::unique_ptr<Process> keeld_;
  std::unique_ptr<Process> worker_;
  std::string address_ = "127.0.0.1:1";  // unused until StartServer
};

TEST_F(WorkflowCommandTest, HelpExitsZeroForEveryCommand) {
  for (std::vector<std::string> args : std::vector<std::vector<std::string>>{
           {"--help"}, {"workflow", "--help"}, {"workflow", "-h"}}) {
    CommandResult r = Keel(args);
    EXPECT_EQ(r.exit_code, 0) << r.Describe();
    EXPECT_THAT(r.out, HasSubstr("usage: keel")) << r.Describe();
  }
  CommandResult top = Keel({"workflow", "--help"});
  for (const auto& sub : kSubcommands) EXPECT_THAT(top.out, HasSubstr("  " + sub + " ")) << sub;

  for (const auto& sub : kSubcommands) {
    for (const char* help : {"--help", "-h"}) {
      CommandResult r = Keel({"workflow", sub, help});
      EXPECT_EQ(r.exit_code, 0) << sub << ": " << r.Describe();
      EXPECT_THAT(r.out, HasSubstr("usage: keel workflow " + sub)) << r.Describe();
      for (const char* option : {"--server", "--token", "--json"})
        EXPECT_THAT(r.out, HasSubstr(option)) << sub;
    }
  }
  CommandResult start = Keel({"workflow", "start", "--help"});
  for (const char* option :
       {"--type", "--id", "--input", "--task-queue", "--request-id", "--id-reuse-policy",
        "--execution-timeout", "--run-timeout", "--search-attr", "--memo", "--wait"}) {
    EXPECT_THAT(start.out, HasSubstr(option));
  }
}

TEST_F(WorkflowCommandTest, UsageErrorsExitTwoWithOneLine) {
  // No server is running: none of these may get as far as calling one.
  CommandResult missing = Keel({"workflow", "start", "--type", "hello"});
  ExpectOneLineError(missing, 2);
  EXPECT_THAT(missing.err, HasSubstr("--id"));
  EXPECT_THAT(missing.err, HasSubstr("--help"));

  CommandResult bare = Keel({"workflow"});  // the usage, on stderr
  EXPECT_EQ(bare.exit_code, 2) << bare.Describe();
  EXPECT_THAT(bare.err, HasSubstr("usage: keel"));
  ExpectOneLineError(Keel({"workflow", "frobnicate"}), 2);
  ExpectOneLineError(Keel({"workflow", "describe", "--id", "x", "--bogus"}), 2);
  ExpectOneLineError(Keel({"workflow", "describe", "--id"}), 2);
  ExpectOneLineError(
      Keel({"workflow", "start", "--type", "t", "--id", "x", "--run-timeout", "soon"}), 2);
  ExpectOneLineError(
      Keel({"workflow", "start", "--type", "t", "--id", "x", "--id-reuse-policy", "maybe"}), 2);
  ExpectOneLineError(Keel({"workflow", "list", "--status", "sleeping"}), 2);
  ExpectOneLineError(Keel({"workflow", "list", "--limit", "0"}), 2);
  ExpectOneLineError(
      Keel({"workflow", "signal", "--id", "x", "--name", "n", "--run-id", "r", "--type", "t"}), 2);
  ExpectOneLineError(RunCommand({KEEL_BIN, "--frobnicate", "workflow", "list"}, CleanEnv()), 2);
}

TEST_F(WorkflowCommandTest, BadJsonInputStartsNothing) {
  StartServer();
  CommandResult bad = StartHello("hi-bad", "grace");  // a JSON string needs quotes
  ExpectOneLineError(bad, 2);
  EXPECT_THAT(bad.err, HasSubstr("--input"));
  ExpectOneLineError(Keel({"workflow", "start", "--type", "hello", "--id", "hi-bad", "--input",
                           "\"x\"", "--search-attr", "tier={oops"}),
                     2);

  CommandResult list = Keel({"workflow", "list", "--json"});
  ASSERT_EQ(list.exit_code, 0) << list.Describe();
  EXPECT_EQ(ParseJson(list)["workflows"], json::array());
  CommandResult table = Keel({"workflow", "list"});
  EXPECT_THAT(table.out, Not(HasSubstr("hi-bad")));
}

TEST_F(WorkflowCommandTest, StartSignalResultDescribeListHistoryAndReplay) {
  StartServer();
  StartWorker();

  CommandResult start =
      Keel({"workflow", "start", "--type", "hello", "--id", "hi-1", "--input", "\"grace\"",
            "--search-attr", "customer=\"acme\"", "--memo", "note={\"by\":\"test\"}", "--json"});
  ASSERT_EQ(start.exit_code, 0) << start.Describe();
  json started = ParseJson(start);
  EXPECT_EQ(started["workflow_id"], "hi-1");
  const std::string run_id = started["run_id"];
  EXPECT_FALSE(run_id.empty());

  CommandResult describe = Keel({"workflow", "describe", "--id", "hi-1"});
  ASSERT_EQ(describe.exit_code, 0) << describe.Describe();
  EXPECT_THAT(describe.out, HasSubstr("run id:          " + run_id));
  EXPECT_THAT(describe.out, HasSubstr("type:            hello"));
  EXPECT_THAT(describe.out, HasSubstr("task queue:      default"));
  EXPECT_THAT(describe.out, HasSubstr("customer: \"acme\""));
  EXPECT_THAT(describe.out, HasSubstr("note: {\"by\":\"test\"}"));

  CommandResult table = Keel({"workflow", "list", "--search-attr", "customer=\"acme\""});
  ASSERT_EQ(table.exit_code, 0) << table.Describe();
  EXPECT_THAT(table.out, HasSubstr("WORKFLOW ID"));
  EXPECT_THAT(table.out, HasSubstr("hi-1"));
  EXPECT_THAT(table.out, HasSubstr(run_id));
  CommandResult none = Keel({"workflow", "list", "--search-attr", "customer=\"other\""});
  EXPECT_THAT(none.out, Not(HasSubstr("hi-1"))) << none.Describe();

  CommandResult signal =
      Keel({"workflow", "signal", "--id", "hi-1", "--name", "proceed", "--input", "\"ok\""});
  ASSERT_EQ(signal.exit_code, 0) << signal.Describe();

  CommandResult result = Keel({"workflow", "result", "--id", "hi-1"});
  ASSERT_EQ(result.exit_code, 0) << result.Describe();
  EXPECT_EQ(result.out, "\"Hello, Grace! (ok)\"\n");
  CommandResult result_json = Keel({"workflow", "result", "--id", "hi-1", "--json"});
  json r = ParseJson(result_json);
  EXPECT_EQ(r["status"], "completed");
  EXPECT_EQ(r["result"], "Hello, Grace! (ok)");
  EXPECT_EQ(r["run_id"], run_id);

  json d = ParseJson(Keel({"workflow", "describe", "--id", "hi-1", "--json"}));
  EXPECT_EQ(d["status"], "completed");
  EXPECT_TRUE(d["close_time"].is_string());
  EXPECT_EQ(d["search_attributes"]["customer"], "acme");
  EXPECT_EQ(d["pending_activities"], json::array());

  json list =
      ParseJson(Keel({"workflow", "list", "--type", "hello", "--status", "completed", "--json"}));
  ASSERT_EQ(list["workflows"].size(), 1u) << list.dump(2);
  EXPECT_EQ(list["workflows"][0]["workflow_id"], "hi-1");
  EXPECT_EQ(list["workflows"][0]["status"], "completed");

  CommandResult timeline = Keel({"workflow", "history", "--id", "hi-1"});
  ASSERT_EQ(timeline.exit_code, 0) << timeline.Describe();
  EXPECT_THAT(timeline.out, HasSubstr("WorkflowExecutionSignaled"));
  EXPECT_THAT(timeline.out, HasSubstr("WorkflowExecutionCompleted"));

  json exported = ParseJson(Keel({"workflow", "history", "--id", "hi-1", "--json"}));
  EXPECT_EQ(exported["workflow_execution"]["run_id"], run_id);
  EXPECT_GT(exported["events"].size(), 10u);

  const std::string file = dir_.File("hi-1.json");
  CommandResult out = Keel({"workflow", "history", "--id", "hi-1", "--output", file});
  ASSERT_EQ(out.exit_code, 0) << out.Describe();
  EXPECT_THAT(out.out, HasSubstr(file));
  CommandResult replay = RunCommand({HELLO_BIN, "replay", file}, CleanEnv());
  EXPECT_EQ(replay.exit_code, 0) << replay.Describe();
  EXPECT_THAT(replay.out, HasSubstr("OK"));

  // A history the code does not match: the first activity was another type.
  std::string text;
  {
    std::ifstream in(file);
    text.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  const std::string recorded = "\"activity_type\": \"capitalize\"";
  const size_t at = text.find(recorded);
  ASSERT_NE(at, std::string::npos) << text.substr(0, 2000);
  text.replace(at, recorded.size(), "\"activity_type\": \"shout\"");
  const std::string diverged = dir_.File("hi-1-diverged.json");
  std::ofstream(diverged) << text;
  CommandResult bad = RunCommand({HELLO_BIN, "replay", diverged}, CleanEnv());
  EXPECT_EQ(bad.exit_code, 1) << bad.Describe();
  EXPECT_THAT(bad.err, HasSubstr("first divergence at event 5")) << bad.Describe();
  EXPECT_THAT(bad.err, HasSubstr("shout")) << bad.Describe();
}

// SIGTERM: keeld ends the calls it serves and exits 0; keeld started again on the same
// file (and a worker for it) continues the workflow where it was.
TEST_F(WorkflowCommandTest, KeeldStopsCleanlyOnSigtermAndARestartContinues) {
  StartServer();
  StartWorker();
  ASSERT_EQ(StartHello("hi-term", "\"ty\"").exit_code, 0);
  DescribeUntil("hi-term", [](const json& d) { return d["pending_timers"].size() == 1; });  // in its 1 s sleep
  keeld_->Signal(SIGTERM);
  std::string rest;
  EXPECT_EQ(keeld_->Wait(&rest), 0) << rest;
  std::ifstream log(dir_.File("keeld.log"));
  std::string text((std::istreambuf_iterator<char>(log)), std::istreambuf_iterator<char>());
  EXPECT_THAT(text, HasSubstr("stopped"));

  StartServer();  // the same database, a new port
  StartWorker();
  ASSERT_EQ(Keel({"workflow", "signal", "--id", "hi-term", "--name", "proceed", "--input", "\"go\""}).exit_code, 0);
  CommandResult result = Keel({"workflow", "result", "--id", "hi-term"});
  EXPECT_EQ(result.exit_code, 0) << result.Describe();
  EXPECT_THAT(result.out, HasSubstr("Hi, Ty! (go)"));
}

TEST_F(WorkflowCommandTest, AWaitingResultOutlivesAKeeldRestart) {
  StartServer();
  StartWorker();
  auto start = StartHelloAndWait("hi-r", "\"rae\"", "start-restart.log");
  ASSERT_NO_FATAL_FAILURE(RestartKeeldUnder("start-restart.log"));
  ASSERT_EQ(Keel({"workflow", "signal", "--id", "hi-r", "--name", "proceed", "--input", "\"back\""}).exit_code,
            0);
  std::string rest;
  EXPECT_EQ(start->Wait(&rest), 0);
  EXPECT_EQ(rest, "\"Hello, Rae! (back)\"\n");
}

TEST_F(WorkflowCommandTest, KeeldTakesItsPayloadLimitFromTheCommandLine) {
  StartServer("", {"--max-payload-bytes", "1000"});
  CommandResult big = StartHello("hi-big", "\"" + std::string(2000, 'a') + "\"");
  ExpectOneLineError(big, 1);
  EXPECT_THAT(big.err, HasSubstr("over the limit of 1000 bytes"));
  CommandResult small = StartHello("hi-small", "\"ada\"");
  EXPECT_EQ(small.exit_code, 0) << small.Describe();
}

// `hello run`: an engine, a gRPC server and a worker in one process, which the keel CLI
// drives like keeld; SIGTERM stops it with exit 0.
TEST_F(WorkflowCommandTest, HelloRunServesTheCliAndStopsOnSigterm) {
  Process run({HELLO_BIN, "run", "--db", dir_.File("run.db"), "--listen", "127.0.0.1:0"}, dir_.File("run.log"),
              CleanEnv());
  std::string line;
  ASSERT_TRUE(run.WaitForLine("serving on ", &line));
  address_ = line.substr(std::string("serving on ").size());
  address_ = address_.substr(0, address_.find(' '));
  ASSERT_EQ(StartHello("hi-run", "\"cy\"").exit_code, 0);
  ASSERT_EQ(Keel({"workflow", "signal", "--id", "hi-run", "--name", "proceed", "--input", "\"z\""}).exit_code, 0);
  CommandResult result = Keel({"workflow", "result", "--id", "hi-run"});
  EXPECT_EQ(result.exit_code, 0) << result.Describe();
  EXPECT_THAT(result.out, HasSubstr("Hi, Cy! (z)"));
  run.Signal(SIGTERM);
  std::string rest;
  EXPECT_EQ(run.Wait(&rest), 0) << rest;
}

// WorkerMain's options: a bad number or an option of another subcommand is refused with
// one line and exit 2; a history that is not JSON, with one line and exit 1.
TEST_F(WorkflowCommandTest, WorkerMainRefusesBadOptionsWithOneLine) {
  struct Case {
    std::vector<std::string> args;
    int exit_code;
    std::string says;
  };
  const std::string not_json = dir_.File("not.json");
  std::ofstream(not_json) << "{\"events\": [";
  for (const Case& c : std::vector<Case>{
           {{"worker", "--workflow-pollers", "abc"}, 2, "--workflow-pollers takes a number from 1 to 4096, not 'abc'"},
           {{"worker", "--max-activities", "0"}, 2, "--max-activities takes a number"},
           {{"replay", not_json, "--server", "x:1"}, 2, "--server is an option of worker, not of replay"},
           {{"worker", "--db", "x.db"}, 2, "--db is an option of run, not of worker"},
           {{"replay", not_json}, 1, "not a Keel history JSON"},
       }) {
    std::vector<std::string> argv = {HELLO_BIN};
    argv.insert(argv.end(), c.args.begin(), c.args.end());
    CommandResult r = RunCommand(argv, CleanEnv());
    EXPECT_EQ(r.exit_code, c.exit_code) << r.Describe();
    EXPECT_THAT(r.err, HasSubstr(c.says)) << r.Describe();
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.Describe();
  }
}

TEST_F(WorkflowCommandTest, QueryListsRegisteredNamesForAnUnknownQuery) {
  StartServer();
  StartWorker();
  ASSERT_EQ(StartHello("hi-q", "\"ada\"").exit_code, 0);
  ASSERT_EQ(Keel({"workflow", "signal", "--id", "hi-q", "--name", "proceed", "--input", "\"go\""})
                .exit_code,
            0);
  ASSERT_EQ(Keel({"workflow", "result", "--id", "hi-q"}).exit_code, 0);

  // hello registers no query handler: the error says so.
  CommandResult q = Keel({"workflow", "query", "--id", "hi-q", "--name", "status"});
  ExpectOneLineError(q, 1);
  EXPECT_THAT(q.err, HasSubstr("no query 'status'"));
  EXPECT_THAT(q.err, HasSubstr("registered: none"));
}

TEST_F(WorkflowCommandTest, StartWaitPrintsTheResultOnceSignaled) {
  StartServer();
  StartWorker();
  auto start = StartHelloAndWait("hi-w", "\"bob\"", "start-wait.log");
  ASSERT_EQ(Keel({"workflow", "signal", "--id", "hi-w", "--name", "proceed", "--input", "\"yes\""})
                .exit_code,
            0);
  std::string rest;
  EXPECT_EQ(start->Wait(&rest), 0);
  EXPECT_EQ(rest, "\"Hello, Bob! (yes)\"\n");
}

TEST_F(WorkflowCommandTest, SignalWithStartStartsTheWorkflowAndSignalsIt) {
  StartServer();
  StartWorker();
  CommandResult sws = Keel({"workflow", "signal", "--id", "hi-s", "--name", "proceed", "--input",
                            "\"early\"", "--type", "hello", "--start-input", "\"ada\"", "--json"});
  ASSERT_EQ(sws.exit_code, 0) << sws.Describe();
  EXPECT_EQ(ParseJson(sws)["started"], true);
  CommandResult result = Keel({"workflow", "result", "--id", "hi-s"});
  EXPECT_EQ(result.out, "\"Hello, Ada! (early)\"\n") << result.Describe();
}

TEST_F(WorkflowCommandTest, HistoryFollowPrintsEventsUntilTheRunCloses) {
  StartServer();
  StartWorker();
  ASSERT_EQ(StartHello("hi-f", "\"eve\"").exit_code, 0);
  Process follow({KEEL_BIN, "--server", address_, "workflow", "history", "--id", "hi-f", "--follow",
                  "--output", dir_.File("hi-f.json")},
                 dir_.File("follow.log"), CleanEnv());
  ASSERT_TRUE(follow.WaitForLine("TimerStarted"));  // the workflow sleeps, then waits for `proceed`
  ASSERT_EQ(Keel({"workflow", "signal", "--id", "hi-f", "--name", "proceed", "--input", "\"now\""})
                .exit_code,
            0);
  std::string rest;
  EXPECT_EQ(follow.Wait(&rest), 0);
  EXPECT_THAT(rest, HasSubstr("WorkflowExecutionSignaled"));
  EXPECT_THAT(rest, HasSubstr("WorkflowExecutionCompleted"));
  CommandResult replay = RunCommand({HELLO_BIN, "replay", dir_.File("hi-f.json")}, CleanEnv());
  EXPECT_EQ(replay.exit_code, 0) << replay.Describe();
}

TEST_F(WorkflowCommandTest, HistoryFollowOutlivesAKeeldRestart) {
  StartServer();
  StartWorker();
  ASSERT_EQ(StartHello("hi-fr", "\"fay\"").exit_code, 0);
  Process follow({KEEL_BIN, "--server", address_, "workflow", "history", "--id", "hi-fr", "--follow"},
                 dir_.File("follow-restart.log"), CleanEnv());
  ASSERT_TRUE(follow.WaitForLine("TimerStarted"));  // following; the run waits for `proceed`
  ASSERT_NO_FATAL_FAILURE(RestartKeeldUnder("follow-restart.log"));
  ASSERT_EQ(Keel({"workflow", "signal", "--id", "hi-fr", "--name", "proceed", "--input", "\"again\""}).exit_code,
            0);
  std::string rest;
  EXPECT_EQ(follow.Wait(&rest), 0);
  EXPECT_THAT(rest, HasSubstr("WorkflowExecutionSignaled"));
  EXPECT_THAT(rest, HasSubstr("WorkflowExecutionCompleted"));
}

TEST_F(WorkflowCommandTest, CancelAndTerminateEndRunsWithoutAResult) {
  StartServer();
  StartWorker();
  ASSERT_EQ(StartHello("hi-c", "\"cy\"").exit_code, 0);
  ASSERT_EQ(StartHello("hi-t", "\"ty\"").exit_code, 0);

  CommandResult cancel = Keel({"workflow", "cancel", "--id", "hi-c", "--reason", "not needed"});
  ASSERT_EQ(cancel.exit_code, 0) << cancel.Describe();
  CommandResult canceled = Keel({"workflow", "result", "--id", "hi-c"});
  ExpectOneLineError(canceled, 4);
  EXPECT_THAT(canceled.err, HasSubstr("canceled"));

  CommandResult terminate =
      Keel({"workflow", "terminate", "--id", "hi-t", "--reason", "operator says stop"});
  ASSERT_EQ(terminate.exit_code, 0) << terminate.Describe();
  CommandResult terminated = Keel({"workflow", "result", "--id", "hi-t", "--json"});
  EXPECT_EQ(terminated.exit_code, 4) << terminated.Describe();
  EXPECT_EQ(ParseJson(terminated)["status"], "terminated");
  EXPECT_THAT(terminated.err, HasSubstr("terminated"));

  json list = ParseJson(Keel({"workflow", "list", "--status", "terminated", "--json"}));
  ASSERT_EQ(list["workflows"].size(), 1u) << list.dump(2);
  EXPECT_EQ(list["workflows"][0]["workflow_id"], "hi-t");
  CommandResult timeline = Keel({"workflow", "history", "--id", "hi-t"});
  EXPECT_THAT(timeline.out, HasSubstr("operator says stop"));
}

TEST_F(WorkflowCommandTest, StartWaitExitsFourWhenTheRunTimesOut) {
  StartServer();
  StartWorker();
  // hello sleeps 1 s and then waits for `proceed`, which never comes.
  CommandResult r = Keel({"workflow", "start", "--type", "hello", "--id", "hi-to", "--input",
                          "\"tim\"", "--run-timeout", "1s", "--wait", "--json"});
  EXPECT_EQ(r.exit_code, 4) << r.Describe();
  EXPECT_EQ(ParseJson(r)["status"], "timed-out");
  EXPECT_THAT(r.err, StartsWith("keel: workflow hi-to timed-out"));
}

TEST_F(WorkflowCommandTest, ServerComesFromTheOptionOrTheEnvironment) {
  StartServer();
  CommandResult from_env =
      RunCommand({KEEL_BIN, "workflow", "list"}, CleanEnv({{"KEEL_SERVER", address_}}));
  EXPECT_EQ(from_env.exit_code, 0) << from_env.Describe();
  CommandResult after =
      RunCommand({KEEL_BIN, "--server", "127.0.0.1:1", "workflow", "list", "--server", address_},
                 CleanEnv({{"KEEL_SERVER", "127.0.0.1:1"}}));
  EXPECT_EQ(after.exit_code, 0) << after.Describe();
}

TEST_F(WorkflowCommandTest, ResultNoWaitReportsARunningWorkflow) {
  StartServer();
  ASSERT_EQ(StartHello("hi-n", "\"nora\"").exit_code, 0);  // no worker: it stays running
  CommandResult r = Keel({"workflow", "result", "--id", "hi-n", "--no-wait"});
  EXPECT_EQ(r.exit_code, 5) << r.Describe();
  EXPECT_THAT(r.out, HasSubstr("running"));
}

TEST_F(WorkflowCommandTest, DescribeShowsWhyAWorkflowTaskIsStuck) {
  StartServer();
  StartWorker();
  ASSERT_EQ(Keel({"workflow", "start", "--type", "no_such_type", "--id", "stuck"}).exit_code, 0);
  json d = DescribeUntil("stuck", [](const json& j) {
    return j["pending_workflow_task"].is_object() &&
           j["pending_workflow_task"]["last_failure"].is_string();
  });
  EXPECT_THAT(d["pending_workflow_task"]["last_failure"].get<std::string>(),
              HasSubstr("not registered"));
  CommandResult text = Keel({"workflow", "describe", "--id", "stuck"});
  EXPECT_THAT(text.out, HasSubstr("pending workflow task:"));
  EXPECT_THAT(text.out, HasSubstr("'no_such_type' is not registered"));
}

TEST_F(WorkflowCommandTest, UnknownIdIsNotFoundWithOneLine) {
  StartServer();
  for (const auto& sub : {"describe", "result", "cancel", "terminate", "history"}) {
    CommandResult r = Keel({"workflow", sub, "--id", "nope"});
    ExpectOneLineError(r, 3);
    EXPECT_THAT(r.err, HasSubstr("nope")) << sub;
  }
  ExpectOneLineError(Keel({"workflow", "signal", "--id", "nope", "--name", "proceed"}), 3);
}

TEST_F(WorkflowCommandTest, UnreachableServerIsOneLineError) {
  StartServer();
  const std::string address = address_;
  keeld_.reset();  // killed: nothing listens on its port now
  CommandResult r = Keel({"workflow", "list"});
  ExpectOneLineError(r, 1);
  EXPECT_THAT(r.err, HasSubstr("cannot reach keeld at " + address));
}

TEST_F(WorkflowCommandTest, WorkerSaysWhenKeeldDoesNotAnswer) {
  StartServer();
  keeld_.reset();  // killed: nothing listens on its port now
  StartWorker();   // still starts: keeld may come up later
  std::ifstream log(dir_.File("worker.log"));
  std::string text((std::istreambuf_iterator<char>(log)), std::istreambuf_iterator<char>());
  EXPECT_THAT(text, HasSubstr("worker: keeld at " + address_ + " does not answer yet"));
}

TEST_F(WorkflowCommandTest, WorkerWithAWrongTokenStopsWithOneLine) {
  const std::string tokens_file = dir_.File("tokens");
  std::ofstream(tokens_file) << "right-Token-0123456789 bot worker\n";
  StartServer(tokens_file);
  CommandResult r = RunCommand({HELLO_BIN, "worker", "--server", address_, "--token", "wrong-Token-0123456789"},
                               CleanEnv());
  EXPECT_EQ(r.exit_code, 1) << r.Describe();
  EXPECT_THAT(r.err, HasSubstr("refused this worker"));
  EXPECT_THAT(r.err, Not(HasSubstr("wrong-Token")));
}

// A valid token without the worker role (it may read, so a read would pass) is refused
// at the start too, instead of every poll failing forever.
TEST_F(WorkflowCommandTest, WorkerWithATokenWithoutTheWorkerRoleStopsWithOneLine) {
  const std::string tokens_file = dir_.File("tokens");
  std::ofstream(tokens_file) << "client-Token-0123456789 app client\n";
  StartServer(tokens_file);
  CommandResult r = RunCommand({HELLO_BIN, "worker", "--server", address_, "--token", "client-Token-0123456789"},
                               CleanEnv());
  EXPECT_EQ(r.exit_code, 1) << r.Describe();
  EXPECT_THAT(r.err, HasSubstr("refused this worker"));
  EXPECT_THAT(r.err, HasSubstr("RecordActivityTaskHeartbeat"));
  EXPECT_THAT(r.err, Not(HasSubstr("client-Token")));
}

TEST_F(WorkflowCommandTest, TokensAuthenticateAndNeverAppearInOutput) {
  const std::string token = "s3cret-Token-8f2e91";
  const std::string tokens_file = dir_.File("tokens");
  std::ofstream(tokens_file) << "# test tokens\n" << token << " ops admin\n";
  StartServer(tokens_file);
  StartWorker(token);

  CommandResult anonymous = Keel({"workflow", "list"});
  ExpectOneLineError(anonymous, 1);
  EXPECT_THAT(anonymous.err, HasSubstr("authentication"));

  CommandResult wrong = Keel({"workflow", "list"}, {{"KEEL_TOKEN", "not-" + token}});
  ExpectOneLineError(wrong, 1);
  EXPECT_THAT(wrong.err, Not(HasSubstr(token)));

  std::vector<CommandResult> outputs;
  outputs.push_back(
      Keel({"workflow", "start", "--type", "hello", "--id", "hi-auth", "--input", "\"al\""},
           {{"KEEL_TOKEN", token}}));
  EXPECT_EQ(outputs.back().exit_code, 0) << outputs.back().Describe();
  outputs.push_back(Keel({"workflow", "list"}, {{"KEEL_TOKEN", token}}));
  EXPECT_EQ(outputs.back().exit_code, 0);
  EXPECT_THAT(outputs.back().out, HasSubstr("hi-auth"));
  outputs.push_back(Keel({"--token", token, "workflow", "signal", "--id", "hi-auth", "--name",
                          "proceed", "--input", "\"ok\""}));
  EXPECT_EQ(outputs.back().exit_code, 0) << outputs.back().Describe();
  outputs.push_back(Keel({"workflow", "result", "--id", "hi-auth", "--json", "--token", token}));
  EXPECT_EQ(outputs.back().exit_code, 0) << outputs.back().Describe();
  outputs.push_back(Keel({"workflow", "describe", "--id", "nope", "--token", token}));
  EXPECT_EQ(outputs.back().exit_code, 3);
  outputs.push_back(Keel({"workflow", "describe", "--id", "x", "--bogus", token}));
  EXPECT_EQ(outputs.back().exit_code, 2);
  outputs.push_back(Keel({"workflow", "history", "--id", "hi-auth", "--json", "--token", token}));
  EXPECT_EQ(outputs.back().exit_code, 0);
  for (const auto& r : outputs) {
    EXPECT_THAT(r.out, Not(HasSubstr(token))) << r.Describe();
    EXPECT_THAT(r.err, Not(HasSubstr(token))) << r.Describe();
  }
}

}  // namespace
}  // namespace keel::testing
