// Crash test: crash_child runs an engine and a worker in-process on one SQLite file with
// the workload of crash_workload.h. The test SIGKILLs it at random points (after the K-th
// step line it reads, K from a seeded RNG) and restarts it, at least kMinKills times and
// until a run finishes by itself, then runs it once more on the finished database. It
// then checks, in the database (an engine opened here) and in the ledger of side effects,
// that nothing acknowledged was lost and nothing was recorded twice: every workflow has
// exactly one run, completed with the expected result; every history holds exactly one
// completion per activity; every activity's side effect happened at least once, under a
// known idempotency key, and none after a client had its workflow's result.
// Re-executions (at-least-once) are counted and printed.
//
// Seed: random per run, printed; KEEL_CRASH_SEED=<n> replays the same kill points.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "engine/client.h"
#include "engine/engine.h"
#include "engine/history.h"
#include "engine/random.h"
#include "tests/crash/child_process.h"
#include "tests/crash/crash_workload.h"
#include "tests/support/temp_dir.h"

namespace keel::testing::crash {
namespace {

constexpr int kMinKills = 20;
// A child run completes at most K activities (it stalls after K executions; see
// crash_child.cc), so kMinKills kills always happen before the last activity completes.
constexpr int kMaxStepsPerKill = 20;
static_assert(kMinKills * kMaxStepsPerKill < kWorkflowCount * kStepsPerWorkflow);
// More kills than this without finishing means the runs make no progress.
constexpr int kMaxKills = 10 * kWorkflowCount * kStepsPerWorkflow / kMaxStepsPerKill;

uint64_t SeedFromEnvironment() {
  const char* s = std::getenv("KEEL_CRASH_SEED");
  if (s != nullptr && *s != '\0') return std::strtoull(s, nullptr, 10);
  return Random::System().Next();
}

// One child process, from spawn to exit.
struct ChildRun {
  int kill_after = 0;  // the step line after which the test kills it (0 = never)
  int steps_read = 0;
  bool killed = false;
  bool done = false;
  ChildProcess::Exit exit;
};

uintmax_t FileSize(const std::string& path) {
  std::error_code ec;
  uintmax_t size = std::filesystem::file_size(path, ec);
  return ec ? 0 : size;
}

// "default/<workflow id>/<run id>/<activity id>" -> "<workflow id>".
std::string WorkflowIdOfKey(const std::string& key) {
  size_t begin = key.find('/');
  if (begin == std::string::npos) return "";
  size_t end = key.find('/', begin + 1);
  return key.substr(begin + 1, end == std::string::npos ? std::string::npos : end - begin - 1);
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

int ResultValue(const v1::Payloads& payloads) {
  if (payloads.payloads_size() != 1) return -1;
  return nlohmann::json::parse(payloads.payloads(0).data()).get<int>();
}

class CrashTest : public ::testing::Test {
 protected:
  void TearDown() override {
    if (!HasFailure()) return;
    std::fprintf(stderr, "crash_test failed; rerun with KEEL_CRASH_SEED=%llu\n%s",
                 static_cast<unsigned long long>(seed_), DescribeRuns().c_str());
    std::string log = ReadFile(child_log_);
    if (log.size() > 8000) log = "...\n" + log.substr(log.size() - 8000);
    std::fprintf(stderr, "child stderr (all runs):\n%s\n", log.c_str());
  }

  // Runs crash_child until it exits, or kills it after its `kill_after`-th step line.
  ChildRun RunChild(int kill_after) {
    ChildRun run;
    run.kill_after = kill_after;
    std::vector<std::string> argv = {KEEL_CRASH_CHILD, "--db", db_path_, "--ledger", ledger_path_};
    if (kill_after > 0) {
      argv.push_back("--stall-after");
      argv.push_back(std::to_string(kill_after));
    }
    ChildProcess child(argv, child_log_);
    std::string line;
    while (child.ReadLine(&line)) {
      if (line.rfind(kStepPrefix, 0) == 0) {
        printed_keys_.insert(line.substr(sizeof(kStepPrefix) - 1));
        if (++run.steps_read == kill_after) {
          child.Kill();
          run.killed = true;
          break;
        }
      } else if (line.rfind(kResultPrefix, 0) == 0) {
        // Every legitimate ledger line of this workflow was written before its result
        // was returned, so before the ledger's current end.
        acknowledged_at_.try_emplace(line.substr(sizeof(kResultPrefix) - 1),
                                     FileSize(ledger_path_));
      } else if (line == kDoneLine) {
        run.done = true;
      }
    }
    run.exit = child.Wait();
    runs_.push_back(run);
    return run;
  }

  std::string DescribeRuns() const {
    std::string out = "child runs (kill point = the step line after which it was killed):\n";
    for (size_t i = 0; i < runs_.size(); ++i) {
      const ChildRun& r = runs_[i];
      out += "  run " + std::to_string(i + 1) + ": kill point " + std::to_string(r.kill_after) +
             ", read " + std::to_string(r.steps_read) + " step lines, " +
             (r.killed ? "killed" : r.exit.ToString()) + (r.done ? ", printed done" : "") + "\n";
    }
    return out;
  }

  // Checks workflow i in the database; adds the idempotency keys of its activities.
  void VerifyWorkflow(Client& client, int i, std::set<std::string>* expected_keys) {
    const std::string id = WorkflowId(i);
    SCOPED_TRACE("workflow " + id);
    auto summaries = client.ListWorkflows({.workflow_id = id});
    ASSERT_EQ(summaries.size(), 1u) << "runs of one workflow id";
    EXPECT_EQ(summaries[0].status, WorkflowStatus::kCompleted);
    EXPECT_EQ(summaries[0].workflow_type, kWorkflowType);
    WorkflowDescription d = client.DescribeWorkflow(id);
    EXPECT_EQ(d.status, WorkflowStatus::kCompleted);
    EXPECT_EQ(d.run_id, summaries[0].run_id);
    EXPECT_TRUE(d.pending_activities.empty());
    EXPECT_FALSE(d.workflow_task.has_value());
    EXPECT_EQ(client.GetResult<int>(id), ExpectedResult(i));

    History h = client.GetHistory(id);
    ASSERT_EQ(h.RunId(), summaries[0].run_id);
    SCOPED_TRACE("history:\n" + h.Timeline());
    std::map<int64_t, std::string> scheduled;  // event id -> activity id
    std::set<std::string> activity_ids;
    std::set<int64_t> completed;  // scheduled event ids
    int completions = 0, workflow_completions = 0, other_closes = 0, activity_failures = 0;
    for (int e = 0; e < h.size(); ++e) {
      const v1::HistoryEvent& ev = h.event(e);
      if (ev.has_activity_task_scheduled()) {
        const auto& a = ev.activity_task_scheduled();
        EXPECT_EQ(a.activity_type(), kActivityType);
        scheduled[ev.event_id()] = a.activity_id();
        activity_ids.insert(a.activity_id());
        expected_keys->insert("default/" + id + "/" + h.RunId() + "/" + a.activity_id());
      } else if (ev.has_activity_task_completed()) {
        const auto& c = ev.activity_task_completed();
        ++completions;
        EXPECT_TRUE(completed.insert(c.scheduled_event_id()).second)
            << "a second completion of the activity scheduled at event " << c.scheduled_event_id();
        auto it = scheduled.find(c.scheduled_event_id());
        if (it == scheduled.end()) {
          ADD_FAILURE() << "event " << ev.event_id() << " completes unknown scheduled event "
                        << c.scheduled_event_id();
        } else {
          EXPECT_EQ(ResultValue(c.result()), Input(i) + std::stoi(it->second))
              << "result of activity " << it->second;
        }
      } else if (ev.has_activity_task_failed() || ev.has_activity_task_timed_out() ||
                 ev.has_activity_task_canceled()) {
        ++activity_failures;
      } else if (ev.has_workflow_execution_completed()) {
        ++workflow_completions;
        EXPECT_EQ(e, h.size() - 1) << "the completion is not the last event";
        EXPECT_EQ(ResultValue(ev.workflow_execution_completed().result()), ExpectedResult(i));
      } else if (ev.has_workflow_execution_failed() || ev.has_workflow_execution_timed_out() ||
                 ev.has_workflow_execution_canceled() || ev.has_workflow_execution_terminated() ||
                 ev.has_workflow_execution_continued_as_new()) {
        ++other_closes;
      }
    }
    EXPECT_EQ(workflow_completions, 1);
    EXPECT_EQ(other_closes, 0);
    EXPECT_EQ(scheduled.size(), static_cast<size_t>(kStepsPerWorkflow));
    EXPECT_EQ(activity_ids, (std::set<std::string>{"1", "2", "3", "4", "5"}));
    EXPECT_EQ(completions, kStepsPerWorkflow);
    EXPECT_EQ(completed.size(), static_cast<size_t>(kStepsPerWorkflow));
    EXPECT_EQ(activity_failures, 0);
  }

  uint64_t seed_ = 0;
  TempDir dir_;
  std::string db_path_ = dir_.File("keel.db");
  std::string ledger_path_ = dir_.File("ledger.txt");
  std::string child_log_ = dir_.File("child.log");
  std::vector<ChildRun> runs_;
  std::set<std::string> printed_keys_;  // keys of the step lines the test read
  // Workflow id -> the ledger's size when the test first read its "result" line.
  std::map<std::string, uintmax_t> acknowledged_at_;
};

TEST_F(CrashTest, KilledWorkerLosesNothingAndRecordsNothingTwice) {
  seed_ = SeedFromEnvironment();
  std::printf("crash_test: seed %llu (KEEL_CRASH_SEED=%llu reruns these kill points)\n",
              static_cast<unsigned long long>(seed_), static_cast<unsigned long long>(seed_));
  SCOPED_TRACE("KEEL_CRASH_SEED=" + std::to_string(seed_));
  SeededRandom random(seed_);

  // Kill and restart until a run finishes by itself.
  int kills = 0;
  while (true) {
    ASSERT_LT(kills, kMaxKills) << "no run finished after " << kills << " kills";
    const int kill_after = 1 + static_cast<int>(random.Next() % kMaxStepsPerKill);
    ChildRun run = RunChild(kill_after);
    if (run.killed) {
      ++kills;
      continue;
    }
    ASSERT_TRUE(run.exit.exited && run.exit.code == 0 && run.done)
        << "child run " << runs_.size()
        << " ended by itself before its kill point: " << run.exit.ToString()
        << (run.done ? "" : " without printing done");
    break;
  }
  ASSERT_GE(kills, kMinKills);

  // Once more without a kill: everything has completed, so nothing runs again.
  ChildRun last = RunChild(0);
  ASSERT_TRUE(last.exit.exited && last.exit.code == 0) << last.exit.ToString();
  EXPECT_TRUE(last.done);
  EXPECT_EQ(last.steps_read, 0) << "an activity ran after its workflow completed";

  auto engine = Engine::Open({.db_path = db_path_});
  ASSERT_TRUE(engine.ok()) << engine.status().ToString();
  Client client(**engine);
  EXPECT_EQ(client.ListWorkflows({.limit = 10 * kWorkflowCount}).size(),
            static_cast<size_t>(kWorkflowCount));
  std::set<std::string> expected_keys;
  for (int i = 0; i < kWorkflowCount; ++i) VerifyWorkflow(client, i, &expected_keys);
  ASSERT_EQ(expected_keys.size(), static_cast<size_t>(kWorkflowCount * kStepsPerWorkflow));

  // The ledger: whole lines, known keys only, every key at least once.
  const std::string ledger = ReadFile(ledger_path_);
  ASSERT_TRUE(ledger.empty() || ledger.back() == '\n') << "the ledger ends with a torn line";
  std::map<std::string, int> executions;
  int line_count = 0;
  for (size_t offset = 0, end; offset < ledger.size(); offset = end + 1) {
    end = ledger.find('\n', offset);
    const std::string key = ledger.substr(offset, end - offset);
    ++line_count;
    EXPECT_TRUE(expected_keys.count(key))
        << "ledger line " << line_count << " has unknown key '" << key << "'";
    ++executions[key];
    auto acked = acknowledged_at_.find(WorkflowIdOfKey(key));
    EXPECT_TRUE(acked == acknowledged_at_.end() || offset < acked->second)
        << "ledger line " << line_count << ": " << key
        << " ran after a client had the workflow's result";
  }
  // The last run read every result line.
  EXPECT_EQ(acknowledged_at_.size(), static_cast<size_t>(kWorkflowCount));
  for (const auto& key : expected_keys) {
    EXPECT_TRUE(executions.count(key)) << "the side effect of " << key << " never happened";
  }
  for (const auto& key : printed_keys_) {
    EXPECT_TRUE(executions.count(key)) << "printed step " << key << " is not in the ledger";
  }
  int duplicates = line_count - static_cast<int>(executions.size());
  int max_executions = 0;
  for (const auto& [key, n] : executions) max_executions = std::max(max_executions, n);
  std::printf(
      "crash_test: %d kills, %zu child runs; ledger: %d executions of %zu activities, %d "
      "re-executions (at-least-once), at most %d of one activity\n",
      kills, runs_.size(), line_count, executions.size(), duplicates, max_executions);
}

}  // namespace
}  // namespace keel::testing::crash
