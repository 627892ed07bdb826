// internal::RunDriver: the features of engine part two that are not one command kind's
// state machine — Patched / DeprecatePatch (version markers), ContinueAsNew,
// UpsertSearchAttributes, queries (RunDriver::Query), the disconnected context, the
// default ids of child workflows, and non-determinism in histories with children and
// requests to other workflows.
//
// Histories are written with HistoryBuilder and list their events in a comment; one
// that ends with a WorkflowTaskStarted runs its last task live, and the test checks that
// task's commands (rendered by Describe in driver_harness.h), both with all events fed at
// once and batch by batch.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include "engine/history/convert.h"
#include "engine/registry.h"
#include "engine/replayer.h"
#include "engine/runtime/run_driver.h"
#include "engine/testing/history_builder.h"
#include "tests/engine/runtime/driver_harness.h"

namespace keel::runtime_test {
namespace {

using namespace std::chrono_literals;
using keel::testing::HistoryBuilder;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

// ---------------------------------------------------------------------------------------
// Workflows

// Patched twice: before a timer (the first task) and after it. The answer is decided once
// per run, by the first call.
Task<std::string> PatchedTwice(WorkflowContext& ctx) {
  std::string out = ctx.Patched("change-1") ? "new" : "old";
  out += ctx.Patched("change-1") ? " new" : " old";
  co_await ctx.Sleep(1s);
  out += ctx.Patched("change-1") ? " new" : " old";
  co_return out;
}

// The same code once the patch is deprecated: only the new branch is left.
Task<std::string> DeprecatedPatch(WorkflowContext& ctx) {
  ctx.DeprecatePatch("change-1");
  co_await ctx.Sleep(1s);
  co_return "new";
}

// DeprecatePatch as the only command of its task.
Task<std::string> DeprecatedPatchThenSignal(WorkflowContext& ctx) {
  ctx.DeprecatePatch("change-1");
  co_await ctx.WaitSignal("go");
  co_return "new";
}

// The code after the patch check was removed altogether.
Task<std::string> PatchRemoved(WorkflowContext& ctx) {
  co_await ctx.Sleep(1s);
  co_return "new";
}

// Input (n, note): continues as new with (n + 1, "carried") and default options until
// n = 3.
Task<std::string> CountUp(WorkflowContext& ctx, int n, std::string note) {
  if (n >= 3) co_return "reached " + std::to_string(n) + " " + note;
  co_await ctx.Sleep(1s);
  ctx.ContinueAsNew(n + 1, std::string("carried"));
}

// Continues as new at once, as "count_up" with every option set.
Task<std::string> CountUpWithOptions(WorkflowContext& ctx, int n, std::string note) {
  if (n >= 3) co_return note;
  ContinueAsNewOptions options;
  options.workflow_type = "count_up";
  options.task_queue = "other-queue";
  options.run_timeout = 1h;
  options.task_timeout = 5s;
  ctx.ContinueAsNewWith(options, n + 1, std::string("carried"));
}

Task<std::string> Upserts(WorkflowContext& ctx) {
  ctx.UpsertSearchAttributes({{"stage", "one"}, {"count", 1}});
  co_await ctx.Sleep(1s);
  ctx.UpsertSearchAttributes({{"stage", "two"}});
  co_return "upserted";
}

// State for queries: a counter bumped by signal "inc" (an OnSignal handler). Signal "go"
// makes it sleep 1 s (timer "1"), run activity "work" (id "1"), and end on signal "end".
Task<std::string> Queryable(WorkflowContext& ctx) {
  int count = 0;
  bool go = false;
  ctx.OnSignal("inc", [&count] { ++count; });
  ctx.OnSignal("go", [&go] { go = true; });
  ctx.OnQuery("count", [&count] { return count; });
  ctx.OnQuery("greet",
              [&count](std::string name) { return "hi " + name + " #" + std::to_string(count); });
  ctx.OnQuery("starts_timer", [&ctx] {
    (void)ctx.Sleep(1s);
    return 0;
  });
  ctx.OnQuery("starts_activity", [&ctx] {
    (void)ctx.ExecuteActivity<void>("work", Opts());
    return 0;
  });
  ctx.OnQuery("waits_signal", [&ctx] {
    (void)ctx.WaitSignal("end");
    return 0;
  });
  ctx.OnQuery("throws", []() -> int { throw std::runtime_error("query blew up"); });
  co_await ctx.WaitUntil([&go] { return go; });
  co_await ctx.Sleep(1s);
  co_await ctx.ExecuteActivity<void>("work", Opts());
  co_await ctx.WaitSignal("end");
  co_return std::to_string(count);
}

// Whether an operation's future failed at once ("failed") or waits ("pending").
template <typename T>
std::string At(const Future<T>& f) {
  if (!f.IsReady()) return "pending";
  return f.state()->failed() ? "failed" : "ready";
}

// After a cancel request, operations of the normal context fail at once; those of the
// disconnected context issue their commands.
Task<std::string> CleanupAfterCancel(WorkflowContext& ctx) {
  try {
    co_await ctx.Sleep(24h);
    co_return "woke";
  } catch (const CanceledError&) {
  }
  ChildWorkflowOptions kid;
  kid.id = "kid";
  std::string out = "normal:";
  out += " activity " + At(ctx.ExecuteActivity<void>("normal", Opts()));
  out += ", timer " + At(ctx.Sleep(1s));
  out += ", child " + At(ctx.ExecuteChildWorkflow<void>("kid_type", kid));
  out += ", signal " + At(ctx.SignalExternalWorkflow("other", "", "ping"));
  out += ", cancel " + At(ctx.RequestCancelExternalWorkflow("other"));
  out += ", wait " + At(ctx.WaitSignal("late"));
  out += ", until " + At(ctx.WaitUntil([] { return false; }));
  WorkflowContext& d = ctx.Disconnected();
  auto cleanup = d.ExecuteActivity<std::string>("cleanup", Opts());
  out += "; disconnected: activity " + At(cleanup);
  out += ", timer " + At(d.Sleep(1s));
  out += ", child " + At(d.ExecuteChildWorkflow<void>("kid_type", kid));
  out += ", signal " + At(d.SignalExternalWorkflow("other", "", "ping"));
  out += ", cancel " + At(d.RequestCancelExternalWorkflow("other"));
  out += ", wait " + At(d.WaitSignal("late"));
  out += "; cleanup " + co_await cleanup;
  co_return out;
}

// Children with default ids and one with its own.
Task<std::string> FourChildren(WorkflowContext& ctx) {
  ChildWorkflowOptions named;
  named.id = "named";
  (void)ctx.ExecuteChildWorkflow<int>("square", {}, 2);
  (void)ctx.ExecuteChildWorkflow<int>("square", {}, 3);
  (void)ctx.ExecuteChildWorkflow<int>("cube", named, 2);
  (void)ctx.ExecuteChildWorkflow<int>("cube", {}, 2);
  co_await ctx.WaitSignal("end");
  co_return "started";
}

// A child (default id), then a signal to another workflow. "family_v2" is the same
// workflow type registered with another child type.
Task<std::string> ChildThenSignalWith(WorkflowContext& ctx, std::string child_type,
                                      std::string signal) {
  // Options in a named local: GCC 12 destroys a braced temporary that lives across a
  // co_await twice.
  ChildWorkflowOptions options;
  int v = co_await ctx.ExecuteChildWorkflow<int>(child_type, options, 6);
  co_await ctx.SignalExternalWorkflow("listener", "", signal, v);
  co_return "sent " + std::to_string(v);
}
Task<std::string> ChildThenSignal(WorkflowContext& ctx) {
  co_return co_await ChildThenSignalWith(ctx, "square", "news");
}
Task<std::string> ChildThenSignalOtherType(WorkflowContext& ctx) {
  co_return co_await ChildThenSignalWith(ctx, "cube", "news");
}
Task<std::string> ChildThenSignalOtherSignal(WorkflowContext& ctx) {
  co_return co_await ChildThenSignalWith(ctx, "square", "gossip");
}

const Registry& Workflows() {
  static const Registry* r = [] {
    auto* r = new Registry;
    r->RegisterWorkflow("patched_twice", PatchedTwice)
        .RegisterWorkflow("deprecated_patch", DeprecatedPatch)
        .RegisterWorkflow("deprecated_patch_then_signal", DeprecatedPatchThenSignal)
        .RegisterWorkflow("count_up", CountUp)
        .RegisterWorkflow("count_up_with_options", CountUpWithOptions)
        .RegisterWorkflow("upserts", Upserts)
        .RegisterWorkflow("queryable", Queryable)
        .RegisterWorkflow("cleanup_after_cancel", CleanupAfterCancel)
        .RegisterWorkflow("four_children", FourChildren)
        .RegisterWorkflow("family", ChildThenSignal);
    return r;
  }();
  return *r;
}

void ExpectCommands(const History& h, const std::vector<std::string>& want) {
  ExpectLiveCommands(Workflows(), h, want);
}

// A RunDriver fed a growing history the way a worker with the run cached is: each
// Advance applies the events it has not seen yet.
class CachedRun {
 public:
  CachedRun(const Registry& registry, const History& h) : driver_(registry, InfoOf(h)) {}
  Status Advance(const History& h) {
    internal::RunDriver::Events batch;
    for (int i = static_cast<int>(driver_.last_event_id()); i < h.size(); ++i) {
      *batch.Add() = h.event(i);
    }
    return driver_.Advance(batch, &commands_);
  }
  std::vector<std::string> commands() const { return Describe(commands_); }
  const std::vector<v1::Command>& raw_commands() const { return commands_; }
  internal::RunDriver& driver() { return driver_; }

 private:
  internal::RunDriver driver_;
  std::vector<v1::Command> commands_;
};

// ---------------------------------------------------------------------------------------
// Patched

TEST(RunDriverFeaturesTest, PatchedIsTrueLiveAndRecordsOneMarker) {
  // 1 Started | 2-3 live
  HistoryBuilder b("patched_twice");
  b.Started();
  ExpectCommands(Live(b), {"RecordMarker Version(change-1)", "StartTimer 1"});
}

TEST(RunDriverFeaturesTest, PatchedIsTrueWhenReplayingAHistoryWithItsMarker) {
  // 1 Started | 2-4 WorkflowTask | 5 MarkerRecorded Version change-1 | 6 TimerStarted 1
  // 7 TimerFired 1 | 8-9 live: the third call is answered from memory, no second marker
  HistoryBuilder b("patched_twice");
  b.Started().WorkflowTask().PatchMarker("change-1").TimerStarted("1", 1s).TimerFired("1");
  ExpectCommands(Live(b), {Done("new new new")});
}

// A history recorded before the patch reaches a worker with the new code only as a whole
// (a fresh worker replays it): a cached run's earlier tasks ran this code live, so their
// markers are in its history. Such histories are driven all at once only.
void ExpectReplayedCommands(const History& h, const std::vector<std::string>& want) {
  DriveResult got = DriveAll(Workflows(), h);
  ASSERT_TRUE(got.status.ok()) << got.status.ToString();
  EXPECT_EQ(got.commands, want);
}

TEST(RunDriverFeaturesTest, PatchedIsFalseWhenReplayingAHistoryWithoutTheMarker) {
  // 1 Started | 2-4 WorkflowTask | 5 TimerStarted 1 | 6 TimerFired 1 | 7-8 live: the
  // live call keeps the answer of the replayed one (and records nothing)
  HistoryBuilder b("patched_twice");
  b.Started().WorkflowTask().TimerStarted("1", 1s).TimerFired("1");
  ExpectReplayedCommands(Live(b), {Done("old old old")});
}

TEST(RunDriverFeaturesTest, PatchedHistoriesReplayWithTheReplayer) {
  for (bool with_marker : {true, false}) {
    SCOPED_TRACE(with_marker ? "with the marker" : "without the marker");
    // 1 Started | 2-4 WorkflowTask | [MarkerRecorded] | TimerStarted 1 | TimerFired 1
    // WorkflowTask | WorkflowExecutionCompleted
    HistoryBuilder b("patched_twice");
    b.Started().WorkflowTask();
    if (with_marker) b.PatchMarker("change-1");
    b.TimerStarted("1", 1s).TimerFired("1").WorkflowTask().Completed(
        {ToPayload(std::string(with_marker ? "new new new" : "old old old"))});
    ReplayResult r = ReplayHistory(b.Build(), Workflows());
    EXPECT_TRUE(r.ok()) << r.status.ToString();
  }
}

TEST(RunDriverFeaturesTest, PatchedMarkerOfAnotherChangeDoesNotCount) {
  // 1 Started | 2-4 WorkflowTask | 5 MarkerRecorded Version change-0 | 6 TimerStarted 1
  // The code checks change-1, not change-0: its marker is skipped, change-1 is not patched.
  HistoryBuilder b("patched_twice");
  b.Started().WorkflowTask().PatchMarker("change-0").TimerStarted("1", 1s).TimerFired("1");
  ExpectReplayedCommands(Live(b), {Done("old old old")});
}

// ---------------------------------------------------------------------------------------
// DeprecatePatch and removed patch checks

TEST(RunDriverFeaturesTest, DeprecatePatchRecordsADeprecatedMarkerLive) {
  HistoryBuilder b("deprecated_patch");
  b.Started();
  ExpectCommands(Live(b), {"RecordMarker Version(change-1, deprecated)", "StartTimer 1"});
}

TEST(RunDriverFeaturesTest, DeprecatePatchReplaysAHistoryWithThePatchedMarker) {
  // 1 Started | 2-4 WorkflowTask | 5 MarkerRecorded Version change-1 (by Patched)
  // 6 TimerStarted 1 | 7 TimerFired 1 | 8-9 live
  HistoryBuilder b("deprecated_patch");
  b.Started().WorkflowTask().PatchMarker("change-1").TimerStarted("1", 1s).TimerFired("1");
  ExpectCommands(Live(b), {Done("new")});
}

TEST(RunDriverFeaturesTest, DeprecatePatchReplaysAHistoryWithADeprecatedMarker) {
  // as above, with the marker DeprecatePatch records
  HistoryBuilder b("deprecated_patch");
  b.Started().WorkflowTask().PatchMarker("change-1", true).TimerStarted("1", 1s).TimerFired("1");
  ExpectCommands(Live(b), {Done("new")});
}

TEST(RunDriverFeaturesTest, DeprecatePatchReplaysAHistoryWithoutTheMarker) {
  // 1 Started | 2-4 WorkflowTask | 5 TimerStarted 1 | 6 TimerFired 1 | 7-8 live
  HistoryBuilder b("deprecated_patch");
  b.Started().WorkflowTask().TimerStarted("1", 1s).TimerFired("1");
  ExpectCommands(Live(b), {Done("new")});
}

TEST(RunDriverFeaturesTest, DeprecatePatchAloneInItsTaskReplaysWithoutTheMarker) {
  // 1 Started | 2-4 WorkflowTask (no command events) | 5 Signaled go | 6-7 live
  HistoryBuilder b("deprecated_patch_then_signal");
  b.Started().WorkflowTask().Signaled("go");
  ExpectCommands(Live(b), {Done("new")});
  // ... and a history that ends right after that task.
  HistoryBuilder ends("deprecated_patch_then_signal");
  ends.Started().WorkflowTask();
  EXPECT_TRUE(DriveAll(Workflows(), ends.Build()).status.ok());
  EXPECT_TRUE(DriveInBatches(Workflows(), ends.Build()).status.ok());
}

TEST(RunDriverFeaturesTest, RemovedPatchCheckStillReplaysAHistoryWithTheMarker) {
  Registry removed;
  removed.RegisterWorkflow("patched_twice", PatchRemoved);
  for (bool deprecated : {false, true}) {
    SCOPED_TRACE(deprecated ? "deprecated marker" : "marker");
    // 1 Started | 2-4 WorkflowTask | 5 MarkerRecorded Version change-1 | 6 TimerStarted 1
    // 7 TimerFired 1 | 8-9 live
    HistoryBuilder b("patched_twice");
    b.Started().WorkflowTask().PatchMarker("change-1", deprecated).TimerStarted("1", 1s).TimerFired(
        "1");
    ExpectLiveCommands(removed, Live(b), {Done("new")});
  }
  // The marker as the last command event of its task (after the timer).
  HistoryBuilder b("patched_twice");
  b.Started().WorkflowTask().TimerStarted("1", 1s).PatchMarker("change-1").TimerFired("1");
  ExpectLiveCommands(removed, Live(b), {Done("new")});
}

TEST(RunDriverFeaturesTest, RemovedPatchDoesNotExcuseOtherMissingMarkers) {
  // A SideEffect marker the code no longer produces is still a divergence.
  Registry removed;
  removed.RegisterWorkflow("patched_twice", PatchRemoved);
  HistoryBuilder b("patched_twice");
  b.Started().WorkflowTask().SideEffectMarker(1, ToPayload(7)).TimerStarted("1", 1s);
  DriveResult got = DriveAll(removed, Live(b));
  EXPECT_EQ(got.status.code(), StatusCode::kNondeterminism) << got.status.ToString();
  EXPECT_EQ(got.divergence_event_id, 5);
}

// ---------------------------------------------------------------------------------------
// ContinueAsNew

TEST(RunDriverFeaturesTest, ContinueAsNewIsTheLastCommandWithTheNewInput) {
  // 1 Started(1, "start") | 2-4 WorkflowTask | 5 TimerStarted 1 | 6 TimerFired 1 | 7-8 live
  HistoryBuilder b("count_up");
  b.Started({ToPayload(1), ToPayload(std::string("start"))})
      .WorkflowTask()
      .TimerStarted("1", 1s)
      .TimerFired("1");
  ExpectCommands(Live(b), {"ContinueAsNewWorkflowExecution 2 \"carried\""});

  CachedRun run(Workflows(), b.Build());
  ASSERT_TRUE(run.Advance(b.Build()).ok());
  ASSERT_EQ(run.raw_commands().size(), 1u);
  const auto& c = run.raw_commands()[0].continue_as_new_workflow_execution();
  // Default options: empty type and queue keep the run's own (the engine fills them in).
  EXPECT_EQ(c.workflow_type(), "");
  EXPECT_EQ(c.task_queue(), "");
  EXPECT_FALSE(c.has_workflow_run_timeout());
  EXPECT_FALSE(c.has_workflow_task_timeout());
  EXPECT_TRUE(run.driver().finished());
}

TEST(RunDriverFeaturesTest, ContinueAsNewCarriesItsOptions) {
  HistoryBuilder b("count_up_with_options");
  b.Started({ToPayload(1), ToPayload(std::string("start"))});
  History h = Live(b);
  CachedRun run(Workflows(), h);
  ASSERT_TRUE(run.Advance(h).ok());
  ASSERT_EQ(run.raw_commands().size(), 1u);
  ASSERT_TRUE(run.raw_commands()[0].has_continue_as_new_workflow_execution());
  const auto& c = run.raw_commands()[0].continue_as_new_workflow_execution();
  EXPECT_EQ(c.workflow_type(), "count_up");
  EXPECT_EQ(c.task_queue(), "other-queue");
  EXPECT_EQ(FromProtoDuration(c.workflow_run_timeout()), Duration(1h));
  EXPECT_EQ(FromProtoDuration(c.workflow_task_timeout()), Duration(5s));
  ASSERT_EQ(c.input().payloads_size(), 2);
  EXPECT_EQ(FromPayload<int>(FromProto(c.input().payloads(0))), 2);
  EXPECT_EQ(FromPayload<std::string>(FromProto(c.input().payloads(1))), "carried");
}

TEST(RunDriverFeaturesTest, ContinuedAsNewHistoryReplays) {
  // 1 Started(2, "carried") | 2-4 WorkflowTask | 5 TimerStarted 1 | 6 TimerFired 1
  // 7-9 WorkflowTask | 10 WorkflowExecutionContinuedAsNew(3, "carried")
  HistoryBuilder b("count_up");
  b.Started({ToPayload(2), ToPayload(std::string("carried"))})
      .WorkflowTask()
      .TimerStarted("1", 1s)
      .TimerFired("1")
      .WorkflowTask()
      .ContinuedAsNew("00000000-0000-4000-8000-000000000002",
                      {ToPayload(3), ToPayload(std::string("carried"))});
  ReplayResult r = ReplayHistory(b.Build(), Workflows());
  EXPECT_TRUE(r.ok()) << r.status.ToString();

  // The next run, started with the continued input, ends the chain.
  HistoryBuilder next("count_up", "wf-1", "00000000-0000-4000-8000-000000000002");
  next.Started({ToPayload(3), ToPayload(std::string("carried"))});
  ExpectCommands(Live(next), {Done("reached 3 carried")});
}

TEST(RunDriverFeaturesTest, CompletedWhereContinuedAsNewWasRecordedIsNondeterministic) {
  // The recorded run continued as new; the code (count 3) now completes in that task.
  HistoryBuilder b("count_up");
  b.Started({ToPayload(3), ToPayload(std::string("x"))})
      .WorkflowTask()
      .ContinuedAsNew("next", {ToPayload(4), ToPayload(std::string("carried"))});
  ReplayResult r = ReplayHistory(b.Build(), Workflows());
  EXPECT_EQ(r.status.code(), StatusCode::kNondeterminism) << r.status.ToString();
  EXPECT_EQ(r.event_id, 5);
  EXPECT_THAT(r.status.message(), HasSubstr("CompleteWorkflowExecution"));
}

// ---------------------------------------------------------------------------------------
// UpsertSearchAttributes

TEST(RunDriverFeaturesTest, UpsertSearchAttributesIssuesItsCommand) {
  HistoryBuilder b("upserts");
  b.Started();
  ExpectCommands(Live(b), {"UpsertWorkflowSearchAttributes count=1 stage=\"one\"", "StartTimer 1"});
}

TEST(RunDriverFeaturesTest, UpsertSearchAttributesReplays) {
  // 1 Started | 2-4 WorkflowTask | 5 UpsertWorkflowSearchAttributes | 6 TimerStarted 1
  // 7 TimerFired 1 | 8-9 live
  HistoryBuilder b("upserts");
  b.Started()
      .WorkflowTask()
      .UpsertSearchAttributes({{"stage", "one"}, {"count", 1}})
      .TimerStarted("1", 1s)
      .TimerFired("1");
  ExpectCommands(Live(b), {"UpsertWorkflowSearchAttributes stage=\"two\"", Done("upserted")});
}

TEST(RunDriverFeaturesTest, MissingUpsertIsNondeterministic) {
  // 1 Started | 2-4 WorkflowTask | 5 TimerStarted 1: no upsert recorded before it
  HistoryBuilder b("upserts");
  b.Started().WorkflowTask().TimerStarted("1", 1s).TimerFired("1");
  DriveResult got = DriveAll(Workflows(), Live(b));
  EXPECT_EQ(got.status.code(), StatusCode::kNondeterminism) << got.status.ToString();
  EXPECT_EQ(got.divergence_event_id, 5);
  EXPECT_THAT(got.status.message(), HasSubstr("UpsertWorkflowSearchAttributes"));
}

// ---------------------------------------------------------------------------------------
// Queries

// 1 Started | 2-4 WorkflowTask | 5 Signaled inc | 6 Signaled inc | 7-8 live
History TwoIncrements() {
  HistoryBuilder b("queryable");
  b.Started().WorkflowTask().Signaled("inc").Signaled("inc");
  return Live(b);
}

TEST(RunDriverFeaturesTest, QueryAnswersFromTheCurrentState) {
  for (bool batches : {false, true}) {
    SCOPED_TRACE(batches ? "a cached run" : "a fresh worker replaying");
    History h = TwoIncrements();
    internal::RunDriver driver(Workflows(), InfoOf(h));
    std::vector<v1::Command> commands;
    if (batches) {
      // Queried between tasks too: after the first task the count is 0.
      internal::RunDriver::Events first;
      for (int i = 0; i < 3; ++i) *first.Add() = h.event(i);
      ASSERT_TRUE(driver.Advance(first, &commands).ok());
      auto zero = driver.Query("count", {});
      ASSERT_TRUE(zero.ok()) << zero.status().ToString();
      EXPECT_EQ(FromPayload<int>(zero->at(0)), 0);
      internal::RunDriver::Events rest;
      for (int i = 3; i < h.size(); ++i) *rest.Add() = h.event(i);
      ASSERT_TRUE(driver.Advance(rest, &commands).ok());
    } else {
      ASSERT_TRUE(driver.Advance(h.proto().events(), &commands).ok());
    }
    auto count = driver.Query("count", {});
    ASSERT_TRUE(count.ok()) << count.status().ToString();
    ASSERT_EQ(count->size(), 1u);
    EXPECT_EQ(FromPayload<int>(count->at(0)), 2);
    auto greet = driver.Query("greet", {ToPayload(std::string("ann"))});
    ASSERT_TRUE(greet.ok()) << greet.status().ToString();
    EXPECT_EQ(FromPayload<std::string>(greet->at(0)), "hi ann #2");
  }
}

TEST(RunDriverFeaturesTest, QueryOfAnUnknownNameListsTheRegisteredOnes) {
  History h = TwoIncrements();
  CachedRun run(Workflows(), h);
  ASSERT_TRUE(run.Advance(h).ok());
  auto r = run.driver().Query("nope", {});
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(r.status().message(), HasSubstr("no query 'nope'"));
  EXPECT_THAT(r.status().message(),
              HasSubstr("count, greet, starts_activity, starts_timer, throws, waits_signal"));
}

TEST(RunDriverFeaturesTest, QueryBeforeAnyHandlerIsRegisteredSaysNone) {
  HistoryBuilder b("queryable");
  b.Started();
  History h = b.Build();  // no task has run: no handler yet
  CachedRun run(Workflows(), h);
  ASSERT_TRUE(run.Advance(h).ok());
  auto r = run.driver().Query("count", {});
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(r.status().message(), HasSubstr("registered: none"));
}

TEST(RunDriverFeaturesTest, QueryWithWrongArgumentsIsAnError) {
  History h = TwoIncrements();
  CachedRun run(Workflows(), h);
  ASSERT_TRUE(run.Advance(h).ok());
  auto r = run.driver().Query("greet", {});
  EXPECT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("takes 1 argument(s) but got 0"));
}

TEST(RunDriverFeaturesTest, ThrowingQueryHandlerIsAnErrorAndTheRunGoesOn) {
  History h = TwoIncrements();
  CachedRun run(Workflows(), h);
  ASSERT_TRUE(run.Advance(h).ok());
  auto r = run.driver().Query("throws", {});
  EXPECT_EQ(r.status().code(), StatusCode::kUnknown);
  EXPECT_THAT(r.status().message(), HasSubstr("query handler 'throws' threw"));
  EXPECT_THAT(r.status().message(), HasSubstr("query blew up"));
  EXPECT_FALSE(run.driver().broken());
  auto count = run.driver().Query("count", {});
  ASSERT_TRUE(count.ok());
  EXPECT_EQ(FromPayload<int>(count->at(0)), 2);
}

TEST(RunDriverFeaturesTest, QueryHandlerThatStartsAnOperationIsRejected) {
  for (const char* query : {"starts_timer", "starts_activity"}) {
    SCOPED_TRACE(query);
    History h = TwoIncrements();
    CachedRun run(Workflows(), h);
    ASSERT_TRUE(run.Advance(h).ok());
    auto r = run.driver().Query(query, {});
    EXPECT_EQ(r.status().code(), StatusCode::kFailedPrecondition);
    EXPECT_THAT(r.status().message(), HasSubstr(std::string("query handler '") + query +
                                                "' started an operation"));
  }
}

TEST(RunDriverFeaturesTest, RejectedQueryLeavesNoTraceInTheRun) {
  // After rejected queries that started a timer and an activity, the workflow's own
  // timer and activity get the ids a replay (which runs no query) gives them: "1".
  for (const char* query : {"starts_timer", "starts_activity"}) {
    SCOPED_TRACE(query);
    HistoryBuilder b("queryable");
    b.Started().WorkflowTask().Signaled("inc").Signaled("inc");
    History h = Live(b);
    CachedRun run(Workflows(), h);
    ASSERT_TRUE(run.Advance(h).ok());
    EXPECT_THAT(run.commands(), IsEmpty());
    EXPECT_EQ(run.driver().Query(query, {}).status().code(), StatusCode::kFailedPrecondition);
    // 9 WorkflowTaskCompleted (the live task had no commands) | 10 Signaled go | 11-12 live
    b.WorkflowTaskCompleted().Signaled("go");
    h = Live(b);
    // The rejected operation took no sequence number: live and replayed ids agree.
    ASSERT_TRUE(run.Advance(h).ok());
    EXPECT_THAT(run.commands(), ElementsAre("StartTimer 1"));
    // The same history replayed by a fresh worker:
    ExpectCommands(h, {"StartTimer 1"});
    // 13 WorkflowTaskCompleted | 14 TimerStarted 1 | 15 TimerFired 1 | 16-17 live
    b.WorkflowTaskCompleted().TimerStarted("1", 1s).TimerFired("1");
    h = Live(b);
    Status st = run.Advance(h);
    ASSERT_TRUE(st.ok()) << st.ToString();
    EXPECT_THAT(run.commands(), ElementsAre("ScheduleActivityTask work#1"));
  }
}

TEST(RunDriverFeaturesTest, QueryHandlerThatWaitsForASignalDoesNotTakeTheSignal) {
  // WaitSignal issues no command, but the handler's waiter must not take the next "end"
  // from the workflow (a replay, which runs no query, gives it to the workflow).
  HistoryBuilder b("queryable");
  b.Started().WorkflowTask().Signaled("go");
  History h = Live(b);
  CachedRun run(Workflows(), h);
  ASSERT_TRUE(run.Advance(h).ok());
  ASSERT_THAT(run.commands(), ElementsAre("StartTimer 1"));
  auto r = run.driver().Query("waits_signal", {});
  // A waiter left behind by the handler would swallow the workflow's next "end" signal.
  EXPECT_EQ(r.status().code(), StatusCode::kFailedPrecondition) << r.status().ToString();
  // 8 WorkflowTaskCompleted | 9 TimerStarted 1 | 10 TimerFired 1 | 11-13 WorkflowTask
  // 14 ActivityTaskScheduled work#1 | 15 ActivityTaskStarted | 16 ActivityTaskCompleted
  // 17 Signaled end | 18-19 live
  b.WorkflowTaskCompleted()
      .TimerStarted("1", 1s)
      .TimerFired("1")
      .WorkflowTask()
      .ActivityScheduled("work")
      .ActivityStarted("1")
      .ActivityCompleted("1")
      .Signaled("end");
  h = Live(b);
  ASSERT_TRUE(run.Advance(h).ok());
  EXPECT_THAT(run.commands(), ElementsAre(Done("0")));
  ExpectCommands(h, {Done("0")});
}

// ---------------------------------------------------------------------------------------
// Disconnected context

TEST(RunDriverFeaturesTest, DisconnectedOperationsIssueCommandsAfterACancelRequest) {
  // 1 Started | 2-4 WorkflowTask | 5 TimerStarted 1 | 6 WorkflowExecutionCancelRequested
  // 7-8 live: the sleep is cancelled (CancelTimer 1), the normal operations fail at once
  // without commands, the disconnected ones issue theirs.
  HistoryBuilder b("cleanup_after_cancel");
  b.Started().WorkflowTask().TimerStarted("1", 24h).CancelRequested();
  ExpectCommands(Live(b), {
                              "CancelTimer 1",
                              "ScheduleActivityTask cleanup#2",
                              "StartTimer 2",
                              "StartChildWorkflowExecution kid_type#kid",
                              "SignalExternalWorkflowExecution other:ping",
                              "RequestCancelExternalWorkflowExecution other",
                          });
  // 9 WorkflowTaskCompleted | 10 TimerCanceled 1 | 11 ActivityTaskScheduled cleanup#2
  // 12 TimerStarted 2 | 13 StartChildWorkflowExecutionInitiated | 14
  // SignalExternalWorkflowExecutionInitiated | 15 RequestCancelExternalWorkflowExecutionInitiated
  // 16 ActivityTaskStarted | 17 ActivityTaskCompleted "tidy" | 18-19 live
  b.WorkflowTaskCompleted()
      .TimerCanceled("1")
      .ActivityScheduled("cleanup", {}, "2")
      .TimerStarted("2", 1s)
      .ChildWorkflowInitiated("kid_type", "kid")
      .SignalExternalInitiated("other", "ping")
      .RequestCancelExternalInitiated("other")
      .ActivityStarted("2")
      .ActivityCompleted("2", Str("tidy"));
  ExpectCommands(Live(b), {Done("normal: activity failed, timer failed, child failed, signal "
                                "failed, cancel failed, wait failed, until failed; "
                                "disconnected: activity pending, timer pending, child pending, "
                                "signal pending, cancel pending, wait pending; cleanup tidy")});
}

// ---------------------------------------------------------------------------------------
// Child workflows and requests to other workflows

TEST(RunDriverFeaturesTest, ChildWorkflowDefaultIdsAreDeterministic) {
  HistoryBuilder b("four_children", "parent-7", "abcdef12-0000-4000-8000-000000000009");
  b.Started();
  History h = Live(b);
  ExpectLiveCommands(Workflows(), h,
                     {"StartChildWorkflowExecution square#parent-7/abcdef12/square-1",
                      "StartChildWorkflowExecution square#parent-7/abcdef12/square-2",
                      "StartChildWorkflowExecution cube#named",
                      "StartChildWorkflowExecution cube#parent-7/abcdef12/cube-4"});
  // The same ids on replay.
  b.WorkflowTaskCompleted()
      .ChildWorkflowInitiated("square", "parent-7/abcdef12/square-1", {ToPayload(2)})
      .ChildWorkflowInitiated("square", "parent-7/abcdef12/square-2", {ToPayload(3)})
      .ChildWorkflowInitiated("cube", "named", {ToPayload(2)})
      .ChildWorkflowInitiated("cube", "parent-7/abcdef12/cube-4", {ToPayload(2)})
      .Signaled("end");
  ExpectCommands(Live(b), {Done("started")});
  // Another run of the same workflow id gets other ids.
  HistoryBuilder other("four_children", "parent-7", "12345678-0000-4000-8000-000000000009");
  other.Started();
  DriveResult got = DriveAll(Workflows(), Live(other));
  ASSERT_TRUE(got.status.ok());
  EXPECT_EQ(got.commands.at(0), "StartChildWorkflowExecution square#parent-7/12345678/square-1");
}

// The history of "family" (ChildThenSignal). Event ids:
//   1 Started | 2-4 WorkflowTask | 5 StartChildWorkflowExecutionInitiated square
//   6 ChildWorkflowExecutionStarted | 7-9 WorkflowTask (nothing new)
//   10 ChildWorkflowExecutionCompleted 36 | 11-13 WorkflowTask
//   14 SignalExternalWorkflowExecutionInitiated listener news | 15 ExternalWorkflowExecutionSignaled
//   16-18 WorkflowTask | 19 WorkflowExecutionCompleted "sent 36"
History FamilyHistory() {
  HistoryBuilder b("family");
  const std::string kid = "wf-1/00000000/square-1";
  b.Started()
      .WorkflowTask()
      .ChildWorkflowInitiated("square", kid, {ToPayload(6)})
      .ChildWorkflowStarted(kid, "kid-run")
      .WorkflowTask()
      .ChildWorkflowCompleted(kid, {ToPayload(36)})
      .WorkflowTask()
      .SignalExternalInitiated("listener", "news", {ToPayload(36)})
      .ExternalSignaled("listener")
      .WorkflowTask()
      .Completed({ToPayload(std::string("sent 36"))});
  return b.Build();
}

TEST(RunDriverFeaturesTest, ChildAndSignalHistoryReplays) {
  ReplayResult r = ReplayHistory(FamilyHistory(), Workflows());
  EXPECT_TRUE(r.ok()) << r.status.ToString();
  EXPECT_TRUE(DriveInBatches(Workflows(), FamilyHistory()).status.ok());
}

TEST(RunDriverFeaturesTest, ChangedChildTypeIsNondeterministicAtItsEvent) {
  Registry changed;
  changed.RegisterWorkflow("family", ChildThenSignalOtherType);
  ReplayResult r = ReplayHistory(FamilyHistory(), changed);
  EXPECT_EQ(r.status.code(), StatusCode::kNondeterminism) << r.status.ToString();
  EXPECT_EQ(r.event_id, 5);
  EXPECT_THAT(r.status.message(),
              HasSubstr("history event 5 is StartChildWorkflowExecutionInitiated(type 'square', "
                        "id 'wf-1/00000000/square-1') but the workflow code now produces "
                        "StartChildWorkflowExecution(type 'cube', id 'wf-1/00000000/cube-1')"));
  EXPECT_THAT(r.status.message(), HasSubstr("ctx.Patched()"));
}

TEST(RunDriverFeaturesTest, ChangedExternalSignalIsNondeterministicAtItsEvent) {
  Registry changed;
  changed.RegisterWorkflow("family", ChildThenSignalOtherSignal);
  ReplayResult r = ReplayHistory(FamilyHistory(), changed);
  EXPECT_EQ(r.status.code(), StatusCode::kNondeterminism) << r.status.ToString();
  EXPECT_EQ(r.event_id, 14);
  EXPECT_THAT(r.status.message(),
              HasSubstr("now produces SignalExternalWorkflowExecution(workflow 'listener', "
                        "signal 'gossip')"));
}

TEST(RunDriverFeaturesTest, ChildEventForAnUnknownChildIsNondeterministic) {
  // The child's start names an initiated event that is not a child of this run.
  History h = FamilyHistory();
  h.mutable_proto().mutable_events(5)->mutable_child_workflow_execution_started()->set_initiated_event_id(
      4);
  ReplayResult r = ReplayHistory(h, Workflows());
  EXPECT_EQ(r.status.code(), StatusCode::kNondeterminism) << r.status.ToString();
  EXPECT_EQ(r.event_id, 6);
  EXPECT_THAT(r.status.message(), HasSubstr("is for a child workflow the code did not start"));
}

}  // namespace
}  // namespace keel::runtime_test
