// WorkflowTaskOnResult through the Frontend, the test playing a server-mode worker that
// ran the run's next workflow task on an activity's result before reporting it: applied,
// the result and the task's completion are one transition; when anything else happened
// in the run meanwhile the result is recorded alone and the task runs as usual; bad
// requests are refused and change nothing.
#include <gtest/gtest.h>

#include "tests/engine/core/engine_fixture.h"

namespace keel {
namespace {

using E = v1::HistoryEvent;

class OnResultTest : public EngineTest {
 protected:
  // Starts `id`, completes its first task scheduling one activity (taken eagerly) and
  // returns that activity's task; `next_event_` is the id the activity's start gets.
  v1::PollActivityTaskQueueResponse StartWithActivity(const std::string& id) {
    EXPECT_TRUE(Start(id).ok());
    auto t = PollWorkflowTask();
    v1::RespondWorkflowTaskCompletedRequest r;
    r.set_task_token(t.task_token());
    r.set_identity("test-worker");
    *r.add_commands() = ScheduleActivity("act-1", 10s);
    r.set_eager_activity_command(1);
    r.set_return_new_events(true);
    auto resp = engine_->RespondWorkflowTaskCompleted(r);
    EXPECT_TRUE(resp.ok()) << resp.status().ToString();
    // The events it wrote come back: the task's completion and the activity's schedule.
    EXPECT_EQ(resp->events_size(), 2);
    EXPECT_TRUE(resp->events(0).has_workflow_task_completed());
    EXPECT_TRUE(resp->events(1).has_activity_task_scheduled());
    next_event_ = resp->events(1).event_id() + 1;
    EXPECT_TRUE(resp->has_activity_task());
    return resp->activity_task();
  }
  v1::RespondActivityTaskCompletedRequest OnResult(const v1::PollActivityTaskQueueResponse& task,
                                                   std::vector<v1::Command> commands) {
    v1::RespondActivityTaskCompletedRequest r;
    r.set_task_token(task.task_token());
    *r.mutable_result()->add_payloads() = ToProto(JsonPayload(nlohmann::json(7)));
    r.set_identity("test-worker");
    r.set_request_workflow_task(true);
    auto* w = r.mutable_workflow_task_on_result();
    w->set_first_event_id(next_event_);
    *w->mutable_started_time() = ToProtoTime(clock_.Now());
    for (auto& c : commands) *w->add_commands() = std::move(c);
    w->set_return_new_events(true);
    return r;
  }
  static std::vector<E::AttributesCase> Kinds(const std::vector<E>& events) {
    std::vector<E::AttributesCase> out;
    for (const auto& e : events) out.push_back(e.attributes_case());
    return out;
  }
  // After a result recorded alone: its workflow task came back to the caller, as a
  // poll would hand it out (with the result in it), and nothing of the worker's task
  // was written.
  void ExpectRecordedAlone(const Result<v1::RespondActivityTaskCompletedResponse>& resp, const std::string& id) {
    ASSERT_TRUE(resp.ok()) << resp.status().ToString();
    EXPECT_FALSE(resp->workflow_task_applied());
    EXPECT_FALSE(resp->has_activity_task());
    EXPECT_EQ(resp->events_size(), 0);
    ASSERT_TRUE(resp->has_workflow_task());
    bool saw_result = false;
    for (const auto& e : resp->workflow_task().events()) saw_result |= e.has_activity_task_completed();
    EXPECT_TRUE(saw_result);
    auto events = Events(id);
    EXPECT_EQ(Count(events, E::kActivityTaskCompleted), 1);
    EXPECT_EQ(Count(events, E::kWorkflowTaskCompleted), 1);  // only the first task's
    EXPECT_EQ(Count(events, E::kWorkflowExecutionCompleted), 0);
  }

  int64_t next_event_ = 0;
};

TEST_F(OnResultTest, AppliedTaskCommitsWithTheResult) {
  auto activity = StartWithActivity("a");
  clock_.Advance(2s);
  auto req = OnResult(activity, {CompleteWorkflow()});
  auto resp = engine_->RespondActivityTaskCompleted(req);
  ASSERT_TRUE(resp.ok()) << resp.status().ToString();
  EXPECT_TRUE(resp->workflow_task_applied());
  EXPECT_FALSE(resp->has_workflow_task());
  EXPECT_EQ(Describe("a").info().status(), v1::WORKFLOW_EXECUTION_STATUS_COMPLETED);
  auto events = Events("a");
  auto tail = Kinds({events.end() - 6, events.end()});
  EXPECT_EQ(tail, (std::vector<E::AttributesCase>{E::kActivityTaskStarted, E::kActivityTaskCompleted,
                                                  E::kWorkflowTaskScheduled, E::kWorkflowTaskStarted,
                                                  E::kWorkflowTaskCompleted, E::kWorkflowExecutionCompleted}));
  // Laid out as the worker assumed, with the time its code saw.
  EXPECT_EQ(events[events.size() - 6].event_id(), next_event_);
  const auto& started = events[events.size() - 3];
  EXPECT_EQ(FromProtoTime(started.event_time()), FromProtoTime(req.workflow_task_on_result().started_time()));
  EXPECT_EQ(started.workflow_task_started().identity(), "test-worker");
  // The lease of the activity is gone: its result cannot be reported twice.
  EXPECT_EQ(CompleteActivity(activity.task_token(), "1").code(), StatusCode::kNotFound);
}

TEST_F(OnResultTest, AppliedTaskTakesItsEagerActivityAndReturnsItsEvents) {
  auto activity = StartWithActivity("a");
  auto req = OnResult(activity, {StartTimer("t", 1h), ScheduleActivity("act-2", 10s)});
  req.mutable_workflow_task_on_result()->set_eager_activity_command(2);
  auto resp = engine_->RespondActivityTaskCompleted(req);
  ASSERT_TRUE(resp.ok()) << resp.status().ToString();
  ASSERT_TRUE(resp->workflow_task_applied());
  ASSERT_TRUE(resp->has_activity_task());
  EXPECT_EQ(resp->activity_task().activity_id(), "act-2");
  // The events after the task's WorkflowTaskStarted: what the worker's state lacks.
  std::vector<E> returned(resp->events().begin(), resp->events().end());
  EXPECT_EQ(Kinds(returned),
            (std::vector<E::AttributesCase>{E::kWorkflowTaskCompleted, E::kTimerStarted, E::kActivityTaskScheduled}));
  EXPECT_EQ(returned[0].event_id(), next_event_ + 4);
  auto events = Events("a");
  EXPECT_EQ(events.back().event_id(), returned.back().event_id());
  // The eager activity's lease is real.
  ASSERT_TRUE(CompleteActivity(resp->activity_task().task_token(), "3").ok());
}

TEST_F(OnResultTest, ASignalMeanwhileRecordsTheResultAlone) {
  auto activity = StartWithActivity("a");
  ASSERT_TRUE(Signal("a", "go").ok());  // schedules a workflow task the worker did not see
  auto resp = engine_->RespondActivityTaskCompleted(OnResult(activity, {CompleteWorkflow()}));
  ExpectRecordedAlone(resp, "a");
  bool saw_signal = false;
  for (const auto& e : resp->workflow_task().events()) saw_signal |= e.has_workflow_execution_signaled();
  EXPECT_TRUE(saw_signal);
}

TEST_F(OnResultTest, AWrongFirstEventIdRecordsTheResultAlone) {
  auto activity = StartWithActivity("a");
  auto req = OnResult(activity, {CompleteWorkflow()});
  req.mutable_workflow_task_on_result()->set_first_event_id(next_event_ - 1);
  ExpectRecordedAlone(engine_->RespondActivityTaskCompleted(req), "a");
}

TEST_F(OnResultTest, AStartedTimeFarFromTheEnginesRecordsTheResultAlone) {
  auto activity = StartWithActivity("a");
  auto req = OnResult(activity, {CompleteWorkflow()});
  *req.mutable_workflow_task_on_result()->mutable_started_time() = ToProtoTime(clock_.Now() + 1min);
  ExpectRecordedAlone(engine_->RespondActivityTaskCompleted(req), "a");
}

TEST_F(OnResultTest, CommandsThatFailTheTaskRecordTheResultAlone) {
  auto activity = StartWithActivity("a");
  // An activity without an id fails a poller's task; here the result is kept and the
  // task goes back to the worker to run as usual.
  ExpectRecordedAlone(engine_->RespondActivityTaskCompleted(OnResult(activity, {ScheduleActivity("", 10s)})), "a");
}

TEST_F(OnResultTest, MalformedIsInvalidArgumentAndWritesNothing) {
  auto activity = StartWithActivity("a");
  const size_t before = Events("a").size();
  std::vector<std::pair<std::string, v1::RespondActivityTaskCompletedRequest>> bad;
  auto r = OnResult(activity, {CompleteWorkflow()});
  r.mutable_workflow_task_on_result()->set_eager_activity_command(1);  // not a ScheduleActivityTask
  bad.push_back({"eager_activity_command", r});
  r = OnResult(activity, {CompleteWorkflow()});
  r.mutable_workflow_task_on_result()->set_eager_activity_command(5);
  bad.push_back({"eager_activity_command", r});
  r = OnResult(activity, {CompleteWorkflow()});
  r.set_identity("");
  bad.push_back({"identity", r});
  r = OnResult(activity, {CompleteWorkflow()});
  r.mutable_workflow_task_on_result()->set_first_event_id(0);
  bad.push_back({"first_event_id", r});
  r = OnResult(activity, {CompleteWorkflow()});
  r.mutable_workflow_task_on_result()->mutable_started_time()->set_nanos(-5);
  bad.push_back({"started_time", r});
  for (const auto& [field, request] : bad) {
    auto resp = engine_->RespondActivityTaskCompleted(request);
    EXPECT_EQ(resp.status().code(), StatusCode::kInvalidArgument) << field;
    EXPECT_NE(resp.status().message().find(field), std::string::npos) << resp.status().message();
  }
  EXPECT_EQ(Events("a").size(), before);
  // The activity is still leased to the worker, whose proper report is applied.
  auto resp = engine_->RespondActivityTaskCompleted(OnResult(activity, {CompleteWorkflow()}));
  ASSERT_TRUE(resp.ok()) << resp.status().ToString();
  EXPECT_TRUE(resp->workflow_task_applied());
}

TEST_F(OnResultTest, AClosedRunReleasesItsOtherActivities) {
  // A run that closes voids the attempts of its other activities still out on workers.
  ASSERT_TRUE(Start("a").ok());
  auto t = PollWorkflowTask();
  ASSERT_TRUE(Complete(t.task_token(), {ScheduleActivity("act-1", 10s), ScheduleActivity("act-2", 10s)}).ok());
  auto first = PollActivity();
  auto second = PollActivity();
  v1::RespondActivityTaskCompletedRequest r;
  r.set_task_token(first.task_token());
  r.set_identity("test-worker");
  r.set_request_workflow_task(true);
  auto done = engine_->RespondActivityTaskCompleted(r);
  ASSERT_TRUE(done.ok() && done->has_workflow_task());
  ASSERT_TRUE(Complete(done->workflow_task().task_token(), {CompleteWorkflow()}).ok());
  EXPECT_EQ(CompleteActivity(second.task_token(), "1").code(), StatusCode::kNotFound);
  EXPECT_TRUE(engine_->Quiescent());  // no lease left behind
}

}  // namespace
}  // namespace keel
