// Eager dispatch through the Frontend, the test playing the worker: a workflow task's
// completion may take one activity it schedules for itself (eager_activity_command), and
// an activity's outcome may take the run's next workflow task (request_workflow_task).
// Either is leased to the caller at once; bad requests are refused and change nothing.
#include <gtest/gtest.h>

#include "tests/engine/core/engine_fixture.h"

namespace keel {
namespace {

using E = v1::HistoryEvent;

class EagerDispatchTest : public EngineTest {
 protected:
  Result<v1::RespondWorkflowTaskCompletedResponse> CompleteEager(const std::string& token,
                                                                 std::vector<v1::Command> commands, int eager,
                                                                 const std::string& identity = "test-worker") {
    v1::RespondWorkflowTaskCompletedRequest r;
    r.set_task_token(token);
    r.set_identity(identity);
    for (auto& c : commands) *r.add_commands() = std::move(c);
    r.set_eager_activity_command(eager);
    return engine_->RespondWorkflowTaskCompleted(r);
  }
  Result<v1::RespondActivityTaskCompletedResponse> CompleteActivityWantingTask(
      const std::string& token, const std::string& identity = "test-worker") {
    v1::RespondActivityTaskCompletedRequest r;
    r.set_task_token(token);
    *r.mutable_result()->add_payloads() = ToProto(JsonPayload(nlohmann::json(7)));
    r.set_identity(identity);
    r.set_request_workflow_task(true);
    return engine_->RespondActivityTaskCompleted(r);
  }
  static v1::Command OnQueue(v1::Command c, const std::string& queue) {
    c.mutable_schedule_activity_task()->set_task_queue(queue);
    return c;
  }
};

TEST_F(EagerDispatchTest, CompletionTakesTheActivityItSchedules) {
  ASSERT_TRUE(Start("a").ok());
  auto t = PollWorkflowTask();
  auto resp = CompleteEager(t.task_token(), {StartTimer("t", 1h), ScheduleActivity("act-1", 10s)}, 2);
  ASSERT_TRUE(resp.ok()) << resp.status().ToString();
  ASSERT_TRUE(resp->has_activity_task());
  const auto& task = resp->activity_task();
  EXPECT_EQ(task.activity_id(), "act-1");
  EXPECT_EQ(task.attempt(), 1);
  EXPECT_EQ(task.workflow_execution().workflow_id(), "a");
  // The lease is real: its completion is accepted once, and written as this worker's.
  ASSERT_TRUE(CompleteActivity(task.task_token(), "1").ok());
  EXPECT_EQ(CompleteActivity(task.task_token(), "1").code(), StatusCode::kNotFound);
  auto events = Events("a");
  EXPECT_EQ(Count(events, E::kActivityTaskCompleted), 1);
  for (const auto& e : events) {
    if (e.has_activity_task_started()) {
      EXPECT_EQ(e.activity_task_started().identity(), "test-worker");
    }
  }
}

TEST_F(EagerDispatchTest, WithoutEagerTheActivityWaitsForAPoll) {
  ASSERT_TRUE(Start("a").ok());
  auto t = PollWorkflowTask();
  auto resp = CompleteEager(t.task_token(), {ScheduleActivity("act-1", 10s)}, 0);
  ASSERT_TRUE(resp.ok());
  EXPECT_FALSE(resp->has_activity_task());
  EXPECT_EQ(PollActivity().activity_id(), "act-1");
}

TEST_F(EagerDispatchTest, AnActivityOnAnotherTaskQueueIsNotTaken) {
  ASSERT_TRUE(Start("a").ok());
  auto t = PollWorkflowTask();
  auto resp = CompleteEager(t.task_token(), {OnQueue(ScheduleActivity("gpu-1", 10s), "gpu")}, 1);
  ASSERT_TRUE(resp.ok());
  EXPECT_FALSE(resp->has_activity_task());  // this worker polls the workflow's queue only
  v1::PollActivityTaskQueueRequest r;
  r.set_identity("gpu-worker");
  r.set_task_queue("gpu");
  auto polled = engine_->PollActivityTaskQueue(r);
  ASSERT_TRUE(polled.ok());
  EXPECT_EQ(polled->activity_id(), "gpu-1");
}

TEST_F(EagerDispatchTest, BadEagerIndexIsInvalidArgumentAndWritesNothing) {
  ASSERT_TRUE(Start("a").ok());
  auto t = PollWorkflowTask();
  const size_t before = Events("a").size();
  for (int bad : {-1, 3, 1}) {  // out of range, and a command that schedules no activity
    auto resp = CompleteEager(t.task_token(), {StartTimer("t", 1h), ScheduleActivity("act-1", 10s)}, bad);
    EXPECT_EQ(resp.status().code(), StatusCode::kInvalidArgument) << bad;
    EXPECT_NE(resp.status().message().find("eager_activity_command"), std::string::npos);
  }
  auto no_identity = CompleteEager(t.task_token(), {ScheduleActivity("act-1", 10s)}, 1, "");
  EXPECT_EQ(no_identity.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(Events("a").size(), before);
  // The task is still leased to the worker, which completes it properly.
  ASSERT_TRUE(CompleteEager(t.task_token(), {ScheduleActivity("act-1", 10s)}, 1).ok());
}

TEST_F(EagerDispatchTest, ActivityOutcomeTakesTheNextWorkflowTask) {
  ASSERT_TRUE(Start("a").ok());
  auto t = PollWorkflowTask();
  auto scheduled = CompleteEager(t.task_token(), {ScheduleActivity("act-1", 10s)}, 1);
  ASSERT_TRUE(scheduled.ok() && scheduled->has_activity_task());
  auto done = CompleteActivityWantingTask(scheduled->activity_task().task_token());
  ASSERT_TRUE(done.ok()) << done.status().ToString();
  ASSERT_TRUE(done->has_workflow_task());
  const auto& next = done->workflow_task();
  EXPECT_EQ(next.previous_started_event_id(), t.started_event_id());
  // It carries what a poll would: the activity's outcome, ending with WorkflowTaskStarted.
  bool saw_result = false;
  for (const auto& e : next.events()) saw_result |= e.has_activity_task_completed();
  EXPECT_TRUE(saw_result);
  EXPECT_TRUE(next.events(next.events_size() - 1).has_workflow_task_started());
  ASSERT_TRUE(Complete(next.task_token(), {CompleteWorkflow()}).ok());
  EXPECT_EQ(Describe("a").info().status(), v1::WORKFLOW_EXECUTION_STATUS_COMPLETED);
}

TEST_F(EagerDispatchTest, NoNextWorkflowTaskWhileAnotherRuns) {
  ASSERT_TRUE(Start("a").ok());
  auto t = PollWorkflowTask();
  ASSERT_TRUE(Complete(t.task_token(), {ScheduleActivity("act-1", 10s), ScheduleActivity("act-2", 10s)}).ok());
  auto first = PollActivity();
  auto second = PollActivity();
  auto done = CompleteActivityWantingTask(first.task_token());
  ASSERT_TRUE(done.ok() && done->has_workflow_task());
  // The second outcome arrives while that task runs: it is buffered, nothing to take.
  auto again = CompleteActivityWantingTask(second.task_token());
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(again->has_workflow_task());
  auto completed = engine_->RespondWorkflowTaskCompleted([&] {
    v1::RespondWorkflowTaskCompletedRequest r;
    r.set_task_token(done->workflow_task().task_token());
    r.set_identity("test-worker");
    return r;
  }());
  ASSERT_TRUE(completed.ok());
  // The buffered outcome scheduled the next task, which a poll gets.
  auto polled = PollWorkflowTask();
  bool saw_second = false;
  for (const auto& e : polled.events()) saw_second |= e.has_activity_task_completed();
  EXPECT_TRUE(saw_second);
}

TEST_F(EagerDispatchTest, RequestingTheWorkflowTaskNeedsAnIdentity) {
  ASSERT_TRUE(Start("a").ok());
  auto t = PollWorkflowTask();
  ASSERT_TRUE(Complete(t.task_token(), {ScheduleActivity("act-1", 10s)}).ok());
  auto a = PollActivity();
  const size_t before = Events("a").size();
  auto resp = CompleteActivityWantingTask(a.task_token(), "");
  EXPECT_EQ(resp.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(Events("a").size(), before);
  EXPECT_TRUE(CompleteActivityWantingTask(a.task_token()).ok());
}

}  // namespace
}  // namespace keel
