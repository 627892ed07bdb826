// internal::RunDriver: the values workflow code gets from its context must not change
// on replay — SideEffect (recorded once, never re-run), Now() (the WorkflowTaskStarted
// time), Random()/Uuid() (seeded by the run id), IsReplaying().
//
// Histories are written with HistoryBuilder and list their events in a comment; one
// that ends with a WorkflowTaskStarted runs its last task live, and the test checks that
// task's commands (rendered by Describe in driver_harness.h), both with all events fed at
// once and batch by batch.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <regex>
#include <string>
#include <vector>

#include "engine/history/convert.h"
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

int side_effect_calls = 0;

Task<int> SideEffectThenSleep(WorkflowContext& ctx) {
  int v = ctx.SideEffect([] { return 100 + ++side_effect_calls; });
  co_await ctx.Sleep(1s);
  co_return v;
}

Task<std::vector<int>> ThreeSideEffects(WorkflowContext& ctx) {
  std::vector<int> v;
  v.push_back(ctx.SideEffect([] { return 100 + ++side_effect_calls; }));
  v.push_back(ctx.SideEffect([] { return 100 + ++side_effect_calls; }));
  co_await ctx.Sleep(1s);
  v.push_back(ctx.SideEffect([] { return 100 + ++side_effect_calls; }));
  co_await ctx.Sleep(1s);
  co_return v;
}

// Now() in the first task and after a timer.
Task<std::vector<int64_t>> Times(WorkflowContext& ctx) {
  std::vector<int64_t> t{ToMicros(ctx.Now())};
  co_await ctx.Sleep(1h);
  t.push_back(ToMicros(ctx.Now()));
  co_return t;
}

Task<std::string> RandomValues(WorkflowContext& ctx) {
  std::string out = std::to_string(ctx.Random()) + " " + ctx.Uuid();
  co_await ctx.Sleep(1s);
  out += " " + std::to_string(ctx.Random()) + " " + ctx.Uuid();
  co_return out;
}

Task<std::string> ReplayingFlags(WorkflowContext& ctx) {
  std::string out = ctx.IsReplaying() ? "replaying" : "live";
  co_await ctx.Sleep(1s);
  out += ctx.IsReplaying() ? " replaying" : " live";
  co_return out;
}

const Registry& Workflows() {
  static const Registry* r = [] {
    auto* r = new Registry;
    r->RegisterWorkflow("side_effect_then_sleep", SideEffectThenSleep)
        .RegisterWorkflow("three_side_effects", ThreeSideEffects)
        .RegisterWorkflow("times", Times)
        .RegisterWorkflow("random_values", RandomValues)
        .RegisterWorkflow("replaying_flags", ReplayingFlags);
    return r;
  }();
  return *r;
}

// Drives `h` both ways and expects the same commands of the live task.
void ExpectCommands(const History& h, const std::vector<std::string>& want) {
  ExpectLiveCommands(Workflows(), h, want);
}

// ---------------------------------------------------------------------------------------
// Deterministic values

TEST(RunDriverValuesTest, SideEffectRunsOnceLiveAndIsRecorded) {
  side_effect_calls = 0;
  HistoryBuilder b("side_effect_then_sleep");
  b.Started();
  DriveResult got = DriveAll(Workflows(), Live(b));
  ASSERT_TRUE(got.status.ok()) << got.status.ToString();
  EXPECT_THAT(got.commands, ElementsAre("RecordMarker SideEffect#1=101", "StartTimer 1"));
  EXPECT_EQ(side_effect_calls, 1);
}

TEST(RunDriverValuesTest, SideEffectReturnsTheRecordedValueOnReplayWithoutCallingTheFunction) {
  // 1 Started | 2-4 WorkflowTask | 5 MarkerRecorded SideEffect #1 = 42 | 6 TimerStarted 1
  // 7 TimerFired 1 | 8-9 live
  HistoryBuilder b("side_effect_then_sleep");
  b.Started()
      .WorkflowTask()
      .SideEffectMarker(1, ToPayload(42))
      .TimerStarted("1", 1s)
      .TimerFired("1");
  side_effect_calls = 0;
  DriveResult got = DriveAll(Workflows(), Live(b));
  ASSERT_TRUE(got.status.ok()) << got.status.ToString();
  EXPECT_THAT(got.commands, ElementsAre(DoneJson("42")));
  EXPECT_EQ(side_effect_calls, 0);

  // The Replayer too (10 WorkflowTaskCompleted | 11 WorkflowExecutionCompleted).
  b.WorkflowTaskCompleted().Completed({ToPayload(42)});
  ReplayResult r = ReplayHistory(b.Build(), Workflows());
  EXPECT_TRUE(r.ok()) << r.status.ToString();
  EXPECT_EQ(side_effect_calls, 0);
}

TEST(RunDriverValuesTest, SideEffectsAreNumberedAcrossTasks) {
  // 1 Started | 2-4 WorkflowTask | 5 Marker #1=10 | 6 Marker #2=20 | 7 TimerStarted 1
  // 8 TimerFired 1 | 9-11 WorkflowTask | 12 Marker #3=30 | 13 TimerStarted 2
  // 14 TimerFired 2 | 15-16 live
  HistoryBuilder b("three_side_effects");
  b.Started().WorkflowTask().SideEffectMarker(1, ToPayload(10)).SideEffectMarker(2, ToPayload(20));
  b.TimerStarted("1", 1s).TimerFired("1").WorkflowTask().SideEffectMarker(3, ToPayload(30));
  b.TimerStarted("2", 1s).TimerFired("2");
  side_effect_calls = 0;
  DriveResult got = DriveAll(Workflows(), Live(b));
  ASSERT_TRUE(got.status.ok()) << got.status.ToString();
  EXPECT_THAT(got.commands, ElementsAre(DoneJson("[10,20,30]")));
  EXPECT_EQ(side_effect_calls, 0);
}

TEST(RunDriverValuesTest, SideEffectMissingFromTheHistoryIsNondeterministic) {
  // 1 Started | 2-4 WorkflowTask | 5 TimerStarted 1 (no marker) | 6 TimerFired | 7-8 live
  HistoryBuilder b("side_effect_then_sleep");
  b.Started().WorkflowTask().TimerStarted("1", 1s).TimerFired("1");
  DriveResult got = DriveAll(Workflows(), Live(b));
  EXPECT_EQ(got.status.code(), StatusCode::kNondeterminism) << got.status.ToString();
  EXPECT_THAT(got.status.message(), HasSubstr("SideEffect #1"));
  EXPECT_EQ(got.divergence_event_id, 3);  // the WorkflowTaskStarted of the task that ran it
}

TEST(RunDriverValuesTest, NowIsTheTimeOfWorkflowTaskStarted) {
  // 1 Started t0 | 2 WorkflowTaskScheduled t0+1s | 3 WorkflowTaskStarted t0+3s
  // 4 WorkflowTaskCompleted | 5 TimerStarted 1 | 6 TimerFired t0+3s+1h
  // 7 WorkflowTaskScheduled t0+3s+1h+5s | 8 WorkflowTaskStarted t0+3s+1h+12s (live)
  const Time t0 = ManualClock::DefaultStart();
  HistoryBuilder b("times");
  b.Started().AdvanceTime(1s).WorkflowTaskScheduled().AdvanceTime(2s).WorkflowTaskStarted();
  b.WorkflowTaskCompleted().TimerStarted("1", 1h).AdvanceTime(1h).TimerFired("1");
  b.AdvanceTime(5s).WorkflowTaskScheduled().AdvanceTime(7s).WorkflowTaskStarted();
  const std::string want = "[" + std::to_string(ToMicros(t0 + 3s)) + "," +
                           std::to_string(ToMicros(t0 + 3s + 1h + 12s)) + "]";
  ExpectCommands(b.Build(), {DoneJson(want)});
}

TEST(RunDriverValuesTest, NowComesFromTheTaskThatRanNotFromAFailedOne) {
  // 1 Started t0 | 2 WorkflowTaskScheduled | 3 WorkflowTaskStarted t0+1m | 4 Failed
  // 5 WorkflowTaskScheduled | 6 WorkflowTaskStarted t0+2m | 7 WorkflowTaskCompleted
  // 8 TimerStarted 1 | 9 TimerFired 1 | 10-11 live
  // The code first ran at event 6, so its first Now() is t0+2m.
  const Time t0 = ManualClock::DefaultStart();
  HistoryBuilder b("times");
  b.Started().WorkflowTaskScheduled().AdvanceTime(1min).WorkflowTaskStarted();
  b.WorkflowTaskFailed("x").WorkflowTaskScheduled().AdvanceTime(1min).WorkflowTaskStarted();
  b.WorkflowTaskCompleted().TimerStarted("1", 1h).TimerFired("1");
  const std::string t = std::to_string(ToMicros(t0 + 2min));
  ExpectCommands(Live(b), {DoneJson("[" + t + "," + t + "]")});
}

TEST(RunDriverValuesTest, NowNeverGoesBackwards) {
  // 3 WorkflowTaskStarted t0+10s | ... | 8 WorkflowTaskStarted t0+5s (an earlier clock)
  const Time t0 = ManualClock::DefaultStart();
  HistoryBuilder b("times");
  b.Started()
      .WorkflowTaskScheduled()
      .AdvanceTime(10s)
      .WorkflowTaskStarted()
      .WorkflowTaskCompleted();
  b.TimerStarted("1", 1h).TimerFired("1").WorkflowTaskScheduled().AdvanceTime(-5s);
  const std::string want =
      "[" + std::to_string(ToMicros(t0 + 10s)) + "," + std::to_string(ToMicros(t0 + 10s)) + "]";
  b.WorkflowTaskStarted();
  ExpectCommands(b.Build(), {DoneJson(want)});
}

History RandomHistory(const std::string& run_id) {
  // 1 Started | 2-4 WorkflowTask | 5 TimerStarted 1 | 6 TimerFired 1 | 7-8 live
  HistoryBuilder b("random_values", "wf-1", run_id);
  b.Started().WorkflowTask().TimerStarted("1", 1s).TimerFired("1");
  return Live(b);
}

TEST(RunDriverValuesTest, RandomAndUuidAreDeterministicPerRunId) {
  const std::string kRunA = "00000000-0000-4000-8000-00000000000a";
  const std::string kRunB = "00000000-0000-4000-8000-00000000000b";
  DriveResult a1 = DriveAll(Workflows(), RandomHistory(kRunA));
  DriveResult a2 = DriveInBatches(Workflows(), RandomHistory(kRunA));
  DriveResult b1 = DriveAll(Workflows(), RandomHistory(kRunB));
  ASSERT_TRUE(a1.status.ok() && a2.status.ok() && b1.status.ok());
  ASSERT_EQ(a1.commands.size(), 1u);
  // Replayed or live, the same run gets the same values; another run gets others.
  EXPECT_EQ(a1.commands, a2.commands);
  EXPECT_NE(a1.commands, b1.commands);
  // "<n> <uuid> <n> <uuid>", version-4 UUIDs, all different.
  std::smatch m;
  const std::regex re(
      "CompleteWorkflowExecution \"(\\d+) ([0-9a-f-]{36}) (\\d+) ([0-9a-f-]{36})\"");
  ASSERT_TRUE(std::regex_match(a1.commands[0], m, re)) << a1.commands[0];
  EXPECT_NE(m[1], m[3]);
  EXPECT_NE(m[2], m[4]);
  const std::regex v4("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}");
  EXPECT_TRUE(std::regex_match(m[2].str(), v4)) << m[2];
}

TEST(RunDriverValuesTest, IsReplayingIsTrueOnlyForRecordedTasks) {
  // 1 Started | 2-4 WorkflowTask | 5 TimerStarted 1 | 6 TimerFired 1 | 7-8 live
  HistoryBuilder b("replaying_flags");
  b.Started().WorkflowTask().TimerStarted("1", 1s).TimerFired("1");
  History h = Live(b);
  DriveResult all = DriveAll(Workflows(), h);
  EXPECT_THAT(all.commands, ElementsAre(Done("replaying live")));
  DriveResult batches = DriveInBatches(Workflows(), h);
  EXPECT_THAT(batches.commands, ElementsAre(Done("live live")));
}

}  // namespace
}  // namespace keel::runtime_test
