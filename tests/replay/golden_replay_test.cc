// Golden replay: every recorded history in tests/golden/histories/ must replay against
// the workflows of golden_workflows.cc, so a change that would break running workflows
// fails CI. With KEEL_UPDATE_GOLDEN=1 the histories are first re-recorded from real runs
// on the embedded engine (TestEnvironment: ManualClock, fixed seed); see
// tests/golden/histories/README.md.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "engine/history.h"
#include "engine/history/event_util.h"
#include "engine/registry.h"
#include "engine/replayer.h"
#include "engine/testing/replay.h"
#include "engine/testing/test_environment.h"
#include "tests/replay/golden_workflows.h"

namespace keel::golden {
namespace {

using namespace std::chrono_literals;
using keel::testing::TestEnvironment;
using ::testing::HasSubstr;

namespace fs = std::filesystem;

const fs::path kDir = fs::path(KEEL_SOURCE_DIR) / "tests" / "golden" / "histories";

bool UpdateRequested() {
  const char* v = std::getenv("KEEL_UPDATE_GOLDEN");
  return v != nullptr && std::string(v) == "1";
}

const Registry& GoldenRegistry() {
  static const Registry* r = [] {
    auto* r = new Registry;
    RegisterGoldenWorkflows(*r);
    return r;
  }();
  return *r;
}

keel::testing::TestEnvironmentOptions EnvOptions() {
  keel::testing::TestEnvironmentOptions o;
  o.worker.identity = "golden-worker";
  return o;
}

using EventPredicate = std::function<bool(const v1::HistoryEvent&)>;

// Blocks until the run has an event after `after` that matches; returns its id.
int64_t WaitFor(TestEnvironment& env, const std::string& id, const EventPredicate& match,
                int64_t after = 0) {
  return env
      .WaitForEvent(id, [&](const v1::HistoryEvent& e) { return e.event_id() > after && match(e); })
      .event_id();
}

EventPredicate TimerStarted(const std::string& timer_id) {
  return [timer_id](const v1::HistoryEvent& e) {
    return e.has_timer_started() && e.timer_started().timer_id() == timer_id;
  };
}

EventPredicate TimerFired(const std::string& timer_id) {
  return [timer_id](const v1::HistoryEvent& e) {
    return e.has_timer_fired() && e.timer_fired().timer_id() == timer_id;
  };
}

// Blocks until activity `type` waits for its retry `attempt`, and returns how long until
// that attempt is due. No history event marks a retry, so this polls describe.
Duration WaitForBackoff(TestEnvironment& env, const std::string& id, const std::string& type,
                        int attempt) {
  while (true) {
    WorkflowDescription d = env.client().DescribeWorkflow(id);
    for (const auto& a : d.pending_activities) {
      if (a.activity_type == type && a.state == "backing off" && a.attempt == attempt &&
          a.next_attempt_time) {
        return *a.next_attempt_time - env.clock().Now();
      }
    }
    if (d.status != WorkflowStatus::kRunning) {
      ADD_FAILURE() << id << " closed before " << type << " backed off for attempt " << attempt;
      return Duration::zero();
    }
    std::this_thread::yield();
  }
}

// ---- the recordings: real runs, synchronised on history events and describe ----

History RecordOrderSignalWins(TestEnvironment& env) {
  const std::string id = "order-signal-wins";
  env.client().StartWorkflow("order", {.id = id}, std::string("lamp"));
  WaitFor(env, id, TimerStarted("1"));  // the cooling-off hour
  env.AdvanceTime(1h);
  WaitFor(env, id, TimerStarted("2"));  // the 24 h deadline, racing the approval
  env.client().SignalWorkflow(id, "approve", std::string("yes"));
  EXPECT_EQ(env.client().GetResult<std::string>(id), "shipped lamp (yes) at 400");
  return env.client().GetHistory(id);
}

History RecordOrderTimerWins(TestEnvironment& env) {
  const std::string id = "order-timer-wins";
  env.client().StartWorkflow("order", {.id = id}, std::string("desk"));
  WaitFor(env, id, TimerStarted("1"));
  env.AdvanceTime(1h);
  WaitFor(env, id, TimerStarted("2"));
  env.AdvanceTime(24h);
  EXPECT_EQ(env.client().GetResult<std::string>(id), "shipped desk (timeout) at 400");
  return env.client().GetHistory(id);
}

History RecordRetry(TestEnvironment& env) {
  const std::string id = "retry";
  env.client().StartWorkflow("retry", {.id = id}, std::string("acct-1"));
  Duration wait = WaitForBackoff(env, id, "flaky_balance", 2);
  EXPECT_EQ(wait, 10s);
  env.AdvanceTime(wait);
  wait = WaitForBackoff(env, id, "flaky_balance", 3);
  EXPECT_EQ(wait, 20s);
  env.AdvanceTime(wait);
  EXPECT_EQ(env.client().GetResult<std::string>(id), "acct-1: 120, check failed (AccountFrozen)");
  return env.client().GetHistory(id);
}

History RecordSideEffectWaitUntil(TestEnvironment& env) {
  const std::string id = "side-effect-wait-until";
  SetSideEffectCalls(0);
  env.client().StartWorkflow("side_effect_wait_until", {.id = id});
  WaitFor(env, id, TimerStarted("1"));  // WaitUntil(approvals >= 2, 1h)
  env.client().SignalWorkflow(id, "approve", 1);
  env.client().SignalWorkflow(id, "approve", 1);
  WaitFor(env, id, TimerStarted("2"));  // WaitUntil(approvals >= 10, 30min)
  env.AdvanceTime(30min);
  int64_t fired = WaitFor(env, id, TimerFired("2"));
  // The task that saw the timeout is now waiting on WaitUntil(approvals >= 3).
  WaitFor(
      env, id, [](const v1::HistoryEvent& e) { return e.has_workflow_task_completed(); }, fired);
  env.client().SignalWorkflow(id, "approve", 1);
  EXPECT_EQ(env.client().GetResult<std::string>(id),
            "label 1, approved, not escalated, approvals 3");
  EXPECT_EQ(SideEffectCalls(), 1);
  return env.client().GetHistory(id);
}

History RecordCanceled(TestEnvironment& env) {
  const std::string id = "cancellable";
  env.client().StartWorkflow("cancellable", {.id = id});
  WaitFor(env, id, TimerStarted("1"));
  env.client().CancelWorkflow(id, "no longer needed");
  try {
    env.client().GetResult<std::string>(id);
    ADD_FAILURE() << "the canceled workflow returned a result";
  } catch (const WorkflowFailedError& e) {
    EXPECT_EQ(e.Status(), "canceled");
  }
  return env.client().GetHistory(id);
}

// Runs "family" to its end: it needs a listener to signal and a workflow already using
// one of its child ids. Returns the first run id.
std::string RunFamily(TestEnvironment& env) {
  const std::string id = "family";
  env.client().StartWorkflow("golden_listener", {.id = "family-listener"});
  env.client().StartWorkflow("golden_forever", {.id = "family-taken"});
  auto run = env.client().StartWorkflow("family", {.id = id}, 0);
  env.WaitForEvent("family-listener", [](const auto& e) { return e.has_workflow_execution_completed(); });
  WaitFor(env, id, [](const v1::HistoryEvent& e) { return e.has_child_workflow_execution_started() &&
      e.child_workflow_execution_started().workflow_execution().workflow_id() == "family-forever"; });
  WaitFor(env, "family-forever", TimerStarted("1"));
  WaitFor(env, id, TimerStarted("1"));
  env.AdvanceTime(1h);
  EXPECT_EQ(env.client().GetResult<std::string>(id), "generation 1");
  env.client().TerminateWorkflow("family-taken", "recording done");
  return run.run_id;
}

History RecordFamily(TestEnvironment& env) { return env.client().GetHistory("family", RunFamily(env)); }

History RecordFamilyContinued(TestEnvironment& env) {
  RunFamily(env);
  return env.client().GetHistory("family");  // the current run: the continuation
}

struct Recording {
  const char* file;
  History (*record)(TestEnvironment&);
};

const std::vector<Recording>& Recordings() {
  static const std::vector<Recording> r = {
      {"order_signal_wins.json", RecordOrderSignalWins},
      {"order_timer_wins.json", RecordOrderTimerWins},
      {"retry.json", RecordRetry},
      {"side_effect_wait_until.json", RecordSideEffectWaitUntil},
      {"cancellable.json", RecordCanceled},
      {"family.json", RecordFamily},
      {"family_continued.json", RecordFamilyContinued},
  };
  return r;
}

std::vector<fs::path> GoldenFiles() {
  std::vector<fs::path> files;
  if (!fs::exists(kDir)) return files;
  for (const auto& entry : fs::directory_iterator(kDir)) {
    if (entry.path().extension() == ".json") files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

History Load(const std::string& file) {
  auto h = History::FromJsonFile((kDir / file).string());
  if (!h.ok()) {
    ADD_FAILURE() << file << ": " << h.status().ToString();
    return History();
  }
  return *h;
}

int Count(const History& h, const EventPredicate& match) {
  return static_cast<int>(
      std::count_if(h.proto().events().begin(), h.proto().events().end(), match));
}

// ---- tests ----

// Runs first (tests run in the order they are defined).
TEST(GoldenHistoriesTest, RecordsTheHistoriesWhenAsked) {
  if (!UpdateRequested())
    GTEST_SKIP() << "set KEEL_UPDATE_GOLDEN=1 to re-record the golden histories";
  fs::create_directories(kDir);
  for (const auto& r : Recordings()) {
    SCOPED_TRACE(r.file);
    TestEnvironment env(GoldenRegistry(), EnvOptions());
    History h = r.record(env);
    ASSERT_TRUE(h.WriteJsonFile((kDir / r.file).string()).ok());
    std::cerr << r.file << ":\n" << h.Timeline();
  }
}

TEST(GoldenHistoriesTest, EveryCheckedInHistoryReplays) {
  const std::vector<fs::path> files = GoldenFiles();
  ASSERT_GE(files.size(), 3u) << "no golden histories in " << kDir;
  SetSideEffectCalls(100);  // a replayed SideEffect that ran again would now return 101
  for (const auto& file : files) {
    SCOPED_TRACE(file.filename().string());
    ReplayResult r = keel::testing::ReplayFile(file.string(), GoldenRegistry());
    EXPECT_TRUE(r.ok()) << r.status.ToString() << " (event " << r.event_id << ")";
  }
  EXPECT_EQ(SideEffectCalls(), 100) << "replay ran a recorded side effect again";
}

TEST(GoldenHistoriesTest, EveryRecordingIsCheckedIn) {
  for (const auto& r : Recordings()) {
    EXPECT_TRUE(fs::exists(kDir / r.file))
        << r.file << " is missing: run with KEEL_UPDATE_GOLDEN=1";
  }
}

// The files are what their names say (a regeneration that went wrong would show here).
TEST(GoldenHistoriesTest, HistoriesHoldTheEventsTheyWereRecordedFor) {
  auto is_close = [](const char* kind) {
    return [kind](const v1::HistoryEvent& e) { return EventTypeName(e) == kind; };
  };
  {
    History h = Load("order_signal_wins.json");
    EXPECT_EQ(Count(h, [](const auto& e) { return e.has_activity_task_completed(); }), 2);
    EXPECT_EQ(Count(h, [](const auto& e) { return e.has_workflow_execution_signaled(); }), 1);
    EXPECT_EQ(Count(h, TimerFired("1")), 1);
    EXPECT_EQ(Count(h, [](const auto& e) { return e.has_timer_canceled(); }), 1);
    EXPECT_EQ(Count(h, is_close("WorkflowExecutionCompleted")), 1);
  }
  {
    History h = Load("order_timer_wins.json");
    EXPECT_EQ(Count(h, TimerFired("2")), 1);
    EXPECT_EQ(Count(h, [](const auto& e) { return e.has_workflow_execution_signaled(); }), 0);
    EXPECT_EQ(Count(h, is_close("WorkflowExecutionCompleted")), 1);
  }
  {
    History h = Load("retry.json");
    // The flaky activity's only start is its third attempt; the strict check failed.
    EXPECT_EQ(Count(h,
                    [](const auto& e) {
                      return e.has_activity_task_started() &&
                             e.activity_task_started().attempt() == 3;
                    }),
              1);
    EXPECT_EQ(Count(h, [](const auto& e) { return e.has_activity_task_failed(); }), 1);
    EXPECT_EQ(Count(h, is_close("WorkflowExecutionCompleted")), 1);
  }
  {
    History h = Load("side_effect_wait_until.json");
    EXPECT_EQ(Count(h, [](const auto& e) { return e.has_marker_recorded(); }), 1);
    EXPECT_EQ(Count(h, [](const auto& e) { return e.has_timer_canceled(); }), 1);
    EXPECT_EQ(Count(h, TimerFired("2")), 1);
    EXPECT_EQ(Count(h, [](const auto& e) { return e.has_workflow_execution_signaled(); }), 3);
  }
  {
    // Every event kind of children, external requests, markers and continue-as-new.
    History h = Load("family.json");
    for (const char* kind :
         {"StartChildWorkflowExecutionInitiated", "ChildWorkflowExecutionStarted", "ChildWorkflowExecutionCompleted",
          "ChildWorkflowExecutionFailed", "StartChildWorkflowExecutionFailed", "ChildWorkflowExecutionCanceled",
          "SignalExternalWorkflowExecutionInitiated", "ExternalWorkflowExecutionSignaled",
          "SignalExternalWorkflowExecutionFailed", "RequestCancelExternalWorkflowExecutionInitiated",
          "ExternalWorkflowExecutionCancelRequested", "MarkerRecorded", "UpsertWorkflowSearchAttributes",
          "WorkflowExecutionContinuedAsNew"}) {
      EXPECT_GE(Count(h, is_close(kind)), 1) << kind;
    }
    History next = Load("family_continued.json");
    EXPECT_FALSE(next.event(0).workflow_execution_started().continued_execution_run_id().empty());
    EXPECT_EQ(Count(next, is_close("WorkflowExecutionCompleted")), 1);
  }
  {
    History h = Load("cancellable.json");
    EXPECT_EQ(Count(h, [](const auto& e) { return e.has_workflow_execution_cancel_requested(); }),
              1);
    EXPECT_EQ(Count(h, is_close("WorkflowExecutionCanceled")), 1);
  }
}

// "order" as someone might change it: the shipping activity renamed.
// (Options in a named local: g++ 12 destroys an aggregate temporary built inside a
// co_await expression twice.)
Task<std::string> OrderShipExpress(WorkflowContext& ctx, std::string item) {
  ActivityOptions quick;
  quick.start_to_close = 30s;
  int price = co_await ctx.ExecuteActivity<int>("quote", quick, item);
  co_await ctx.Sleep(1h);
  auto approval = ctx.WaitSignal<std::string>("approve");
  auto deadline = ctx.Sleep(24h);
  auto first = co_await WhenAny(approval, deadline);
  std::string decision = first.index() == 0 ? std::get<0>(first) : "timeout";
  std::string receipt =
      co_await ctx.ExecuteActivity<std::string>("ship_express", quick, item, decision);
  co_return receipt + " at " + std::to_string(price);
}

TEST(GoldenHistoriesTest, ChangedWorkflowCodeFailsReplayNamingTheEvent) {
  History h = Load("order_signal_wins.json");
  int64_t ship = 0;
  for (const auto& e : h.proto().events()) {
    if (e.has_activity_task_scheduled() && e.activity_task_scheduled().activity_type() == "ship") {
      ship = e.event_id();
    }
  }
  ASSERT_NE(ship, 0);
  Registry changed;
  changed.RegisterWorkflow("order", OrderShipExpress);
  ReplayResult r = keel::testing::ReplayFile((kDir / "order_signal_wins.json").string(), changed);
  EXPECT_EQ(r.status.code(), StatusCode::kNondeterminism) << r.status.ToString();
  EXPECT_EQ(r.event_id, ship);
  EXPECT_THAT(r.status.message(), HasSubstr("history event " + std::to_string(ship) +
                                            " is ActivityTaskScheduled(type 'ship', id '2')"));
  EXPECT_THAT(r.status.message(), HasSubstr("ScheduleActivityTask(type 'ship_express', id '2')"));
}

// A workflow whose WhenAny cancels an activity that never started (its task queue has no
// worker), then goes on. The engine writes ActivityTaskCanceled after the task's other
// command events, so that they stay together for replay.
Task<std::string> CancelUnstarted(WorkflowContext& ctx) {
  ActivityOptions o{.start_to_close = 30s};
  o.task_queue = "no-worker-polls-this";
  auto act = ctx.ExecuteActivity<std::string>("never_runs", o);
  auto timer = ctx.Sleep(1min);
  co_await WhenAny(act, timer);
  co_await ctx.Sleep(1min);
  co_return "done";
}

TEST(RecordedHistoryReplayTest, CanceledUnstartedActivityReplays) {
  Registry r;
  r.RegisterWorkflow("cancel_unstarted", CancelUnstarted);
  TestEnvironment env(r, EnvOptions());
  const std::string id = "cancel-unstarted";
  env.client().StartWorkflow("cancel_unstarted", {.id = id});
  WaitFor(env, id, TimerStarted("1"));
  env.AdvanceTime(1min);
  WaitFor(env, id, TimerStarted("2"));
  History h = env.client().GetHistory(id);
  std::cerr << h.Timeline();
  ASSERT_EQ(Count(h, [](const auto& e) { return e.has_activity_task_canceled(); }), 1);
  ReplayResult res = ReplayHistory(h, r);
  EXPECT_TRUE(res.ok()) << res.status.ToString() << " (event " << res.event_id << ")";
  env.client().TerminateWorkflow(id, "test over");
}

}  // namespace
}  // namespace keel::golden
