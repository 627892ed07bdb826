// Activity attempts that run across a restart (EngineOptions::recovered_activity_hold):
// after the engine reopens its file, the activity tasks left pending are held back; a
// worker's heartbeat or result for the attempt it still runs takes the attempt back (it
// is not run twice); when the hold ends, the task is handed out, and once a worker has
// it the old attempt's word is refused.
#include <gtest/gtest.h>

#include <set>
#include <string>
#include <thread>

#include "engine/client.h"
#include "tests/engine/core/engine_fixture.h"

namespace keel {
namespace {

using E = v1::HistoryEvent;

class RecoveryHoldTest : public EngineTest {
 protected:
  void SetUp() override {
    recovered_activity_hold_ = 10s;
    poll_timeout_ = Duration::zero();  // a poll only looks: the test never waits for one
    EngineTest::SetUp();
  }

  // Starts "a", schedules one activity (of `max_attempts`) and returns its polled task.
  v1::PollActivityTaskQueueResponse StartedActivity(int max_attempts = 0) {
    EXPECT_TRUE(Start("a").ok());
    auto t = PollWorkflowTask();
    EXPECT_TRUE(Complete(t.task_token(), {ScheduleActivity("1", 1h, max_attempts)}).ok());
    return PollActivity();
  }
  // Moves time on and waits until the timers due by then have been applied.
  void Advance(Duration d) {
    clock_.Advance(d);
    while (!engine_->TimersIdle()) std::this_thread::yield();
  }
  // Reopens as after a crash: the close's record of the attempts running on workers is
  // dropped before the engine opens the file again.
  void ReopenAfterCrash() {
    store_ = nullptr;
    engine_.reset();
    {
      store::SqliteStoreOptions so;
      so.path = dir_.File("keel.db");
      auto opened = store::SqliteStore::Open(so);
      ASSERT_TRUE(opened.ok()) << opened.status().ToString();
      auto record = (*opened)->TakeCleanClose();
      ASSERT_TRUE(record.ok() && record->has_value());
    }
    Open();
  }
  // Starts "a" with two activities, "1" and "2", and leases "1" only.
  v1::PollActivityTaskQueueResponse TwoActivitiesOneLeased() {
    EXPECT_TRUE(Start("a").ok());
    auto t = PollWorkflowTask();
    EXPECT_TRUE(Complete(t.task_token(), {ScheduleActivity("1", 1h), ScheduleActivity("2", 1h)}).ok());
    auto running = PollActivity();
    EXPECT_EQ(running.activity_id(), "1");
    return running;
  }
  Status Heartbeat(const std::string& token) {
    v1::RecordActivityTaskHeartbeatRequest r;
    r.set_task_token(token);
    r.set_identity("old-worker");
    return engine_->RecordActivityTaskHeartbeat(r).status();
  }
};

TEST_F(RecoveryHoldTest, AnAttemptRunningAcrossARestartReportsItsResult) {
  auto running = StartedActivity();
  ASSERT_FALSE(running.task_token().empty());
  Reopen();
  EXPECT_TRUE(PollActivity().task_token().empty());  // held, not handed out again
  ASSERT_TRUE(CompleteActivity(running.task_token(), "\"done\"").ok());
  auto events = Events("a");
  EXPECT_EQ(Count(events, E::kActivityTaskStarted), 1);
  EXPECT_EQ(Count(events, E::kActivityTaskCompleted), 1);
  EXPECT_EQ(Describe("a").pending_activities_size(), 0);
  // Sent again (the answer was lost): refused, and nothing recorded.
  EXPECT_EQ(CompleteActivity(running.task_token(), "\"done\"").code(), StatusCode::kNotFound);
  EXPECT_EQ(Events("a").size(), events.size());
  Advance(10s);  // the hold's end hands nothing out
  EXPECT_TRUE(PollActivity().task_token().empty());
}

TEST_F(RecoveryHoldTest, AHeldTaskIsHandedOutWhenTheHoldEndsAndTheOldAttemptIsRefused) {
  auto running = StartedActivity();
  Reopen();
  Advance(9s);
  EXPECT_TRUE(PollActivity().task_token().empty());
  Advance(1s);
  auto again = PollActivity();
  ASSERT_EQ(again.activity_id(), "1");
  EXPECT_EQ(again.attempt(), running.attempt());
  EXPECT_EQ(CompleteActivity(running.task_token(), "\"old\"").code(), StatusCode::kNotFound);
  EXPECT_EQ(Heartbeat(running.task_token()).code(), StatusCode::kNotFound);
  ASSERT_TRUE(CompleteActivity(again.task_token(), "\"new\"").ok());
  EXPECT_EQ(Count(Events("a"), E::kActivityTaskCompleted), 1);
}

// The hold ended but no worker has polled the task yet: the old attempt's result is
// still the current attempt's, so it is taken (the activity does not run again).
TEST_F(RecoveryHoldTest, AResultAfterTheHoldIsTakenWhileNoWorkerHasTheTask) {
  auto running = StartedActivity();
  Reopen();
  Advance(10s);  // the hold ends; the task waits for a poll
  ASSERT_TRUE(CompleteActivity(running.task_token(), "\"late\"").ok());
  auto events = Events("a");
  EXPECT_EQ(Count(events, E::kActivityTaskStarted), 1);
  EXPECT_EQ(Count(events, E::kActivityTaskCompleted), 1);
  EXPECT_TRUE(PollActivity().task_token().empty());  // nothing left to hand out
  EXPECT_EQ(Describe("a").pending_activities_size(), 0);
}

// The same for a heartbeat: the attempt goes on, and a poll does not hand its task out.
TEST_F(RecoveryHoldTest, AHeartbeatAfterTheHoldTakesTheAttemptBackWhileNoWorkerHasTheTask) {
  auto running = StartedActivity();
  Reopen();
  Advance(10s);
  ASSERT_TRUE(Heartbeat(running.task_token()).ok());
  EXPECT_TRUE(PollActivity().task_token().empty());
  ASSERT_TRUE(CompleteActivity(running.task_token(), "\"done\"").ok());
  EXPECT_EQ(Count(Events("a"), E::kActivityTaskCompleted), 1);
}

// An attempt taken back after the hold runs under its timeout like any other: when it
// expires, the activity is retried and handed out.
TEST_F(RecoveryHoldTest, AnAttemptTakenBackAfterTheHoldTimesOutAndIsRetried) {
  auto running = StartedActivity();
  Reopen();
  Advance(10s);
  ASSERT_TRUE(Heartbeat(running.task_token()).ok());
  Advance(1h);  // its start-to-close timeout
  Advance(1s);  // the retry's backoff
  auto again = PollActivity();
  ASSERT_EQ(again.activity_id(), "1");
  EXPECT_EQ(again.attempt(), running.attempt() + 1);
  EXPECT_EQ(Count(Events("a"), E::kActivityTaskTimedOut), 0);  // retried, not ended
  ASSERT_TRUE(CompleteActivity(again.task_token(), "\"done\"").ok());
}

TEST_F(RecoveryHoldTest, AHeartbeatTakesTheAttemptBack) {
  auto running = StartedActivity();
  Reopen();
  ASSERT_TRUE(Heartbeat(running.task_token()).ok());
  auto d = Describe("a");
  ASSERT_EQ(d.pending_activities_size(), 1);
  EXPECT_EQ(d.pending_activities(0).state(), v1::PendingActivityInfo::STATE_STARTED);
  EXPECT_EQ(d.pending_activities(0).last_worker_identity(), "old-worker");
  Advance(10s);
  EXPECT_TRUE(PollActivity().task_token().empty());  // still the old worker's
  ASSERT_TRUE(CompleteActivity(running.task_token(), "\"done\"").ok());
}

TEST_F(RecoveryHoldTest, AnEarlierAttemptIsNotTakenBack) {
  auto first = StartedActivity(/*max_attempts=*/3);
  ASSERT_TRUE(FailActivity(first.task_token(), "Flaky").ok());
  Advance(1s);  // the retry's backoff
  auto second = PollActivity();
  ASSERT_EQ(second.attempt(), 2);
  Reopen();
  EXPECT_EQ(CompleteActivity(first.task_token(), "\"old\"").code(), StatusCode::kNotFound);
  ASSERT_TRUE(CompleteActivity(second.task_token(), "\"done\"").ok());
}

TEST_F(RecoveryHoldTest, AScheduleToStartTimeoutDoesNotEndAHeldTask) {
  ASSERT_TRUE(Start("a").ok());
  auto t = PollWorkflowTask();
  v1::Command schedule = ScheduleActivity("1", 1h);
  *schedule.mutable_schedule_activity_task()->mutable_schedule_to_start_timeout() = ToProtoDuration(5s);
  ASSERT_TRUE(Complete(t.task_token(), {schedule}).ok());
  auto running = PollActivity();
  Advance(1s);
  Reopen();
  Advance(4s);  // the schedule-to-start deadline passes during the hold
  ASSERT_TRUE(CompleteActivity(running.task_token(), "\"done\"").ok());
  EXPECT_EQ(Count(Events("a"), E::kActivityTaskTimedOut), 0);
}

// The workflow cancels an activity whose task is held: the worker that takes it back
// hears of it with its heartbeat; one nobody takes back is canceled when the hold ends.
class RecoveryHoldCancelTest : public RecoveryHoldTest {
 protected:
  void RequestCancel(int64_t scheduled_event_id) {
    ASSERT_TRUE(Signal("a", "stop").ok());
    auto t = PollWorkflowTask();
    v1::Command cancel;
    cancel.mutable_request_cancel_activity_task()->set_scheduled_event_id(scheduled_event_id);
    ASSERT_TRUE(Complete(t.task_token(), {cancel}).ok());
  }
};

TEST_F(RecoveryHoldCancelTest, TheWorkerThatTakesTheTaskBackHearsOfTheCancel) {
  auto running = StartedActivity();
  Reopen();
  RequestCancel(running.scheduled_event_id());
  EXPECT_EQ(Count(Events("a"), E::kActivityTaskCanceled), 0);  // not at once: it may be running
  auto held = Describe("a").pending_activities(0);
  EXPECT_EQ(held.state(), v1::PendingActivityInfo::STATE_CANCEL_REQUESTED);
  EXPECT_TRUE(held.has_held_until());  // still held: the cancel waits for the hold too
  v1::RecordActivityTaskHeartbeatRequest r;
  r.set_task_token(running.task_token());
  auto hb = engine_->RecordActivityTaskHeartbeat(r);
  ASSERT_TRUE(hb.ok()) << hb.status().ToString();
  EXPECT_TRUE(hb->cancel_requested());
}

TEST_F(RecoveryHoldCancelTest, ATaskNobodyTookBackIsCanceledWhenTheHoldEnds) {
  auto running = StartedActivity();
  Reopen();
  RequestCancel(running.scheduled_event_id());
  Advance(10s);
  EXPECT_EQ(Count(Events("a"), E::kActivityTaskCanceled), 1);
  EXPECT_TRUE(PollActivity().task_token().empty());
  EXPECT_EQ(Describe("a").pending_activities_size(), 0);
}

TEST_F(RecoveryHoldTest, ATokenOfAnAttemptThatEndedIsRefusedAfterTheHold) {
  auto running = StartedActivity();
  Reopen();
  Advance(10s);
  auto again = PollActivity();
  ASSERT_TRUE(CompleteActivity(again.task_token(), "\"done\"").ok());
  // This process's own token, its lease gone: never adopted.
  EXPECT_EQ(CompleteActivity(again.task_token(), "\"done\"").code(), StatusCode::kNotFound);
}

// A clean close records which attempts ran on workers: the next open holds only their
// tasks, and hands a task no worker had out at once. The open deletes the record.
TEST_F(RecoveryHoldTest, AfterACleanCloseOnlyTheTasksOfRunningAttemptsAreHeld) {
  auto running = TwoActivitiesOneLeased();
  Reopen();
  auto record = store_->TakeCleanClose();
  ASSERT_TRUE(record.ok());
  EXPECT_FALSE(record->has_value());  // taken by the engine's open
  auto waiting = PollActivity();
  EXPECT_EQ(waiting.activity_id(), "2");
  EXPECT_TRUE(PollActivity().task_token().empty());  // "1" is held
  ASSERT_TRUE(CompleteActivity(running.task_token(), "\"done\"").ok());
  ASSERT_TRUE(CompleteActivity(waiting.task_token(), "\"done\"").ok());
  EXPECT_EQ(Count(Events("a"), E::kActivityTaskCompleted), 2);
}

TEST_F(RecoveryHoldTest, AfterACrashEveryPendingActivityTaskIsHeld) {
  TwoActivitiesOneLeased();
  ASSERT_NO_FATAL_FAILURE(ReopenAfterCrash());
  EXPECT_TRUE(PollActivity().task_token().empty());
  Advance(10s);
  std::set<std::string> handed_out = {PollActivity().activity_id(), PollActivity().activity_id()};
  EXPECT_EQ(handed_out, (std::set<std::string>{"1", "2"}));
}

// Closed again within the hold: the held attempt may still run, so it is held again.
TEST_F(RecoveryHoldTest, ATaskStillHeldAtACleanCloseIsHeldAgain) {
  auto running = StartedActivity();
  Reopen();
  Reopen();
  EXPECT_TRUE(PollActivity().task_token().empty());
  ASSERT_TRUE(CompleteActivity(running.task_token(), "\"done\"").ok());
  EXPECT_EQ(Count(Events("a"), E::kActivityTaskStarted), 1);
}

// describe says which activities are held, and until when; one taken back is started.
TEST_F(RecoveryHoldTest, DescribeShowsAHeldActivityUntilItsWorkerTakesItBack) {
  auto running = StartedActivity();
  Reopen();
  const Time reopened = clock_.Now();
  auto held = Describe("a");
  ASSERT_EQ(held.pending_activities_size(), 1);
  EXPECT_EQ(held.pending_activities(0).state(), v1::PendingActivityInfo::STATE_HELD);
  EXPECT_EQ(FromProtoTime(held.pending_activities(0).held_until()), reopened + 10s);
  const WorkflowDescription d = Client(*engine_).DescribeWorkflow("a");  // as the CLI shows it
  ASSERT_EQ(d.pending_activities.size(), 1u);
  EXPECT_EQ(d.pending_activities[0].state, "held");
  EXPECT_EQ(d.pending_activities[0].held_until, reopened + 10s);
  ASSERT_TRUE(Heartbeat(running.task_token()).ok());
  auto taken = Describe("a");
  EXPECT_EQ(taken.pending_activities(0).state(), v1::PendingActivityInfo::STATE_STARTED);
  EXPECT_FALSE(taken.pending_activities(0).has_held_until());
}

}  // namespace
}  // namespace keel
