// internal::RunDriver (engine/runtime/run_driver.cc) against canned histories: batches and
// the scheduler's resume order, command matching and non-determinism, failed workflow
// tasks, failures and the driver's error contract. Deterministic values, signals and
// WaitUntil, cancellation and combinators have their own run_driver_*_test.cc files.
//
// Histories are written with HistoryBuilder and list their events in a comment; one
// that ends with a WorkflowTaskStarted runs its last task live, and the test checks that
// task's commands (rendered by Describe in driver_harness.h), both with all events fed at
// once and batch by batch.
#include "engine/runtime/run_driver.h"

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
using ::testing::IsEmpty;

// ---------------------------------------------------------------------------------------
// Workflows. They take arguments by value; what they observe comes back as their result.

// Sleeps, then reports whether signal "s" is already visible, then sleeps again.
Task<std::string> TimerThenPeek(WorkflowContext& ctx) {
  co_await ctx.Sleep(1min);
  const bool seen = ctx.WaitSignal("s").IsReady();
  co_await ctx.Sleep(1min);
  co_return seen ? "signal visible" : "signal not visible";
}

// Awaits activity "a" and reports whether "b" had finished by then.
Task<std::string> TwoActivities(WorkflowContext& ctx) {
  auto a = ctx.ExecuteActivity<std::string>("a", Opts());
  auto b = ctx.ExecuteActivity<std::string>("b", Opts());
  std::string out = "a=" + co_await a;
  out += b.IsReady() ? " b ready" : " b pending";
  out += " b=" + co_await b;
  co_return out;
}

// Logs the signal handler and the coroutine in the order the scheduler runs them.
Task<std::string> ResumeOrder(WorkflowContext& ctx) {
  std::string log;
  ctx.OnSignal<std::string>("note", [&log](std::string s) { log += "signal " + s + "; "; });
  std::string a = co_await ctx.ExecuteActivity<std::string>("work", Opts());
  log += "activity " + a + "; ";
  co_await ctx.WaitUntil([&log] { return log.find("signal") != std::string::npos; });
  co_return log;
}

// Three commands in one task: activity a, a timer, activity b.
Task<std::string> ThreeCommands(WorkflowContext& ctx) {
  auto a = ctx.ExecuteActivity<std::string>("a", Opts());
  auto t = ctx.Sleep(1min);
  auto b = ctx.ExecuteActivity<std::string>("b", Opts());
  co_await WhenAll(a, t, b);
  co_return "done";
}

// "pay", version 1 (the one the canned history records) and changed versions.
Task<std::string> PayV1(WorkflowContext& ctx) {
  co_return co_await ctx.ExecuteActivity<std::string>("charge", Opts());
}
Task<std::string> PayRenamedActivity(WorkflowContext& ctx) {
  co_return co_await ctx.ExecuteActivity<std::string>("refund", Opts());
}
Task<std::string> PayTimerInstead(WorkflowContext& ctx) {
  co_await ctx.Sleep(1h);
  co_return "slept";
}
Task<std::string> PayWaitsForSignal(WorkflowContext& ctx) {
  co_return co_await ctx.WaitSignal<std::string>("never");
}
Task<std::string> PayWithAudit(WorkflowContext& ctx) {
  auto charge = ctx.ExecuteActivity<std::string>("charge", Opts());
  auto audit = ctx.ExecuteActivity<std::string>("audit", Opts());
  co_return co_await charge;
}

// Picks an activity by whether signal "s" was there when the code first ran.
Task<std::string> SignalDecides(WorkflowContext& ctx) {
  const bool seen = ctx.WaitSignal("s").IsReady();
  co_return co_await ctx.ExecuteActivity<std::string>(seen ? "with_signal" : "without_signal",
                                                      Opts());
}

Task<std::string> ThrowsApplicationError(WorkflowContext& ctx) {
  throw ApplicationError("OutOfStock", "no more widgets");
  co_return "unreachable";
}

Task<std::string> ThrowsRuntimeError(WorkflowContext& ctx) {
  throw std::runtime_error("index out of range");
  co_return "unreachable";
}

Task<int> TakesInt(WorkflowContext& ctx, int n) { co_return n + 1; }

const Registry& Workflows() {
  static const Registry* r = [] {
    auto* r = new Registry;
    r->RegisterWorkflow("timer_then_peek", TimerThenPeek)
        .RegisterWorkflow("two_activities", TwoActivities)
        .RegisterWorkflow("resume_order", ResumeOrder)
        .RegisterWorkflow("three_commands", ThreeCommands)
        .RegisterWorkflow("pay", PayV1)
        .RegisterWorkflow("signal_decides", SignalDecides)
        .RegisterWorkflow("throws_application_error", ThrowsApplicationError)
        .RegisterWorkflow("throws_runtime_error", ThrowsRuntimeError)
        .RegisterWorkflow("takes_int", TakesInt);
    return r;
  }();
  return *r;
}

// Drives `h` both ways and expects the same commands of the live task.
void ExpectCommands(const History& h, const std::vector<std::string>& want) {
  ExpectLiveCommands(Workflows(), h, want);
}

// ---------------------------------------------------------------------------------------
// Batches

TEST(RunDriverTest, EventsUpToWorkflowTaskStartedAreAppliedBeforeTheCodeRuns) {
  // 1 Started | 2-4 WorkflowTask | 5 TimerStarted 1 | 6 TimerFired 1 | 7 Signaled s
  // 8 WorkflowTaskScheduled | 9 WorkflowTaskStarted (live)
  HistoryBuilder b("timer_then_peek");
  b.Started().WorkflowTask().TimerStarted("1", 1min).TimerFired("1").Signaled("s");
  ExpectCommands(Live(b), {"StartTimer 2"});
  // 10 WorkflowTaskCompleted | 11 TimerStarted 2 | 12 TimerFired 2 | 13-14 live
  b.WorkflowTaskCompleted().TimerStarted("2", 1min).TimerFired("2");
  ExpectCommands(Live(b), {Done("signal visible")});
  // 1 Started | 2-4 WorkflowTask | 5 TimerStarted 1 | 6 TimerFired 1
  // 7 WorkflowTaskScheduled | 8 Signaled s | 9 WorkflowTaskStarted (live)
  HistoryBuilder c("timer_then_peek");
  c.Started().WorkflowTask().TimerStarted("1", 1min).TimerFired("1").WorkflowTaskScheduled();
  c.Signaled("s").WorkflowTaskStarted();
  ExpectCommands(c.Build(), {"StartTimer 2"});
  // 10 WorkflowTaskCompleted | 11 TimerStarted 2 | 12 TimerFired 2 | 13-14 live
  c.WorkflowTaskCompleted().TimerStarted("2", 1min).TimerFired("2");
  ExpectCommands(Live(c), {Done("signal visible")});
}

TEST(RunDriverTest, ReplayedTaskSeesOnlyTheEventsOfItsOwnBatch) {
  // 1 Started | 2-4 WorkflowTask | 5 TimerStarted 1 | 6 TimerFired 1
  // 7-9 WorkflowTask (the peek ran here) | 10 TimerStarted 2 | 11 Signaled s
  // 12 TimerFired 2 | 13-14 live
  HistoryBuilder b("timer_then_peek");
  b.Started().WorkflowTask().TimerStarted("1", 1min).TimerFired("1").WorkflowTask();
  b.TimerStarted("2", 1min).Signaled("s").TimerFired("2");
  ExpectCommands(Live(b), {Done("signal not visible")});
}

TEST(RunDriverTest, TwoCompletionsInOneBatchAreBothVisibleWhenTheCodeResumes) {
  // 1 Started | 2-4 WorkflowTask | 5 Scheduled a | 6 Scheduled b
  // 7 Completed a | 8 Completed b | 9-10 live
  HistoryBuilder same("two_activities");
  same.Started().WorkflowTask().ActivityScheduled("a").ActivityScheduled("b");
  same.ActivityCompleted("1", Str("1")).ActivityCompleted("2", Str("2"));
  ExpectCommands(Live(same), {Done("a=1 b ready b=2")});

  // b's completion first: the same.
  HistoryBuilder reversed("two_activities");
  reversed.Started().WorkflowTask().ActivityScheduled("a").ActivityScheduled("b");
  reversed.ActivityCompleted("2", Str("2")).ActivityCompleted("1", Str("1"));
  ExpectCommands(Live(reversed), {Done("a=1 b ready b=2")});

  // 7 Completed a | 8-10 WorkflowTask | 11 Completed b | 12-13 live
  HistoryBuilder apart("two_activities");
  apart.Started().WorkflowTask().ActivityScheduled("a").ActivityScheduled("b");
  apart.ActivityCompleted("1", Str("1")).WorkflowTask().ActivityCompleted("2", Str("2"));
  ExpectCommands(Live(apart), {Done("a=1 b pending b=2")});
}

TEST(RunDriverTest, HandlersRunAsEventsApplyAndCoroutinesAfterwards) {
  // scheduler.h: a signal handler runs as its event is applied (step 1); the coroutine
  // waiting on the activity resumes after all events (step 2).
  // 1 Started | 2-4 WorkflowTask | 5 Scheduled work | 6 Completed work | 7 Signaled note
  HistoryBuilder b("resume_order");
  b.Started().WorkflowTask().ActivityScheduled("work").ActivityCompleted("1", Str("v"));
  b.Signaled("note", Str("n"));
  ExpectCommands(Live(b), {Done("signal n; activity v; ")});
  // 6 Signaled note | 7 Completed work
  HistoryBuilder c("resume_order");
  c.Started().WorkflowTask().ActivityScheduled("work").Signaled("note", Str("n"));
  c.ActivityCompleted("1", Str("v"));
  ExpectCommands(Live(c), {Done("signal n; activity v; ")});
}

// ---------------------------------------------------------------------------------------
// Command matching and non-determinism

TEST(RunDriverTest, FirstTaskReturnsCommandsInTheOrderTheCodeIssuedThem) {
  HistoryBuilder b("three_commands");
  b.Started();
  ExpectCommands(Live(b), {"ScheduleActivityTask a#1", "StartTimer 1", "ScheduleActivityTask b#2"});
}

TEST(RunDriverTest, RecordedCommandsMatchInOrder) {
  // 1 Started | 2-4 WorkflowTask | 5 Scheduled a | 6 TimerStarted 1 | 7 Scheduled b
  // 8 Completed a | 9 TimerFired 1 | 10 Completed b | 11-13 WorkflowTask | 14 Completed
  HistoryBuilder b("three_commands");
  b.Started().WorkflowTask().ActivityScheduled("a").TimerStarted("1", 1min).ActivityScheduled("b");
  b.ActivityCompleted("1", Str("x")).TimerFired("1").ActivityCompleted("2", Str("y"));
  b.WorkflowTask().Completed(Str("done"));
  ReplayResult r = ReplayHistory(b.Build(), Workflows());
  EXPECT_TRUE(r.ok()) << r.status.ToString();
  EXPECT_EQ(r.event_id, 0);
}

TEST(RunDriverTest, RecordedCommandsInAnotherOrderAreNondeterministic) {
  // 1 Started | 2-4 WorkflowTask | 5 TimerStarted 1 | 6 Scheduled a | 7 Scheduled b
  HistoryBuilder b("three_commands");
  b.Started().WorkflowTask().TimerStarted("1", 1min).ActivityScheduled("a").ActivityScheduled("b");
  ReplayResult r = ReplayHistory(b.Build(), Workflows());
  EXPECT_EQ(r.status.code(), StatusCode::kNondeterminism) << r.status.ToString();
  EXPECT_EQ(r.event_id, 5);
  EXPECT_THAT(r.status.message(), HasSubstr("history event 5 is TimerStarted(id '1')"));
  EXPECT_THAT(r.status.message(), HasSubstr("now produces ScheduleActivityTask(type 'a', id '1')"));
}

// The "pay" history (PayV1): 1 Started | 2-4 WorkflowTask | 5 Scheduled charge
// 6 ActivityStarted | 7 Completed "ok" | 8-10 WorkflowTask | 11 WorkflowExecutionCompleted
History PayHistory() {
  HistoryBuilder b("pay", "pay-7");
  b.Started().WorkflowTask().ActivityScheduled("charge").ActivityStarted("1");
  b.ActivityCompleted("1", Str("ok")).WorkflowTask().Completed(Str("ok"));
  return b.Build();
}

ReplayResult ReplayPayWith(Task<std::string> (*fn)(WorkflowContext&)) {
  Registry r;
  r.RegisterWorkflow("pay", fn);
  return ReplayHistory(PayHistory(), r);
}

TEST(RunDriverTest, TheRecordingCodeReplaysItsHistory) {
  ReplayResult r = ReplayPayWith(PayV1);
  EXPECT_TRUE(r.ok()) << r.status.ToString();
}

TEST(RunDriverTest, ChangedActivityTypeIsNondeterministicAtItsEvent) {
  ReplayResult r = ReplayPayWith(PayRenamedActivity);
  EXPECT_EQ(r.status.code(), StatusCode::kNondeterminism) << r.status.ToString();
  EXPECT_EQ(r.event_id, 5);
  const std::string& m = r.status.message();
  EXPECT_THAT(m, HasSubstr("history event 5 is ActivityTaskScheduled(type 'charge', id '1')"));
  EXPECT_THAT(m, HasSubstr("now produces ScheduleActivityTask(type 'refund', id '1')"));
  EXPECT_THAT(m, HasSubstr("pay-7"));  // the workflow id, and a remedy
  EXPECT_THAT(m, HasSubstr("deploy the code that recorded this history"));
}

TEST(RunDriverTest, TimerWhereAnActivityWasRecordedIsNondeterministic) {
  ReplayResult r = ReplayPayWith(PayTimerInstead);
  EXPECT_EQ(r.status.code(), StatusCode::kNondeterminism) << r.status.ToString();
  EXPECT_EQ(r.event_id, 5);
  EXPECT_THAT(r.status.message(), HasSubstr("ActivityTaskScheduled(type 'charge', id '1')"));
  EXPECT_THAT(r.status.message(), HasSubstr("now produces StartTimer(id '1')"));
}

TEST(RunDriverTest, MissingCommandIsNondeterministicAtTheUnmatchedEvent) {
  ReplayResult r = ReplayPayWith(PayWaitsForSignal);
  EXPECT_EQ(r.status.code(), StatusCode::kNondeterminism) << r.status.ToString();
  EXPECT_EQ(r.event_id, 5);
  EXPECT_THAT(r.status.message(),
              HasSubstr("history event 5 is ActivityTaskScheduled(type 'charge', id '1') but "
                        "the workflow code did not produce that command"));
}

TEST(RunDriverTest, ExtraCommandIsNondeterministicAtTheFirstEventAfterTheRecordedOnes) {
  ReplayResult r = ReplayPayWith(PayWithAudit);
  EXPECT_EQ(r.status.code(), StatusCode::kNondeterminism) << r.status.ToString();
  EXPECT_EQ(r.event_id, 6);
  EXPECT_THAT(r.status.message(),
              HasSubstr("history event 6 is not a command (ActivityTaskStarted)"));
  EXPECT_THAT(r.status.message(),
              HasSubstr("now produces ScheduleActivityTask(type 'audit', id '2')"));
}

TEST(RunDriverTest, ExtraCommandAtTheEndOfTheHistoryIsNondeterministic) {
  // A running workflow's export: 1 Started | 2-4 WorkflowTask | 5 Scheduled charge
  HistoryBuilder b("pay", "pay-7");
  b.Started().WorkflowTask().ActivityScheduled("charge");
  Registry r;
  r.RegisterWorkflow("pay", PayWithAudit);
  ReplayResult res = ReplayHistory(b.Build(), r);
  EXPECT_EQ(res.status.code(), StatusCode::kNondeterminism) << res.status.ToString();
  EXPECT_EQ(res.event_id, 5);
  EXPECT_THAT(res.status.message(), HasSubstr("the history ends but the workflow code produced "
                                              "ScheduleActivityTask(type 'audit', id '2')"));
  // The recording code replays the same export.
  EXPECT_TRUE(ReplayHistory(b.Build(), Workflows()).ok());
}

TEST(RunDriverTest, FailedWorkflowTaskIsSkipped) {
  // 1 Started | 2 WorkflowTaskScheduled | 3 WorkflowTaskStarted | 4 WorkflowTaskFailed
  // 5 Signaled s | 6 WorkflowTaskScheduled | 7 WorkflowTaskStarted | 8 WorkflowTaskCompleted
  // 9 Scheduled with_signal | 10 Completed | 11-12 live
  // Had the code run at event 3, it would not have seen the signal and scheduled
  // "without_signal".
  HistoryBuilder b("signal_decides");
  b.Started().WorkflowTaskScheduled().WorkflowTaskStarted().WorkflowTaskFailed("bug");
  b.Signaled("s").WorkflowTask().ActivityScheduled("with_signal").ActivityCompleted("1", Str("ok"));
  ExpectCommands(Live(b), {Done("ok")});

  // The same with a WorkflowTaskTimedOut (event 4).
  History timed_out = Live(b);
  timed_out.mutable_proto().mutable_events(3)->mutable_workflow_task_timed_out();
  ExpectCommands(timed_out, {Done("ok")});
}

// ---------------------------------------------------------------------------------------
// Failures

TEST(RunDriverTest, ApplicationErrorFailsTheWorkflow) {
  HistoryBuilder b("throws_application_error");
  b.Started();
  ExpectCommands(Live(b), {"FailWorkflowExecution OutOfStock: no more widgets"});
}

TEST(RunDriverTest, OtherExceptionsFailTheTaskNotTheWorkflow) {
  HistoryBuilder b("throws_runtime_error");
  b.Started();
  History h = Live(b);
  internal::RunDriver driver(Workflows(), InfoOf(h));
  std::vector<v1::Command> commands;
  Status st = driver.Advance(h.proto().events(), &commands);
  EXPECT_EQ(st.code(), StatusCode::kInternal) << st.ToString();
  EXPECT_THAT(st.message(), HasSubstr("std::runtime_error: index out of range"));
  EXPECT_THAT(commands, IsEmpty());
  EXPECT_TRUE(driver.broken());
  // Unusable afterwards.
  st = driver.Advance(internal::RunDriver::Events(), &commands);
  EXPECT_EQ(st.code(), StatusCode::kInternal);
}

TEST(RunDriverTest, UnknownWorkflowTypeIsInvalidArgument) {
  HistoryBuilder b("no_such_workflow");
  b.Started();
  History h = Live(b);
  internal::RunDriver driver(Workflows(), InfoOf(h));
  std::vector<v1::Command> commands;
  Status st = driver.Advance(h.proto().events(), &commands);
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument) << st.ToString();
  EXPECT_THAT(st.message(), HasSubstr("'no_such_workflow' is not registered"));
  EXPECT_THAT(st.message(), HasSubstr("timer_then_peek"));  // lists the registered types
  EXPECT_TRUE(driver.unknown_workflow_type());
}

// run_driver.h: Advance's errors are "kInvalidArgument (unknown workflow type,
// undecodable input)".
TEST(RunDriverTest, UndecodableInputIsInvalidArgument) {
  HistoryBuilder wrong_type("takes_int");
  wrong_type.Started(Str("not a number"));
  DriveResult got = DriveAll(Workflows(), Live(wrong_type));
  EXPECT_EQ(got.status.code(), StatusCode::kInvalidArgument) << got.status.ToString();

  HistoryBuilder wrong_count("takes_int");
  wrong_count.Started({ToPayload(1), ToPayload(2)});
  got = DriveAll(Workflows(), Live(wrong_count));
  EXPECT_EQ(got.status.code(), StatusCode::kInvalidArgument) << got.status.ToString();
  EXPECT_THAT(got.status.message(), HasSubstr("takes 1 argument(s) but was given 2"));
}

TEST(RunDriverTest, DecodedInputReachesTheWorkflow) {
  HistoryBuilder b("takes_int");
  b.Started({ToPayload(41)});
  ExpectCommands(Live(b), {DoneJson("42")});
}

TEST(RunDriverTest, EventIdGapIsAnInternalError) {
  HistoryBuilder b("timer_then_peek");
  b.Started().WorkflowTask();
  History h = Live(b);
  h.mutable_proto().mutable_events(2)->set_event_id(9);
  internal::RunDriver driver(Workflows(), InfoOf(h));
  std::vector<v1::Command> commands;
  Status st = driver.Advance(h.proto().events(), &commands);
  EXPECT_EQ(st.code(), StatusCode::kInternal);
  EXPECT_THAT(st.message(), HasSubstr("history event 9 does not follow event 2"));
}

}  // namespace
}  // namespace keel::runtime_test
