// The engine through its Frontend, with the test playing the worker: starts and id
// reuse, request-id dedup, bad input, signals, leases and stale completions, retries,
// heartbeats, workflow task failures, termination, timeouts and restart.
#include "engine/engine.h"

#include <gtest/gtest.h>

#include <future>

#include "engine/history/convert.h"
#include "engine/history/event_util.h"
#include "tests/engine/core/engine_fixture.h"

namespace keel {
namespace {

using namespace std::chrono_literals;


using E = v1::HistoryEvent;

TEST_F(EngineTest, StartWritesStartedAndSchedulesAWorkflowTask) {
  auto r = Start("a");
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->started());
  auto events = Events("a");
  ASSERT_EQ(events.size(), 2u);
  EXPECT_TRUE(events[0].has_workflow_execution_started());
  EXPECT_TRUE(events[1].has_workflow_task_scheduled());
  auto t = PollWorkflowTask();
  EXPECT_EQ(t.workflow_execution().run_id(), r->run_id());
  ASSERT_EQ(t.events_size(), 3);  // plus the WorkflowTaskStarted of this task
  EXPECT_TRUE(t.events(2).has_workflow_task_started());
}

TEST_F(EngineTest, RetriedStartWithSameRequestIdReturnsTheSameRun) {
  auto first = Start("a", "req-1");
  auto again = Start("a", "req-1");
  ASSERT_TRUE(first.ok() && again.ok());
  EXPECT_EQ(first->run_id(), again->run_id());
  EXPECT_FALSE(again->started());
  EXPECT_EQ(ExecutionCount(), 1);
}

TEST_F(EngineTest, SecondStartOfARunningWorkflowIdIsAlreadyExists) {
  ASSERT_TRUE(Start("a", "req-1").ok());
  auto again = Start("a", "req-2");
  EXPECT_EQ(again.status().code(), StatusCode::kAlreadyExists);
  EXPECT_NE(again.status().message().find("already running"), std::string::npos);
  EXPECT_EQ(ExecutionCount(), 1);
}

TEST_F(EngineTest, IdReusePoliciesAfterCompletion) {
  ASSERT_TRUE(Start("a").ok());
  FinishWorkflow();
  EXPECT_EQ(Start("a", "", v1::WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE).status().code(),
            StatusCode::kAlreadyExists);
  EXPECT_EQ(Start("a", "", v1::WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE_FAILED_ONLY).status().code(),
            StatusCode::kAlreadyExists);
  auto again = Start("a", "", v1::WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE);
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->started());
  EXPECT_EQ(ExecutionCount(), 2);
}

TEST_F(EngineTest, FailedOnlyPolicyAllowsReuseAfterTermination) {
  ASSERT_TRUE(Start("a").ok());
  v1::TerminateWorkflowExecutionRequest t;
  t.mutable_workflow_execution()->set_workflow_id("a");
  ASSERT_TRUE(engine_->TerminateWorkflowExecution(t).ok());
  EXPECT_TRUE(Start("a", "", v1::WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE_FAILED_ONLY).ok());
}

TEST_F(EngineTest, BadStartRequestsAreRejectedAndWriteNothing) {
  v1::StartWorkflowExecutionRequest r;
  r.set_workflow_type("wf");
  EXPECT_EQ(engine_->StartWorkflowExecution(r).status().code(), StatusCode::kInvalidArgument);  // no id
  r.set_workflow_id(std::string(300, 'x'));
  EXPECT_EQ(engine_->StartWorkflowExecution(r).status().code(), StatusCode::kInvalidArgument);
  r.set_workflow_id("bad\nid");
  EXPECT_EQ(engine_->StartWorkflowExecution(r).status().code(), StatusCode::kInvalidArgument);
  r.set_workflow_id("caf\xe9");  // Latin-1, not UTF-8: protobuf could not read it back
  auto latin1 = engine_->StartWorkflowExecution(r);
  EXPECT_EQ(latin1.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(latin1.status().message().find("not valid UTF-8"), std::string::npos) << latin1.status().ToString();
  r.set_workflow_id("ok");
  r.clear_workflow_type();
  EXPECT_EQ(engine_->StartWorkflowExecution(r).status().code(), StatusCode::kInvalidArgument);
  r.set_workflow_type("wf");
  r.mutable_input()->add_payloads()->set_data(std::string(3 * 1024 * 1024, 'x'));
  auto big = engine_->StartWorkflowExecution(r);
  EXPECT_EQ(big.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(big.status().message().find("over the limit"), std::string::npos);
  EXPECT_EQ(ExecutionCount(), 0);
}

TEST_F(EngineTest, SignalWithSameRequestIdIsRecordedOnce) {
  ASSERT_TRUE(Start("a").ok());
  ASSERT_TRUE(Signal("a", "go", "sig-1").ok());
  ASSERT_TRUE(Signal("a", "go", "sig-1").ok());
  ASSERT_TRUE(Signal("a", "go", "sig-2").ok());
  EXPECT_EQ(Count(Events("a"), E::kWorkflowExecutionSignaled), 2);
}

// The run remembers the request ids of its last 256 signals (its state is rewritten by
// every transition, so it cannot keep them all): a retry among those is recognised.
TEST_F(EngineTest, TheLastSignalRequestIdsAreRemembered) {
  ASSERT_TRUE(Start("a").ok());
  const int n = 300;
  for (int i = 1; i <= n; ++i) ASSERT_TRUE(Signal("a", "go", "sig-" + std::to_string(i)).ok());
  ASSERT_EQ(Count(Events("a"), E::kWorkflowExecutionSignaled), n);
  for (int i = n - 255; i <= n; ++i) ASSERT_TRUE(Signal("a", "go", "sig-" + std::to_string(i)).ok());
  EXPECT_EQ(Count(Events("a"), E::kWorkflowExecutionSignaled), n);  // all recognised as retries
  ASSERT_TRUE(Signal("a", "go", "sig-1").ok());                      // too old to be remembered
  EXPECT_EQ(Count(Events("a"), E::kWorkflowExecutionSignaled), n + 1);
}

TEST_F(EngineTest, SignalToAClosedOrUnknownWorkflowIsNotFoundAndWritesNothing) {
  EXPECT_EQ(Signal("nobody", "go").code(), StatusCode::kNotFound);
  ASSERT_TRUE(Start("a").ok());
  FinishWorkflow();
  size_t before = Events("a").size();
  auto st = Signal("a", "go");
  EXPECT_EQ(st.code(), StatusCode::kNotFound);
  EXPECT_NE(st.message().find("completed"), std::string::npos);
  EXPECT_EQ(Events("a").size(), before);
}

TEST_F(EngineTest, ExpiredWorkflowTaskIsHandedOutAgainAndTheStaleCompletionRefused) {
  ASSERT_TRUE(Start("a").ok());
  auto first = PollWorkflowTask();
  clock_.Advance(11s);  // past the 10 s workflow task timeout
  auto second = PollWorkflowTask();  // blocks until the expired task is queued again
  EXPECT_NE(first.task_token(), second.task_token());
  EXPECT_EQ(Complete(first.task_token(), {CompleteWorkflow()}).code(), StatusCode::kNotFound);
  ASSERT_TRUE(Complete(second.task_token(), {CompleteWorkflow()}).ok());
  EXPECT_EQ(Count(Events("a"), E::kWorkflowExecutionCompleted), 1);
}

TEST_F(EngineTest, TimedOutActivityAttemptIsRetriedAndItsLateResultRefused) {
  ASSERT_TRUE(Start("a").ok());
  auto t = PollWorkflowTask();
  ASSERT_TRUE(Complete(t.task_token(), {ScheduleActivity("1", 5s)}).ok());
  auto attempt1 = PollActivity();
  EXPECT_EQ(attempt1.attempt(), 1);
  clock_.Advance(5s);  // start-to-close timeout; then a 1 s backoff
  // Wait until the engine has recorded the timeout (the activity is backing off).
  while (Describe("a").pending_activities(0).state() != v1::PendingActivityInfo::STATE_BACKING_OFF) {
    std::this_thread::yield();
  }
  clock_.Advance(1s);
  auto attempt2 = PollActivity();
  EXPECT_EQ(attempt2.attempt(), 2);
  EXPECT_EQ(CompleteActivity(attempt1.task_token(), "1").code(), StatusCode::kNotFound);
  ASSERT_TRUE(CompleteActivity(attempt2.task_token(), "2").ok());
  auto events = Events("a");
  EXPECT_EQ(Count(events, E::kActivityTaskCompleted), 1);
  ASSERT_EQ(Count(events, E::kActivityTaskStarted), 1);
  for (const auto& e : events) {
    if (e.has_activity_task_started()) {
      EXPECT_EQ(e.activity_task_started().attempt(), 2);
    }
  }
}

TEST_F(EngineTest, NonRetryableFailureEndsTheActivityAtOnce) {
  ASSERT_TRUE(Start("a").ok());
  auto t = PollWorkflowTask();
  ASSERT_TRUE(Complete(t.task_token(), {ScheduleActivity("1", 5s)}).ok());
  ASSERT_TRUE(FailActivity(PollActivity().task_token(), "CardDeclinedFraud", true).ok());
  auto events = Events("a");
  ASSERT_EQ(Count(events, E::kActivityTaskFailed), 1);
  for (const auto& e : events) {
    if (e.has_activity_task_failed()) {
      EXPECT_EQ(e.activity_task_failed().retry_state(), v1::RETRY_STATE_NON_RETRYABLE_FAILURE);
      EXPECT_EQ(e.activity_task_failed().failure().application_failure_info().type(), "CardDeclinedFraud");
    }
  }
  EXPECT_TRUE(events.back().has_workflow_task_scheduled());  // the workflow gets to react
}

// Text in a failure comes from anywhere (an exception naming a file, a model's reply cut
// short); protobuf cannot parse a string field that is not UTF-8, so a stored event with
// one would make the run's history unreadable.
TEST_F(EngineTest, AFailureThatIsNotUtf8IsRefusedAndWritesNothing) {
  ASSERT_TRUE(Start("a").ok());
  auto t = PollWorkflowTask();
  ASSERT_TRUE(Complete(t.task_token(), {ScheduleActivity("1", 5s)}).ok());
  const size_t before = Events("a").size();
  auto task = PollActivity();
  v1::RespondActivityTaskFailedRequest r;
  r.set_task_token(task.task_token());
  r.mutable_failure()->set_message("ok");
  r.mutable_failure()->mutable_cause()->set_stack_trace("at /tmp/caf\xe9.txt");
  auto st = engine_->RespondActivityTaskFailed(r).status();
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("cause.stack_trace is not valid UTF-8"), std::string::npos) << st.ToString();
  EXPECT_EQ(Events("a").size(), before);
  // The attempt is still open: a repaired report is taken.
  r.mutable_failure()->mutable_cause()->set_stack_trace("at /tmp/caf\xc3\xa9.txt");
  r.mutable_failure()->mutable_application_failure_info()->set_non_retryable(true);
  EXPECT_TRUE(engine_->RespondActivityTaskFailed(r).ok());
  Reopen();  // read back from the file, not from the engine's caches
  EXPECT_EQ(Count(Events("a"), E::kActivityTaskFailed), 1);
}

TEST_F(EngineTest, MaximumAttemptsEndsRetries) {
  ASSERT_TRUE(Start("a").ok());
  auto t = PollWorkflowTask();
  ASSERT_TRUE(Complete(t.task_token(), {ScheduleActivity("1", 5s, 2)}).ok());
  ASSERT_TRUE(FailActivity(PollActivity().task_token(), "Flaky").ok());
  clock_.Advance(1s);
  auto second = PollActivity();
  EXPECT_EQ(second.attempt(), 2);
  EXPECT_EQ(second.heartbeat_details().payloads_size(), 0);
  ASSERT_TRUE(FailActivity(second.task_token(), "Flaky").ok());
  auto events = Events("a");
  ASSERT_EQ(Count(events, E::kActivityTaskFailed), 1);
  for (const auto& e : events) {
    if (e.has_activity_task_failed()) {
      EXPECT_EQ(e.activity_task_failed().retry_state(), v1::RETRY_STATE_MAXIMUM_ATTEMPTS_REACHED);
    }
  }
}

TEST_F(EngineTest, HeartbeatDetailsReachTheNextAttempt) {
  ASSERT_TRUE(Start("a").ok());
  auto t = PollWorkflowTask();
  ASSERT_TRUE(Complete(t.task_token(), {ScheduleActivity("1", 5s)}).ok());
  auto first = PollActivity();
  v1::RecordActivityTaskHeartbeatRequest hb;
  hb.set_task_token(first.task_token());
  *hb.mutable_details()->add_payloads() = ToProto(ToPayload(std::string("page 7")));
  auto hr = engine_->RecordActivityTaskHeartbeat(hb);
  ASSERT_TRUE(hr.ok());
  EXPECT_FALSE(hr->cancel_requested());
  ASSERT_TRUE(FailActivity(first.task_token(), "Flaky").ok());
  clock_.Advance(1s);
  auto second = PollActivity();
  ASSERT_EQ(second.heartbeat_details().payloads_size(), 1);
  EXPECT_EQ(FromPayload<std::string>(FromProto(second.heartbeat_details().payloads(0))), "page 7");
}

TEST_F(EngineTest, ScheduleToCloseTimeoutEndsTheActivity) {
  ASSERT_TRUE(Start("a").ok());
  auto t = PollWorkflowTask();
  ASSERT_TRUE(Complete(t.task_token(), {ScheduleActivity("1", 10s, 0, 8s)}).ok());
  auto attempt = PollActivity();
  clock_.Advance(8s);
  auto next = PollWorkflowTask();  // the timeout schedules a workflow task
  bool timed_out = false;
  for (const auto& e : next.events()) {
    if (e.has_activity_task_timed_out()) {
      timed_out = true;
      EXPECT_EQ(e.activity_task_timed_out().failure().timeout_failure_info().timeout_type(),
                v1::TIMEOUT_TYPE_SCHEDULE_TO_CLOSE);
    }
  }
  EXPECT_TRUE(timed_out);
  EXPECT_EQ(CompleteActivity(attempt.task_token(), "1").code(), StatusCode::kNotFound);
}

TEST_F(EngineTest, FailedWorkflowTaskIsRetriedWithBackoffAndShownInDescribe) {
  ASSERT_TRUE(Start("a").ok());
  auto t = PollWorkflowTask();
  v1::RespondWorkflowTaskFailedRequest f;
  f.set_task_token(t.task_token());
  f.set_cause(v1::WORKFLOW_TASK_FAILED_CAUSE_NON_DETERMINISTIC_ERROR);
  f.mutable_failure()->set_message("history event 5 is X but the code produces Y");
  ASSERT_TRUE(engine_->RespondWorkflowTaskFailed(f).ok());
  auto d = Describe("a");
  EXPECT_EQ(d.info().status(), v1::WORKFLOW_EXECUTION_STATUS_RUNNING);
  ASSERT_TRUE(d.has_pending_workflow_task());
  EXPECT_EQ(d.pending_workflow_task().state(), v1::PendingWorkflowTaskInfo::STATE_BACKING_OFF);
  EXPECT_EQ(d.pending_workflow_task().attempt(), 2);
  EXPECT_EQ(d.pending_workflow_task().last_failure().message(), "history event 5 is X but the code produces Y");
  EXPECT_EQ(Count(Events("a"), E::kWorkflowTaskFailed), 1);

  clock_.Advance(1s);
  auto retry = PollWorkflowTask();
  EXPECT_EQ(retry.attempt(), 2);
  f.set_task_token(retry.task_token());
  ASSERT_TRUE(engine_->RespondWorkflowTaskFailed(f).ok());
  EXPECT_EQ(Count(Events("a"), E::kWorkflowTaskFailed), 1);  // later attempts leave no events
  clock_.Advance(2s);
  auto third = PollWorkflowTask();
  EXPECT_EQ(third.attempt(), 3);
  ASSERT_TRUE(Complete(third.task_token(), {CompleteWorkflow()}).ok());
  auto events = Events("a");
  EXPECT_EQ(Count(events, E::kWorkflowExecutionCompleted), 1);
  for (size_t i = 0; i < events.size(); ++i) EXPECT_EQ(events[i].event_id(), static_cast<int64_t>(i + 1));
}

TEST_F(EngineTest, SignalDuringACompletingTaskMakesTheTaskRunAgain) {
  ASSERT_TRUE(Start("a").ok());
  auto t = PollWorkflowTask();
  ASSERT_TRUE(Signal("a", "late").ok());  // arrives while the task runs
  auto st = Complete(t.task_token(), {CompleteWorkflow()});
  EXPECT_EQ(st.code(), StatusCode::kFailedPrecondition);
  auto again = PollWorkflowTask();
  bool sees_signal = false;
  for (const auto& e : again.events()) sees_signal |= e.has_workflow_execution_signaled();
  EXPECT_TRUE(sees_signal);
  ASSERT_TRUE(Complete(again.task_token(), {CompleteWorkflow()}).ok());
  auto events = Events("a");
  EXPECT_EQ(Count(events, E::kWorkflowExecutionSignaled), 1);
  EXPECT_EQ(Count(events, E::kWorkflowExecutionCompleted), 1);
}

TEST_F(EngineTest, EventsArrivingDuringATaskFollowItsCommands) {
  ASSERT_TRUE(Start("a").ok());
  auto t = PollWorkflowTask();
  ASSERT_TRUE(Signal("a", "mid").ok());
  ASSERT_TRUE(Complete(t.task_token(), {StartTimer("1", 1h)}).ok());
  auto events = Events("a");
  // ... WorkflowTaskStarted, WorkflowTaskCompleted, TimerStarted, then the signal.
  ASSERT_GE(events.size(), 7u);
  EXPECT_TRUE(events[2].has_workflow_task_started());
  EXPECT_TRUE(events[3].has_workflow_task_completed());
  EXPECT_TRUE(events[4].has_timer_started());
  EXPECT_TRUE(events[5].has_workflow_execution_signaled());
  EXPECT_TRUE(events[6].has_workflow_task_scheduled());
}

TEST_F(EngineTest, CancellingATimerThatFiredDuringTheTaskDropsTheFiredEvent) {
  ASSERT_TRUE(Start("a").ok());
  auto t = PollWorkflowTask();
  ASSERT_TRUE(Complete(t.task_token(), {StartTimer("1", 5s)}).ok());
  // A signal wakes the workflow; while that task runs, the timer fires (buffered).
  ASSERT_TRUE(Signal("a", "wake").ok());
  auto t2 = PollWorkflowTask();
  clock_.Advance(5s);  // less than the task's 10 s timeout
  while (Count(Events("a"), E::kTimerFired) == 0 && Describe("a").pending_timers_size() > 0) {
    std::this_thread::yield();
  }
  v1::Command cancel;
  cancel.mutable_cancel_timer()->set_timer_id("1");
  ASSERT_TRUE(Complete(t2.task_token(), {cancel, CompleteWorkflow()}).ok());
  auto events = Events("a");
  EXPECT_EQ(Count(events, E::kTimerFired), 0);
  EXPECT_EQ(Count(events, E::kTimerCanceled), 1);
  EXPECT_TRUE(events.back().has_workflow_execution_completed()) << EventTypeName(events.back());
}

TEST_F(EngineTest, BadCommandFailsTheTaskAndWritesNoneOfIt) {
  ASSERT_TRUE(Start("a").ok());
  auto t = PollWorkflowTask();
  v1::Command cancel;
  cancel.mutable_cancel_timer()->set_timer_id("never-started");
  auto st = Complete(t.task_token(), {StartTimer("1", 1h), cancel});
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  auto events = Events("a");
  EXPECT_EQ(Count(events, E::kTimerStarted), 0);
  EXPECT_EQ(Count(events, E::kWorkflowTaskFailed), 1);
  EXPECT_EQ(Describe("a").pending_workflow_task().last_failure_cause(),
            v1::WORKFLOW_TASK_FAILED_CAUSE_BAD_COMMAND);
}

// Every text a command carries into the history is checked, also in markers and in a
// child's or a continued run's memo and search attributes.
TEST_F(EngineTest, CommandsWithTextThatIsNotUtf8OrBadNamesFailTheTask) {
  ASSERT_TRUE(Start("a").ok());
  v1::Command marker;
  marker.mutable_record_marker()->set_marker_name("m");
  marker.mutable_record_marker()->mutable_failure()->set_message("caf\xe9");
  v1::Command child;
  auto* c = child.mutable_start_child_workflow_execution();
  c->set_workflow_id("child");
  c->set_workflow_type("wf");
  (*c->mutable_memo())["bad\nkey"].set_data("1");
  v1::Command continued;
  (*continued.mutable_continue_as_new_workflow_execution()->mutable_search_attributes())["caf\xe9"].set_data("1");
  for (const v1::Command& bad : {marker, child, continued}) {
    auto t = PollWorkflowTask();
    auto st = Complete(t.task_token(), {bad});
    EXPECT_EQ(st.code(), StatusCode::kInvalidArgument) << bad.DebugString();
    clock_.Advance(1h);  // past the failed task's retry backoff
  }
  auto events = Events("a");
  EXPECT_EQ(Count(events, E::kMarkerRecorded), 0);
  EXPECT_EQ(Count(events, E::kStartChildWorkflowExecutionInitiated), 0);
  EXPECT_EQ(Count(events, E::kWorkflowExecutionContinuedAsNew), 0);
  EXPECT_EQ(Count(events, E::kWorkflowTaskFailed), 1);  // later attempts' failures are not recorded
}

TEST_F(EngineTest, TerminateClosesTheRunAndRefusesItsTasks) {
  ASSERT_TRUE(Start("a").ok());
  auto t = PollWorkflowTask();
  ASSERT_TRUE(Complete(t.task_token(), {ScheduleActivity("1", 1h)}).ok());
  auto activity = PollActivity();
  v1::TerminateWorkflowExecutionRequest term;
  term.mutable_workflow_execution()->set_workflow_id("a");
  term.set_reason("operator said so");
  ASSERT_TRUE(engine_->TerminateWorkflowExecution(term).ok());
  EXPECT_EQ(CompleteActivity(activity.task_token(), "1").code(), StatusCode::kNotFound);
  v1::GetWorkflowExecutionResultRequest rr;
  rr.mutable_workflow_execution()->set_workflow_id("a");
  auto result = engine_->GetWorkflowExecutionResult(rr);
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result->status(), v1::WORKFLOW_EXECUTION_STATUS_TERMINATED);
  EXPECT_NE(result->failure().message().find("operator said so"), std::string::npos);
  EXPECT_EQ(engine_->TerminateWorkflowExecution(term).status().code(), StatusCode::kNotFound);
}

TEST_F(EngineTest, RunTimeoutClosesTheRun) {
  ASSERT_TRUE(Start("a", "", v1::WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE, 1h).ok());
  v1::GetWorkflowExecutionResultRequest rr;
  rr.mutable_workflow_execution()->set_workflow_id("a");
  rr.set_wait(true);
  clock_.Advance(1h);
  Result<v1::GetWorkflowExecutionResultResponse> result = v1::GetWorkflowExecutionResultResponse();
  do {
    result = engine_->GetWorkflowExecutionResult(rr);  // waits for the timeout's commit
    ASSERT_TRUE(result.ok());
  } while (result->status() == v1::WORKFLOW_EXECUTION_STATUS_RUNNING);
  EXPECT_EQ(result->status(), v1::WORKFLOW_EXECUTION_STATUS_TIMED_OUT);
}

TEST_F(EngineTest, PendingWorkIsResumedAfterReopen) {
  ASSERT_TRUE(Start("a").ok());
  auto t = PollWorkflowTask();
  ASSERT_TRUE(Complete(t.task_token(), {ScheduleActivity("1", 1h), StartTimer("t", 1h)}).ok());
  auto lost = PollActivity();  // handed out, then the engine "crashes"
  Reopen();
  auto again = PollActivity();
  EXPECT_EQ(again.activity_id(), "1");
  EXPECT_EQ(CompleteActivity(lost.task_token(), "1").code(), StatusCode::kNotFound);
  ASSERT_TRUE(CompleteActivity(again.task_token(), "1").ok());
  auto d = Describe("a");
  EXPECT_EQ(d.pending_activities_size(), 0);
  ASSERT_EQ(d.pending_timers_size(), 1);
  EXPECT_EQ(d.pending_timers(0).timer_id(), "t");
}

TEST_F(EngineTest, ListFiltersByTypeAndStatus) {
  ASSERT_TRUE(Start("a").ok());
  FinishWorkflow();
  ASSERT_TRUE(Start("b").ok());
  v1::ListWorkflowExecutionsRequest r;
  r.set_status(v1::WORKFLOW_EXECUTION_STATUS_RUNNING);
  auto running = engine_->ListWorkflowExecutions(r);
  ASSERT_TRUE(running.ok());
  ASSERT_EQ(running->executions_size(), 1);
  EXPECT_EQ(running->executions(0).execution().workflow_id(), "b");
  r.set_status(v1::WORKFLOW_EXECUTION_STATUS_UNSPECIFIED);
  r.set_workflow_type("other");
  EXPECT_EQ(engine_->ListWorkflowExecutions(r)->executions_size(), 0);
}

TEST_F(EngineTest, MalformedTokensAreInvalidArgument) {
  v1::RespondWorkflowTaskCompletedRequest r;
  r.set_task_token("garbage");
  EXPECT_EQ(engine_->RespondWorkflowTaskCompleted(r).status().code(), StatusCode::kInvalidArgument);
  v1::RespondActivityTaskCompletedRequest a;
  EXPECT_EQ(engine_->RespondActivityTaskCompleted(a).status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace keel
