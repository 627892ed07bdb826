// internal::RunDriver: workflow cancellation, and the cancellation of WhenAny's losers —
// a cancel command only for a loser whose command was recorded, none for one whose
// command was never sent, and none when the loser's outcome arrives in the same batch —
// plus WhenAll over activities.
//
// Histories are written with HistoryBuilder and list their events in a comment; one
// that ends with a WorkflowTaskStarted runs its last task live, and the test checks that
// task's commands (rendered by Describe in driver_harness.h), both with all events fed at
// once and batch by batch.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "engine/future.h"
#include "engine/registry.h"
#include "engine/replayer.h"
#include "engine/testing/history_builder.h"
#include "tests/engine/runtime/driver_harness.h"

namespace keel::runtime_test {
namespace {

using namespace std::chrono_literals;
using keel::testing::HistoryBuilder;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

bool CanceledCause(const ActivityFailure& f) {
  return dynamic_cast<const CanceledError*>(f.Cause()) != nullptr;
}

Task<std::string> SleepLong(WorkflowContext& ctx) {
  co_await ctx.Sleep(24h);
  co_return "woke";
}

Task<std::string> SleepCatchCancel(WorkflowContext& ctx) {
  std::string out;
  try {
    co_await ctx.Sleep(24h);
    out = "woke";
  } catch (const CanceledError&) {
    out = "canceled";
  }
  if (ctx.IsCancelRequested()) out += ", cancel requested";
  // Started after the request: fails at once, without a command.
  try {
    co_await ctx.ExecuteActivity<void>("cleanup", Opts());
    out += ", cleanup ran";
  } catch (const ActivityFailure& f) {
    out += CanceledCause(f) ? ", cleanup canceled" : ", cleanup failed";
  }
  co_return out;
}

Task<std::string> WaitForeverUntil(WorkflowContext& ctx) {
  co_await ctx.WaitUntil([] { return false; });
  co_return "never";
}

Task<std::string> AwaitActivity(WorkflowContext& ctx) {
  co_return co_await ctx.ExecuteActivity<std::string>("work", Opts());
}

Task<std::string> ActivityOrTimer(WorkflowContext& ctx) {
  auto act = ctx.ExecuteActivity<std::string>("slow", Opts());
  auto timer = ctx.Sleep(1h);
  auto r = co_await WhenAny(act, timer);
  co_return r.index() == 0 ? "activity " + std::get<0>(r) : "timeout";
}

// Signal "go" against an activity and a timer created in the same task.
Task<std::string> SignalOrActivityOrTimer(WorkflowContext& ctx) {
  auto sig = ctx.WaitSignal<std::string>("go");
  auto act = ctx.ExecuteActivity<std::string>("slow", Opts());
  auto timer = ctx.Sleep(1h);
  auto r = co_await WhenAny(sig, act, timer);
  co_return r.index() == 0 ? "signal " + std::get<0>(r) : "other";
}

// The activity is created (and recorded) in task 1; the timer in task 2, where the
// signal wins at once.
Task<std::string> MixedLosers(WorkflowContext& ctx) {
  auto act = ctx.ExecuteActivity<std::string>("slow", Opts());
  co_await ctx.WaitSignal("next");
  auto timer = ctx.Sleep(1h);
  auto sig = ctx.WaitSignal<std::string>("go");
  auto r = co_await WhenAny(sig, act, timer);
  co_return r.index() == 0 ? "signal " + std::get<0>(r) : "other";
}

Task<std::string> Fanout(WorkflowContext& ctx) {
  std::vector<Future<std::string>> fs;
  for (const char* name : {"x", "y", "z"})
    fs.push_back(ctx.ExecuteActivity<std::string>(name, Opts()));
  std::vector<std::string> results = co_await WhenAll(fs);
  co_return results[0] + "," + results[1] + "," + results[2];
}

const Registry& Workflows() {
  static const Registry* r = [] {
    auto* r = new Registry;
    r->RegisterWorkflow("sleep_long", SleepLong)
        .RegisterWorkflow("sleep_catch_cancel", SleepCatchCancel)
        .RegisterWorkflow("wait_forever_until", WaitForeverUntil)
        .RegisterWorkflow("await_activity", AwaitActivity)
        .RegisterWorkflow("activity_or_timer", ActivityOrTimer)
        .RegisterWorkflow("signal_or_activity_or_timer", SignalOrActivityOrTimer)
        .RegisterWorkflow("mixed_losers", MixedLosers)
        .RegisterWorkflow("fanout", Fanout);
    return r;
  }();
  return *r;
}

// Drives `h` both ways and expects the same commands of the live task.
void ExpectCommands(const History& h, const std::vector<std::string>& want) {
  ExpectLiveCommands(Workflows(), h, want);
}

// ---------------------------------------------------------------------------------------
// Cancellation

TEST(RunDriverCancelTest, CancelRequestSurfacesAtTheAwaitAndCancelsTheWorkflow) {
  // 1 Started | 2-4 WorkflowTask | 5 TimerStarted 1 | 6 CancelRequested | 7-8 live
  HistoryBuilder b("sleep_long");
  b.Started().WorkflowTask().TimerStarted("1", 24h).CancelRequested();
  ExpectCommands(Live(b), {"CancelTimer 1", "CancelWorkflowExecution"});
}

TEST(RunDriverCancelTest, CaughtCancellationLetsTheWorkflowFinish) {
  HistoryBuilder b("sleep_catch_cancel");
  b.Started().WorkflowTask().TimerStarted("1", 24h).CancelRequested();
  ExpectCommands(Live(b), {"CancelTimer 1", Done("canceled, cancel requested, cleanup canceled")});
}

TEST(RunDriverCancelTest, CancelRequestEndsAWaitUntil) {
  // 1 Started | 2-4 WorkflowTask | 5 CancelRequested | 6-7 live
  HistoryBuilder b("wait_forever_until");
  b.Started().WorkflowTask().CancelRequested();
  ExpectCommands(Live(b), {"CancelWorkflowExecution"});
}

TEST(RunDriverCancelTest, CancelRequestBeforeTheFirstTaskCancelsAtTheFirstAwait) {
  // 1 Started | 2 CancelRequested | 3-4 live: the timer is never started.
  HistoryBuilder b("sleep_long");
  b.Started().CancelRequested();
  ExpectCommands(Live(b), {"CancelWorkflowExecution"});
}

// DESIGN.md §4: "a cancel request surfaces as keel::CanceledError at the next await", and
// uncaught it ends the run as canceled. Awaiting an activity, the code gets an
// ActivityFailure caused by CanceledError; uncaught, that must still cancel the run, not
// fail it.
TEST(RunDriverCancelTest, CancelRequestWhileAwaitingAnActivityCancelsTheWorkflow) {
  // 1 Started | 2-4 WorkflowTask | 5 Scheduled work | 6 CancelRequested | 7-8 live
  HistoryBuilder b("await_activity");
  b.Started().WorkflowTask().ActivityScheduled("work").CancelRequested();
  ExpectCommands(Live(b), {"RequestCancelActivityTask @5", "CancelWorkflowExecution"});
}

// ---------------------------------------------------------------------------------------
// WhenAny / WhenAll

TEST(RunDriverCancelTest, WhenAnyCancelsARecordedActivityLoser) {
  // 1 Started | 2-4 WorkflowTask | 5 Scheduled slow | 6 TimerStarted 1 | 7 TimerFired 1
  HistoryBuilder b("activity_or_timer");
  b.Started().WorkflowTask().ActivityScheduled("slow").TimerStarted("1", 1h).TimerFired("1");
  ExpectCommands(Live(b), {"RequestCancelActivityTask @5", Done("timeout")});
}

TEST(RunDriverCancelTest, WhenAnyCancelsARecordedTimerLoser) {
  // ... | 7 Completed slow "v"
  HistoryBuilder b("activity_or_timer");
  b.Started().WorkflowTask().ActivityScheduled("slow").TimerStarted("1", 1h);
  b.ActivityCompleted("1", Str("v"));
  ExpectCommands(Live(b), {"CancelTimer 1", Done("activity v")});
}

TEST(RunDriverCancelTest, WhenAnyDropsTheCommandsOfUnsentLosers) {
  // 1 Started | 2 Signaled go | 3-4 live: the signal wins in the task that created the
  // activity and the timer; neither command is sent.
  HistoryBuilder b("signal_or_activity_or_timer");
  b.Started().Signaled("go", Str("now"));
  ExpectCommands(Live(b), {Done("signal now")});
}

TEST(RunDriverCancelTest, WhenAnyCancelsRecordedLosersInArgumentOrder) {
  // 1 Started | 2-4 WorkflowTask | 5 Scheduled slow | 6 TimerStarted 1 | 7 Signaled go
  HistoryBuilder b("signal_or_activity_or_timer");
  b.Started().WorkflowTask().ActivityScheduled("slow").TimerStarted("1", 1h);
  b.Signaled("go", Str("now"));
  ExpectCommands(Live(b), {"RequestCancelActivityTask @5", "CancelTimer 1", Done("signal now")});
}

TEST(RunDriverCancelTest, WhenAnyCancelsOnlyTheLosersWhoseCommandWasRecorded) {
  // 1 Started | 2-4 WorkflowTask | 5 Scheduled slow | 6 Signaled next | 7 Signaled go
  // 8-9 live: the activity was recorded, the timer is created in this task.
  HistoryBuilder b("mixed_losers");
  b.Started().WorkflowTask().ActivityScheduled("slow").Signaled("next").Signaled("go", Str("now"));
  ExpectCommands(Live(b), {"RequestCancelActivityTask @5", Done("signal now")});
}

TEST(RunDriverCancelTest, OutcomeInTheSameBatchWithdrawsTheActivityCancel) {
  // 5 Scheduled slow | 6 TimerStarted 1 | 7 TimerFired 1 | 8 Completed slow
  HistoryBuilder b("activity_or_timer");
  b.Started().WorkflowTask().ActivityScheduled("slow").TimerStarted("1", 1h).TimerFired("1");
  b.ActivityCompleted("1", Str("v"));
  ExpectCommands(Live(b), {Done("timeout")});
  // The complete history replays: no ActivityTaskCancelRequested was recorded.
  b.WorkflowTaskCompleted().Completed(Str("timeout"));
  ReplayResult r = ReplayHistory(b.Build(), Workflows());
  EXPECT_TRUE(r.ok()) << r.status.ToString();
}

TEST(RunDriverCancelTest, OutcomeInTheSameBatchWithdrawsTheTimerCancel) {
  // 5 Scheduled slow | 6 TimerStarted 1 | 7 Completed slow | 8 TimerFired 1
  HistoryBuilder b("activity_or_timer");
  b.Started().WorkflowTask().ActivityScheduled("slow").TimerStarted("1", 1h);
  b.ActivityCompleted("1", Str("v")).TimerFired("1");
  ExpectCommands(Live(b), {Done("activity v")});
  b.WorkflowTaskCompleted().Completed(Str("activity v"));
  ReplayResult r = ReplayHistory(b.Build(), Workflows());
  EXPECT_TRUE(r.ok()) << r.status.ToString();
}

TEST(RunDriverCancelTest, WhenAllOfActivitiesYieldsResultsInOrder) {
  HistoryBuilder b("fanout");
  b.Started();
  ExpectCommands(Live(b), {"ScheduleActivityTask x#1", "ScheduleActivityTask y#2",
                           "ScheduleActivityTask z#3"});
  // 4 WorkflowTaskCompleted | 5-7 Scheduled x y z | 8 Completed z | 9-10 live (nothing)
  // 11 WorkflowTaskCompleted | 12 Completed x | 13 Completed y | 14-15 live
  b.WorkflowTaskCompleted().ActivityScheduled("x").ActivityScheduled("y").ActivityScheduled("z");
  b.ActivityCompleted("3", Str("z3"));
  ExpectCommands(Live(b), {});
  b.WorkflowTaskCompleted().ActivityCompleted("1", Str("x1")).ActivityCompleted("2", Str("y2"));
  ExpectCommands(Live(b), {Done("x1,y2,z3")});
}

TEST(RunDriverCancelTest, WhenAllOfActivitiesFailsWithTheFirstFailure) {
  // 5-7 Scheduled x y z | 8 Completed x | 9 Failed y | 10-11 live
  HistoryBuilder b("fanout");
  b.Started().WorkflowTask().ActivityScheduled("x").ActivityScheduled("y").ActivityScheduled("z");
  b.ActivityCompleted("1", Str("x1")).ActivityFailed("2", "Boom", "y broke", true);
  ExpectCommands(Live(b), {"FailWorkflowExecution : activity 'y' failed"});
}

// The engine writes an unstarted activity's ActivityTaskCanceled after the task's other
// command events (engine/core/commands.cc), and not at all when the same task closes the
// workflow. Both shapes replay.
TEST(RunDriverCancelTest, ReplaysACanceledUnstartedActivityOfAClosingTask) {
  // 1 Started | 2-4 WorkflowTask | 5 Scheduled slow | 6 TimerStarted 1 | 7 Signaled go
  // 8-10 WorkflowTask | 11 ActivityTaskCancelRequested | 12 TimerCanceled 1
  // 13 WorkflowExecutionCompleted
  HistoryBuilder b("signal_or_activity_or_timer");
  b.Started().WorkflowTask().ActivityScheduled("slow").TimerStarted("1", 1h);
  b.Signaled("go", Str("now"));
  b.WorkflowTask().ActivityCancelRequested("1").TimerCanceled("1");
  b.Completed(Str("signal now"));
  ReplayResult r = ReplayHistory(b.Build(), Workflows());
  EXPECT_TRUE(r.ok()) << r.status.ToString() << " (event " << r.event_id << ")";
}

TEST(RunDriverCancelTest, ActivityCanceledBetweenCommandEventsIsNondeterministic) {
  // The shape the engine no longer writes: a non-command event among a task's command
  // events means the history lacks commands the code produced.
  HistoryBuilder b("signal_or_activity_or_timer");
  b.Started().WorkflowTask().ActivityScheduled("slow").TimerStarted("1", 1h);
  b.Signaled("go", Str("now"));
  b.WorkflowTask().ActivityCancelRequested("1").ActivityCanceled("1").TimerCanceled("1");
  b.Completed(Str("signal now"));
  ReplayResult r = ReplayHistory(b.Build(), Workflows());
  EXPECT_EQ(r.status.code(), StatusCode::kNondeterminism);
  EXPECT_EQ(r.event_id, 12);
}

}  // namespace
}  // namespace keel::runtime_test
