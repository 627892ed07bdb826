// End-to-end behaviour of workflows on the embedded engine with a ManualClock.
#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <future>
#include <mutex>
#include <thread>

#include "engine/history/event_util.h"
#include "engine/testing/test_environment.h"
#include "engine/workflow.h"

namespace keel {
namespace {

using namespace std::chrono_literals;
using testing::TestEnvironment;

ActivityOptions Quick() {
  ActivityOptions o;
  o.start_to_close = 30s;
  return o;
}

// How many events of the run's history match `kind` (its history is read once, and kept
// alive while it is counted).
int CountEvents(TestEnvironment& env, const std::string& id, bool (v1::HistoryEvent::*kind)() const) {
  History h = env.client().GetHistory(id);
  int n = 0;
  for (const auto& e : h.proto().events()) n += (e.*kind)();
  return n;
}

Task<std::string> Greet(WorkflowContext& ctx, std::string name) {
  auto a = co_await ctx.ExecuteActivity<std::string>("upper", Quick(), name);
  auto b = co_await ctx.ExecuteActivity<std::string>("exclaim", Quick(), a);
  co_return "hello " + b;
}

TEST(WorkflowTest, RunsActivitiesInOrderAndReturnsResult) {
  Registry r;
  r.RegisterWorkflow("greet", Greet);
  r.RegisterActivity("upper", [](std::string s) {
    for (auto& c : s) c = static_cast<char>(toupper(c));
    return s;
  });
  r.RegisterActivity("exclaim", [](std::string s) { return s + "!"; });
  TestEnvironment env(r);
  env.client().StartWorkflow("greet", {.id = "g1"}, std::string("ann"));
  EXPECT_EQ(env.client().GetResult<std::string>("g1"), "hello ANN!");
  auto h = env.client().GetHistory("g1");
  std::cerr << h.Timeline();
  EXPECT_TRUE(h.event(h.size() - 1).has_workflow_execution_completed());
}

TEST(WorkflowTest, InlineWorkflowTasksCanBeTurnedOff) {
  Registry r;
  r.RegisterWorkflow("greet", Greet);
  r.RegisterActivity("upper", [](std::string s) { return s; });
  r.RegisterActivity("exclaim", [](std::string s) { return s + "!"; });
  for (bool inline_tasks : {true, false}) {
    SCOPED_TRACE(inline_tasks);
    testing::TestEnvironmentOptions o;
    o.worker.inline_workflow_tasks = inline_tasks;
    TestEnvironment env(r, o);
    env.client().StartWorkflow("greet", {.id = "g1"}, std::string("ann"));
    EXPECT_EQ(env.client().GetResult<std::string>("g1"), "hello ann!");
    env.worker().Stop();  // the last task is counted after its commit: wait for it
    // Three workflow tasks: the start's, and one per activity result. Off, all three
    // are run by the worker's own threads; on, at least the start's runs inline.
    auto stats = env.worker().stats();
    EXPECT_EQ(stats.workflow_tasks, 3u);
    if (inline_tasks) {
      EXPECT_GE(stats.inline_workflow_tasks, 1u);
    } else {
      EXPECT_EQ(stats.inline_workflow_tasks, 0u);
    }
  }
}

Task<std::string> Sleepy(WorkflowContext& ctx) {
  co_await ctx.Sleep(24h * 30);
  co_return "woke";
}

TEST(WorkflowTest, ThirtyDaySleepFiresOnceAcrossRestart) {
  Registry r;
  r.RegisterWorkflow("sleepy", Sleepy);
  TestEnvironment env(r);
  env.client().StartWorkflow("sleepy", {.id = "s1"});
  env.WaitForEvent("s1", [](const v1::HistoryEvent& e) { return e.has_timer_started(); });
  env.Restart();
  env.AdvanceTime(24h * 30);
  EXPECT_EQ(env.client().GetResult<std::string>("s1"), "woke");
  EXPECT_EQ(CountEvents(env, "s1", &v1::HistoryEvent::has_timer_fired), 1);
}

TEST(WorkflowTest, ListFiltersByStartTime) {
  Registry r;
  r.RegisterWorkflow("sleepy", Sleepy);
  TestEnvironment env(r);
  const Time t0 = env.clock().Now();
  env.client().StartWorkflow("sleepy", {.id = "early"});
  env.AdvanceTime(1h);
  env.client().StartWorkflow("sleepy", {.id = "late"});
  auto ids = [&](ListOptions o) {
    std::vector<std::string> out;
    for (const auto& w : env.client().ListWorkflows(o)) out.push_back(w.workflow_id);
    return out;
  };
  EXPECT_EQ(ids({.started_after = t0 + 30min}), std::vector<std::string>{"late"});
  EXPECT_EQ(ids({.started_before = t0 + 30min}), std::vector<std::string>{"early"});
  EXPECT_EQ(ids({.started_after = t0, .started_before = t0 + 2h}), (std::vector<std::string>{"late", "early"}));
  EXPECT_TRUE(ids({.started_after = t0 + 2h}).empty());
}

Task<std::string> SleepyThenWaits(WorkflowContext& ctx) {
  co_await ctx.Sleep(24h * 30);
  std::string done = co_await ctx.WaitSignal<std::string>("done");
  co_return "woke, then " + done;
}

// The timer fired before the second restart: reopening the file must not fire it again,
// however much time passes after.
TEST(WorkflowTest, ThirtyDaySleepFiresOnceAcrossRestartsBeforeAndAfterItFires) {
  Registry r;
  r.RegisterWorkflow("sleepy", SleepyThenWaits);
  TestEnvironment env(r);
  env.client().StartWorkflow("sleepy", {.id = "s2"});
  env.WaitForEvent("s2", [](const v1::HistoryEvent& e) { return e.has_timer_started(); });
  env.Restart();
  env.AdvanceTime(24h * 30);
  env.WaitForEvent("s2", [](const v1::HistoryEvent& e) { return e.has_timer_fired(); });
  env.Restart();
  env.AdvanceTime(24h * 60);
  env.client().SignalWorkflow("s2", "done", std::string("done"));
  EXPECT_EQ(env.client().GetResult<std::string>("s2"), "woke, then done");
  EXPECT_EQ(CountEvents(env, "s2", &v1::HistoryEvent::has_timer_fired), 1);
}

Task<std::string> WaitForGo(WorkflowContext& ctx) {
  auto r = co_await WhenAny(ctx.WaitSignal<std::string>("go"), ctx.Sleep(1h));
  co_return r.index() == 0 ? "signal " + std::get<0>(r) : std::string("timeout");
}

TEST(WorkflowTest, SignalBeatsTimerAndTimerIsCanceled) {
  Registry r;
  r.RegisterWorkflow("wait", WaitForGo);
  TestEnvironment env(r);
  env.client().StartWorkflow("wait", {.id = "w1"});
  env.WaitForEvent("w1", [](const v1::HistoryEvent& e) { return e.has_timer_started(); });
  env.client().SignalWorkflow("w1", "go", std::string("now"));
  EXPECT_EQ(env.client().GetResult<std::string>("w1"), "signal now");
  auto h = env.client().GetHistory("w1");
  std::cerr << h.Timeline();
  bool canceled = false;
  for (const auto& e : h.proto().events()) canceled |= e.has_timer_canceled();
  EXPECT_TRUE(canceled);
}

TEST(WorkflowTest, TimerBeatsSignal) {
  Registry r;
  r.RegisterWorkflow("wait", WaitForGo);
  TestEnvironment env(r);
  env.client().StartWorkflow("wait", {.id = "w2"});
  env.WaitForEvent("w2", [](const v1::HistoryEvent& e) { return e.has_timer_started(); });
  env.AdvanceTime(1h);
  EXPECT_EQ(env.client().GetResult<std::string>("w2"), "timeout");
  // The timer won: it fired once and nothing cancelled it; the losing signal wait is no
  // command, so there is nothing of it to cancel in the history.
  EXPECT_EQ(CountEvents(env, "w2", &v1::HistoryEvent::has_timer_fired), 1);
  EXPECT_EQ(CountEvents(env, "w2", &v1::HistoryEvent::has_timer_canceled), 0);
  EXPECT_EQ(CountEvents(env, "w2", &v1::HistoryEvent::has_workflow_execution_signaled), 0);
}

// ---- determinism and deploys ----

Task<std::string> OriginalCode(WorkflowContext& ctx) {
  co_await ctx.ExecuteActivity<std::string>("a", Quick());
  co_await ctx.Sleep(1h);
  co_return "done";
}

Task<std::string> ChangedCode(WorkflowContext& ctx) {
  co_await ctx.ExecuteActivity<std::string>("b", Quick());  // was "a"
  co_await ctx.Sleep(1h);
  co_return "done";
}

bool Is(const v1::HistoryEvent& e, std::string_view name) { return EventTypeName(e) == name; }

TEST(WorkflowTest, IncompatibleCodeChangeIsReportedAndTheOriginalCodeContinuesTheRun) {
  Registry original;
  original.RegisterWorkflow("job", OriginalCode);
  original.RegisterActivity("a", [] { return std::string("a"); });
  original.RegisterActivity("b", [] { return std::string("b"); });
  Registry changed;
  changed.RegisterWorkflow("job", ChangedCode);
  changed.RegisterActivity("a", [] { return std::string("a"); });
  changed.RegisterActivity("b", [] { return std::string("b"); });

  TestEnvironment env(original);
  env.client().StartWorkflow("job", {.id = "j1"});
  env.WaitForEvent("j1", [](const auto& e) { return e.has_timer_started(); });

  env.Deploy(changed);  // a new worker with an empty cache: it must replay
  env.client().SignalWorkflow("j1", "poke");  // makes a workflow task
  auto failed = env.WaitForEvent("j1", [](const auto& e) { return e.has_workflow_task_failed(); });
  EXPECT_EQ(failed.workflow_task_failed().cause(), v1::WORKFLOW_TASK_FAILED_CAUSE_NON_DETERMINISTIC_ERROR);
  const std::string& why = failed.workflow_task_failed().failure().message();
  EXPECT_NE(why.find("history event 5 is ActivityTaskScheduled(type 'a', id '1')"), std::string::npos) << why;
  EXPECT_NE(why.find("ScheduleActivityTask(type 'b', id '1')"), std::string::npos) << why;
  auto d = env.client().DescribeWorkflow("j1");
  EXPECT_EQ(d.status, WorkflowStatus::kRunning);
  ASSERT_TRUE(d.workflow_task.has_value());
  EXPECT_NE(d.workflow_task->last_failure.find("history event 5"), std::string::npos);

  env.Deploy(original);   // roll back
  env.AdvanceTime(1s);    // the task's retry backoff
  env.WaitForEvent("j1", [](const auto& e) { return Is(e, "WorkflowTaskCompleted") && e.event_id() > 10; });
  env.AdvanceTime(1h);
  EXPECT_EQ(env.client().GetResult<std::string>("j1"), "done");
}

Task<std::string> Buggy(WorkflowContext& ctx) {
  co_await ctx.Sleep(1s);
  throw std::runtime_error("null pointer, sort of");
}

TEST(WorkflowTest, BugInWorkflowCodeFailsTheTaskNotTheWorkflow) {
  Registry r;
  r.RegisterWorkflow("buggy", Buggy);
  TestEnvironment env(r);
  env.client().StartWorkflow("buggy", {.id = "b1"});
  env.WaitForEvent("b1", [](const auto& e) { return e.has_timer_started(); });
  env.AdvanceTime(1s);
  auto failed = env.WaitForEvent("b1", [](const auto& e) { return e.has_workflow_task_failed(); });
  EXPECT_NE(failed.workflow_task_failed().failure().message().find("null pointer, sort of"), std::string::npos);
  EXPECT_EQ(env.client().DescribeWorkflow("b1").status, WorkflowStatus::kRunning);
}

// ---- activities: failures, retries, heartbeats ----

Task<std::string> Saga(WorkflowContext& ctx) {
  co_await ctx.ExecuteActivity<void>("reserve", Quick());
  std::optional<ActivityFailure> failed;  // C++ forbids co_await inside a catch block
  try {
    co_await ctx.ExecuteActivity<void>("charge", Quick());
  } catch (const ActivityFailure& f) {
    failed = f;
  }
  if (failed) {
    co_await ctx.ExecuteActivity<void>("release", Quick());
    co_return "compensated after " + failed->ErrorType();
  }
  co_return "charged";
}

TEST(WorkflowTest, NonRetryableActivityFailureIsCaughtAndCompensated) {
  Registry r;
  std::atomic<int> charges{0}, releases{0};
  r.RegisterWorkflow("saga", Saga);
  r.RegisterActivity("reserve", [] {});
  r.RegisterActivity("charge", [&] {
    ++charges;
    throw ApplicationError("CardDeclined", "insufficient funds", {.non_retryable = true});
  });
  r.RegisterActivity("release", [&] { ++releases; });
  TestEnvironment env(r);
  env.client().StartWorkflow("saga", {.id = "s1"});
  EXPECT_EQ(env.client().GetResult<std::string>("s1"), "compensated after CardDeclined");
  EXPECT_EQ(charges, 1);
  EXPECT_EQ(releases, 1);
}

Task<std::string> LargeResult(WorkflowContext& ctx) {
  ActivityOptions o = Quick();
  o.retry.maximum_attempts = 2;
  std::optional<ActivityFailure> failed;
  try {
    co_await ctx.ExecuteActivity<std::string>("large", o);
  } catch (const ActivityFailure& f) {
    failed = f;
  }
  if (!failed) co_return "no failure";
  co_return failed->ErrorType() + ": " + failed->what();
}

// The engine refuses a result over its payload limit (2 MiB). The attempt then fails at
// once, and for good: it would be refused again, and running it again at its timeout
// would repeat its side effects.
TEST(WorkflowTest, AnActivityResultOverThePayloadLimitFailsTheActivityAtOnce) {
  Registry r;
  std::atomic<int> runs{0};
  r.RegisterWorkflow("large", LargeResult);
  r.RegisterActivity("large", [&] {
    ++runs;
    return std::string(3 * 1024 * 1024, 'x');
  });
  TestEnvironment env(r);
  env.client().StartWorkflow("large", {.id = "l1"});
  auto answer = std::async(std::launch::async, [&] { return env.client().GetResult<std::string>("l1"); });
  // A guard, not a measurement: a refused result left alone would wait for the attempt's
  // timeout, which the ManualClock never reaches. (Shutting down ends the wait.)
  if (answer.wait_for(60s) != std::future_status::ready) {
    env.engine().BeginShutdown();
    FAIL() << "the activity did not fail at once";
  }
  const std::string result = answer.get();
  EXPECT_EQ(result.rfind(std::string(kActivityResultRefused) + ": ", 0), 0u) << result;
  EXPECT_NE(result.find("the activity's result was refused"), std::string::npos) << result;
  EXPECT_EQ(runs, 1);
  EXPECT_EQ(CountEvents(env, "l1", &v1::HistoryEvent::has_activity_task_failed), 1);
  EXPECT_EQ(CountEvents(env, "l1", &v1::HistoryEvent::has_activity_task_timed_out), 0);
}

Task<std::string> FailingWorkflow(WorkflowContext& ctx) {
  co_await ctx.ExecuteActivity<void>("charge", Quick());
  co_return "unreachable";
}

TEST(WorkflowTest, UncaughtActivityFailureFailsTheWorkflowWithItsCause) {
  Registry r;
  r.RegisterWorkflow("w", FailingWorkflow);
  r.RegisterActivity("charge", [] {
    throw ApplicationError("CardDeclinedFraud", "flagged", {.non_retryable = true});
  });
  TestEnvironment env(r);
  env.client().StartWorkflow("w", {.id = "f1"});
  try {
    env.client().GetResult<std::string>("f1");
    FAIL() << "expected WorkflowFailedError";
  } catch (const WorkflowFailedError& e) {
    EXPECT_EQ(e.Status(), "failed");
    auto* activity = dynamic_cast<const ActivityFailure*>(e.Cause());
    ASSERT_NE(activity, nullptr) << e.what();
    EXPECT_EQ(activity->ErrorType(), "CardDeclinedFraud");
    EXPECT_EQ(activity->GetRetryState(), RetryState::kNonRetryableFailure);
  }
}

// An exception's text may be any bytes (here a Latin-1 file name). The worker repairs it
// to UTF-8 before reporting, so the history stays readable, also from the file.
TEST(WorkflowTest, AFailureMessageThatIsNotUtf8IsRepairedAndTheHistoryStaysReadable) {
  Registry r;
  r.RegisterWorkflow("w", FailingWorkflow);
  r.RegisterActivity("charge", [] {
    throw ApplicationError("Io", "cannot open /tmp/caf\xe9.txt", {.non_retryable = true});
  });
  TestEnvironment env(r);
  env.client().StartWorkflow("w", {.id = "u1"});
  EXPECT_THROW(env.client().GetResult<std::string>("u1"), WorkflowFailedError);
  env.Restart();
  try {
    env.client().GetResult<std::string>("u1");
    FAIL() << "expected WorkflowFailedError";
  } catch (const WorkflowFailedError& e) {
    ASSERT_NE(e.Cause(), nullptr);
    ASSERT_NE(e.Cause()->Cause(), nullptr) << e.what();
    EXPECT_STREQ(e.Cause()->Cause()->what(), "cannot open /tmp/caf\xEF\xBF\xBD.txt");
  }
  EXPECT_NE(env.client().GetHistory("u1").ToJson().find("caf\uFFFD.txt"), std::string::npos);
}

// Waits until the activity failed and waits to retry as attempt `next_attempt`.
void WaitUntilBackingOff(TestEnvironment& env, const std::string& id, int next_attempt) {
  while (true) {
    auto d = env.client().DescribeWorkflow(id);
    if (!d.pending_activities.empty() && d.pending_activities[0].state == "backing off" &&
        d.pending_activities[0].attempt == next_attempt) {
      return;
    }
    std::this_thread::yield();
  }
}

Task<int> Flaky(WorkflowContext& ctx) {
  int attempt = co_await ctx.ExecuteActivity<int>("flaky", Quick());
  co_return attempt;
}

Task<int> Watched(WorkflowContext& ctx) {
  ActivityOptions o = Quick();
  o.heartbeat = 10s;
  co_return co_await ctx.ExecuteActivity<int>("watched", o);
}

// An attempt that stops heartbeating times out after the heartbeat timeout and is
// retried; the silent attempt learns it was cancelled and its late result is refused.
TEST(WorkflowTest, AnAttemptThatStopsHeartbeatingTimesOutAndIsRetried) {
  Registry r;
  r.RegisterWorkflow("watched", Watched);
  std::mutex mu;
  std::condition_variable cv;
  bool heartbeated = false, release = false;
  r.RegisterActivity("watched", [&](ActivityContext& ctx) {
    if (ctx.Attempt() == 1) {
      ctx.Heartbeat();
      std::unique_lock<std::mutex> lock(mu);
      heartbeated = true;  // recorded: the heartbeat timeout now runs from here
      cv.notify_all();
      cv.wait(lock, [&] { return release; });  // silent until the test lets it go
      return -1;
    }
    return ctx.Attempt();
  });
  TestEnvironment env(r);
  env.client().StartWorkflow("watched", {.id = "hb1"});
  {
    std::unique_lock<std::mutex> lock(mu);
    cv.wait(lock, [&] { return heartbeated; });
  }
  env.AdvanceTime(11s);
  WaitUntilBackingOff(env, "hb1", 2);
  auto d = env.client().DescribeWorkflow("hb1");
  EXPECT_NE(d.pending_activities[0].last_failure.find("heartbeat"), std::string::npos)
      << d.pending_activities[0].last_failure;
  {
    std::lock_guard<std::mutex> g(mu);
    release = true;
  }
  cv.notify_all();
  env.AdvanceTime(1s);
  EXPECT_EQ(env.client().GetResult<int>("hb1"), 2);
}

Task<std::string> Unattended(WorkflowContext& ctx) {
  ActivityOptions o = Quick();
  o.task_queue = "nobody-polls-this";
  o.schedule_to_start = 5s;
  std::optional<ActivityFailure> failed;
  try {
    co_await ctx.ExecuteActivity<int>("noop", o);
  } catch (const ActivityFailure& f) {
    failed = f;
  }
  co_return failed ? std::string(failed->Cause() ? failed->Cause()->Kind() : "?") : std::string("ran");
}

// No worker takes the activity within its schedule-to-start timeout: it fails with a
// TimeoutError at once (waiting longer would not help, so it is not retried).
TEST(WorkflowTest, ScheduleToStartTimeoutFailsAnActivityNoWorkerTakes) {
  Registry r;
  r.RegisterWorkflow("unattended", Unattended);
  r.RegisterActivity("noop", [] { return 1; });
  TestEnvironment env(r);
  env.client().StartWorkflow("unattended", {.id = "s2s"});
  env.WaitForEvent("s2s", [](const v1::HistoryEvent& e) { return e.has_activity_task_scheduled(); });
  env.AdvanceTime(6s);
  EXPECT_EQ(env.client().GetResult<std::string>("s2s"), "TimeoutError");
  EXPECT_EQ(CountEvents(env, "s2s", &v1::HistoryEvent::has_activity_task_timed_out), 1);
}

// An ApplicationError's next_retry_delay (e.g. from a Retry-After header) replaces the
// policy's backoff: the retry waits 42 s, not 1 s.
TEST(WorkflowTest, AnErrorSuppliedRetryDelayIsUsed) {
  Registry r;
  r.RegisterWorkflow("flaky", Flaky);
  r.RegisterActivity("flaky", [](ActivityContext& ctx) {
    if (ctx.Attempt() == 1) throw ApplicationError("RateLimited", "429", {.next_retry_delay = 42s});
    return ctx.Attempt();
  });
  TestEnvironment env(r);
  const Time start = env.clock().Now();
  env.client().StartWorkflow("flaky", {.id = "rd1"});
  WaitUntilBackingOff(env, "rd1", 2);
  auto d = env.client().DescribeWorkflow("rd1");
  ASSERT_TRUE(d.pending_activities[0].next_attempt_time.has_value());
  EXPECT_EQ(*d.pending_activities[0].next_attempt_time, start + 42s);
  env.AdvanceTime(41s);
  EXPECT_EQ(env.client().DescribeWorkflow("rd1").pending_activities.at(0).state, "backing off");
  env.AdvanceTime(1s);
  EXPECT_EQ(env.client().GetResult<int>("rd1"), 2);
}

// Worker::Stop while an activity runs: it polls no more, lets the activity finish and
// report, and only then returns.
TEST(WorkflowTest, StoppingAWorkerLetsItsRunningActivityFinishAndReport) {
  Registry r;
  r.RegisterWorkflow("flaky", Flaky);
  std::mutex mu;
  std::condition_variable cv;
  bool running = false, stop_called = false, release = false;
  std::atomic<bool> stop_returned{false};
  r.RegisterActivity("flaky", [&](ActivityContext& ctx) {
    std::unique_lock<std::mutex> lock(mu);
    running = true;
    cv.notify_all();
    cv.wait(lock, [&] { return release; });
    return ctx.Attempt();
  });
  TestEnvironment env(r);
  env.client().StartWorkflow("flaky", {.id = "st1"});
  {
    std::unique_lock<std::mutex> lock(mu);
    cv.wait(lock, [&] { return running; });
  }
  std::thread stopper([&] {
    {
      std::lock_guard<std::mutex> g(mu);
      stop_called = true;
    }
    cv.notify_all();
    env.worker().Stop();
    stop_returned = true;
  });
  {
    std::unique_lock<std::mutex> lock(mu);
    cv.wait(lock, [&] { return stop_called; });
  }
  // Stop cannot have returned: the activity it waits for is still held here. (A Stop
  // that did not wait would often be seen to have returned by now.)
  EXPECT_FALSE(stop_returned);
  {
    std::lock_guard<std::mutex> g(mu);
    release = true;
  }
  cv.notify_all();
  stopper.join();
  EXPECT_EQ(CountEvents(env, "st1", &v1::HistoryEvent::has_activity_task_completed), 1);  // reported before Stop returned
  EXPECT_EQ(env.worker().stats().activities, 1u);
}

TEST(WorkflowTest, RetriedActivityCarriesHeartbeatDetailsToTheNextAttempt) {
  Registry r;
  r.RegisterWorkflow("flaky", Flaky);
  std::vector<std::optional<std::string>> seen;
  r.RegisterActivity("flaky", [&](ActivityContext& ctx) {
    seen.push_back(ctx.HeartbeatDetails<std::string>());
    if (ctx.Attempt() < 3) {
      ctx.Heartbeat(std::string("progress from attempt ") + std::to_string(ctx.Attempt()));
      throw std::runtime_error("transient");
    }
    return ctx.Attempt();
  });
  TestEnvironment env(r);
  env.client().StartWorkflow("flaky", {.id = "r1"});
  WaitUntilBackingOff(env, "r1", 2);
  auto d = env.client().DescribeWorkflow("r1");
  EXPECT_EQ(d.pending_activities[0].attempt, 2);
  EXPECT_NE(d.pending_activities[0].last_failure.find("transient"), std::string::npos);
  env.AdvanceTime(1s);
  WaitUntilBackingOff(env, "r1", 3);  // attempt 2 failed too; next backoff is 2 s
  env.AdvanceTime(2s);
  EXPECT_EQ(env.client().GetResult<int>("r1"), 3);
  ASSERT_EQ(seen.size(), 3u);
  EXPECT_FALSE(seen[0].has_value());
  EXPECT_EQ(seen[1], "progress from attempt 1");
  EXPECT_EQ(seen[2], "progress from attempt 2");
}

Task<std::vector<int>> FanOut(WorkflowContext& ctx, int n) {
  std::vector<Future<int>> all;
  for (int i = 0; i < n; ++i) all.push_back(ctx.ExecuteActivity<int>("square", Quick(), i));
  co_return co_await WhenAll(all);
}

TEST(WorkflowTest, WhenAllRunsActivitiesConcurrentlyAndKeepsOrder) {
  Registry r;
  r.RegisterWorkflow("fan", FanOut);
  r.RegisterActivity("square", [](int i) { return i * i; });
  TestEnvironment env(r);
  env.client().StartWorkflow("fan", {.id = "fan1"}, 5);
  EXPECT_EQ(env.client().GetResult<std::vector<int>>("fan1"), (std::vector<int>{0, 1, 4, 9, 16}));
  int scheduled_in_first_task = 0;
  auto h = env.client().GetHistory("fan1");
  for (int i = 0; i < h.size() && !h.event(i).has_activity_task_started(); ++i) {
    scheduled_in_first_task += h.event(i).has_activity_task_scheduled();
  }
  EXPECT_EQ(scheduled_in_first_task, 5);
}

Task<std::string> RaceActivityAgainstTimer(WorkflowContext& ctx) {
  ActivityOptions o = Quick();
  o.start_to_close = 1h;
  o.heartbeat = 1h;
  auto r = co_await WhenAny(ctx.ExecuteActivity<std::string>("slow", o), ctx.Sleep(1min));
  co_await ctx.Sleep(1min);  // still running when the activity reports its cancellation
  co_return r.index() == 0 ? "activity" : "timer";
}

TEST(WorkflowTest, LosingActivityIsCancelledAndSeesItThroughItsHeartbeat) {
  Registry r;
  r.RegisterWorkflow("race", RaceActivityAgainstTimer);
  std::atomic<bool> activity_saw_cancel{false};
  std::atomic<bool> started{false};
  r.RegisterActivity("slow", [&](ActivityContext& ctx) -> std::string {
    started = true;
    while (!ctx.IsCancelled()) {
      ctx.Heartbeat();
      std::this_thread::yield();
    }
    activity_saw_cancel = true;
    throw CanceledError();
  });
  TestEnvironment env(r);
  env.client().StartWorkflow("race", {.id = "race1"});
  env.WaitForEvent("race1", [](const auto& e) { return e.has_timer_started(); });
  while (!started) std::this_thread::yield();
  env.AdvanceTime(1min);
  env.WaitForEvent("race1", [](const auto& e) { return e.has_activity_task_cancel_requested(); });
  env.WaitForEvent("race1", [](const auto& e) { return e.has_activity_task_canceled(); });
  EXPECT_TRUE(activity_saw_cancel);
  env.WaitForEvent("race1", [](const auto& e) { return e.has_timer_started() && e.timer_started().timer_id() == "2"; });
  env.AdvanceTime(1min);
  EXPECT_EQ(env.client().GetResult<std::string>("race1"), "timer");
}

// ---- cancellation, deterministic values, conditions ----

Task<std::string> Cancellable(WorkflowContext& ctx) {
  co_await ctx.Sleep(24h);
  co_return "slept";
}

TEST(WorkflowTest, CancelRequestEndsASleepingWorkflowAsCanceled) {
  Registry r;
  r.RegisterWorkflow("c", Cancellable);
  TestEnvironment env(r);
  env.client().StartWorkflow("c", {.id = "c1"});
  env.WaitForEvent("c1", [](const auto& e) { return e.has_timer_started(); });
  env.client().CancelWorkflow("c1", "no longer needed");
  try {
    env.client().GetResult<std::string>("c1");
    FAIL() << "expected WorkflowFailedError";
  } catch (const WorkflowFailedError& e) {
    EXPECT_EQ(e.Status(), "canceled");
  }
  auto h = env.client().GetHistory("c1");
  EXPECT_TRUE(h.event(h.size() - 1).has_workflow_execution_canceled());
  bool timer_canceled = false;
  for (const auto& e : h.proto().events()) timer_canceled |= e.has_timer_canceled();
  EXPECT_TRUE(timer_canceled);
}

Task<std::string> Values(WorkflowContext& ctx) {
  std::string id = ctx.Uuid();
  uint64_t r = ctx.Random();
  int effect = ctx.SideEffect([] {
    static int calls = 0;
    return ++calls;
  });
  Time before = ctx.Now();
  co_await ctx.Sleep(1h);
  co_return id + " " + std::to_string(r % 1000) + " " + std::to_string(effect) + " " +
      std::to_string(std::chrono::duration_cast<std::chrono::minutes>(ctx.Now() - before).count());
}

TEST(WorkflowTest, DeterministicValuesSurviveReplayFromScratch) {
  Registry r;
  r.RegisterWorkflow("values", Values);
  // No cache: every workflow task replays the run from its first event.
  TestEnvironment env(r, {.worker = {.max_cached_workflows = 0}});
  env.client().StartWorkflow("values", {.id = "v1"});
  env.WaitForEvent("v1", [](const auto& e) { return e.has_timer_started(); });
  env.AdvanceTime(1h);
  std::string result = env.client().GetResult<std::string>("v1");
  EXPECT_EQ(result.size(), 36u + 1 + result.substr(37).size());
  EXPECT_EQ(result.substr(result.size() - 5), " 1 60") << result;  // one side effect call; 60 min
  // The first task ran inline on the start (a new run has nothing to replay); the
  // timer's task found nothing cached and replayed the run from its first event.
  EXPECT_EQ(env.worker().stats().workflow_tasks, 2u);
  EXPECT_EQ(env.worker().stats().replays, 1u);
}

Task<int> Counter(WorkflowContext& ctx) {
  auto total = std::make_shared<int>(0);
  ctx.OnSignal<int>("add", [total](int n) { *total += n; });
  // A named future: g++ 12 double-frees a capturing lambda inside a co_await expression.
  auto reached = ctx.WaitUntil([total] { return *total >= 10; }, 1h);
  co_return co_await reached ? *total : -1;
}

TEST(WorkflowTest, WaitUntilSeesStateChangedBySignalHandlers) {
  Registry r;
  r.RegisterWorkflow("counter", Counter);
  TestEnvironment env(r);
  env.client().StartWorkflow("counter", {.id = "n1"});
  env.client().SignalWorkflow("n1", "add", 4);
  env.client().SignalWorkflow("n1", "add", 7);
  EXPECT_EQ(env.client().GetResult<int>("n1"), 11);

  env.client().StartWorkflow("counter", {.id = "n2"});
  env.client().SignalWorkflow("n2", "add", 1);
  env.WaitForEvent("n2", [](const auto& e) { return e.has_timer_started(); });
  env.AdvanceTime(1h);
  EXPECT_EQ(env.client().GetResult<int>("n2"), -1);
}

TEST(WorkflowTest, SignalWithStartStartsOnceAndDeliversEverySignal) {
  Registry r;
  r.RegisterWorkflow("counter", Counter);
  TestEnvironment env(r);
  auto first = env.client().SignalWithStart("counter", {.id = "sw"}, "add", ToPayloads(6));
  auto second = env.client().SignalWithStart("counter", {.id = "sw"}, "add", ToPayloads(5));
  EXPECT_TRUE(first.started);
  EXPECT_FALSE(second.started);
  EXPECT_EQ(first.run_id, second.run_id);
  EXPECT_EQ(env.client().GetResult<int>("sw"), 11);
}

TEST(WorkflowTest, ClientErrorsCarryTheStatusCode) {
  Registry r;
  r.RegisterWorkflow("counter", Counter);
  TestEnvironment env(r);
  try {
    env.client().SignalWorkflow("missing", "add", 1);
    FAIL();
  } catch (const ClientError& e) {
    EXPECT_EQ(e.Code(), static_cast<int>(StatusCode::kNotFound));
  }
  try {
    env.client().StartWorkflow("counter", {.id = ""});
    FAIL();
  } catch (const ClientError& e) {
    EXPECT_EQ(e.Code(), static_cast<int>(StatusCode::kInvalidArgument));
  }
}

}  // namespace
}  // namespace keel
