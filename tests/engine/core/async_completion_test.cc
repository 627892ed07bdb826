// The Callback API of the start and the two completions a server answers without
// blocking (Engine::StartWorkflowExecution / RespondWorkflowTaskCompleted /
// RespondActivityTaskCompleted with `done`): the
// answer comes once the transition is written, from the store's writer thread (as under
// load: the tests send every asynchronous commit there); a refused call is answered at
// once on the calling thread and writes nothing, with the run unlocked; closing the
// engine waits for the answers in flight.
#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <thread>

#include "tests/engine/core/engine_fixture.h"

namespace keel {
namespace {

using E = v1::HistoryEvent;

class AsyncCompletionTest : public EngineTest {
 protected:
  void SetUp() override {
    every_async_commit_on_writer_thread_ = true;  // as under load: answered by keel-writer
    EngineTest::SetUp();
  }
  template <typename Resp>
  struct Answer {
    std::optional<Result<Resp>> result;
    std::thread::id thread;
  };
  Answer<v1::RespondWorkflowTaskCompletedResponse> CompleteAsync(const v1::RespondWorkflowTaskCompletedRequest& r) {
    std::promise<Answer<v1::RespondWorkflowTaskCompletedResponse>> p;
    engine_->RespondWorkflowTaskCompleted(r, [&](Result<v1::RespondWorkflowTaskCompletedResponse> result) {
      p.set_value({std::move(result), std::this_thread::get_id()});
    });
    return p.get_future().get();
  }
  Answer<v1::RespondActivityTaskCompletedResponse> CompleteActivityAsync(const v1::RespondActivityTaskCompletedRequest& r) {
    std::promise<Answer<v1::RespondActivityTaskCompletedResponse>> p;
    engine_->RespondActivityTaskCompleted(r, [&](Result<v1::RespondActivityTaskCompletedResponse> result) {
      p.set_value({std::move(result), std::this_thread::get_id()});
    });
    return p.get_future().get();
  }
  static v1::RespondActivityTaskCompletedRequest ActivityResult(const std::string& token) {
    v1::RespondActivityTaskCompletedRequest r;
    r.set_task_token(token);
    r.set_identity("test-worker");
    *r.mutable_result()->add_payloads() = ToProto(JsonPayload(nlohmann::json(7)));
    return r;
  }
};

TEST_F(AsyncCompletionTest, AWorkflowRunsToItsEndThroughAsyncCompletions) {
  ASSERT_TRUE(Start("a").ok());
  auto t = PollWorkflowTask();
  v1::RespondWorkflowTaskCompletedRequest first;
  first.set_task_token(t.task_token());
  first.set_identity("test-worker");
  *first.add_commands() = ScheduleActivity("act-1", 10s);
  first.set_eager_activity_command(1);
  auto scheduled = CompleteAsync(first);
  ASSERT_TRUE(scheduled.result->ok()) << scheduled.result->status().ToString();
  EXPECT_NE(scheduled.thread, std::this_thread::get_id());  // the writer answered
  // Written before the answer: the history already has it.
  EXPECT_EQ(Count(Events("a"), E::kActivityTaskScheduled), 1);
  ASSERT_TRUE((*scheduled.result)->has_activity_task());

  auto v = ActivityResult((*scheduled.result)->activity_task().task_token());
  v.set_request_workflow_task(true);
  auto done = CompleteActivityAsync(v);
  ASSERT_TRUE(done.result->ok()) << done.result->status().ToString();
  EXPECT_NE(done.thread, std::this_thread::get_id());
  EXPECT_EQ(Count(Events("a"), E::kActivityTaskCompleted), 1);
  ASSERT_TRUE((*done.result)->has_workflow_task());  // the next task, leased to the caller

  v1::RespondWorkflowTaskCompletedRequest last;
  last.set_task_token((*done.result)->workflow_task().task_token());
  last.set_identity("test-worker");
  *last.add_commands() = CompleteWorkflow();
  auto closed = CompleteAsync(last);
  ASSERT_TRUE(closed.result->ok()) << closed.result->status().ToString();
  EXPECT_EQ(Describe("a").info().status(), v1::WORKFLOW_EXECUTION_STATUS_COMPLETED);
  // The task's lease is gone with the answer: a repeat is refused.
  auto again = CompleteAsync(last);
  EXPECT_EQ(again.result->status().code(), StatusCode::kNotFound);
}

TEST_F(AsyncCompletionTest, ARefusedCallIsAnsweredAtOnceAndWritesNothing) {
  ASSERT_TRUE(Start("a").ok());
  auto t = PollWorkflowTask();
  const size_t before = Events("a").size();

  v1::RespondWorkflowTaskCompletedRequest bad_token;
  bad_token.set_task_token("not a token");
  auto refused = CompleteAsync(bad_token);
  EXPECT_EQ(refused.result->status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(refused.thread, std::this_thread::get_id());

  v1::RespondWorkflowTaskCompletedRequest bad_eager;
  bad_eager.set_task_token(t.task_token());
  bad_eager.set_identity("test-worker");
  *bad_eager.add_commands() = StartTimer("t", 1h);
  bad_eager.set_eager_activity_command(1);  // names a timer, not an activity
  EXPECT_EQ(CompleteAsync(bad_eager).result->status().code(), StatusCode::kInvalidArgument);

  auto unknown = CompleteActivityAsync(ActivityResult("not a token"));
  EXPECT_EQ(unknown.result->status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(unknown.thread, std::this_thread::get_id());
  EXPECT_EQ(Events("a").size(), before);
}

// An answer may call the engine about the same run: it comes with the run unlocked, on
// the refusals found under the run's lock too (a repeated completion here).
TEST_F(AsyncCompletionTest, AnAnswerMayCallTheEngineAboutItsRun) {
  ASSERT_TRUE(Start("a").ok());
  auto t = PollWorkflowTask();
  v1::RespondWorkflowTaskCompletedRequest r;
  r.set_task_token(t.task_token());
  r.set_identity("test-worker");
  *r.add_commands() = StartTimer("t", 1h);
  for (StatusCode expected : {StatusCode::kOk, StatusCode::kNotFound}) {
    std::promise<std::pair<StatusCode, int>> p;
    engine_->RespondWorkflowTaskCompleted(r, [&](Result<v1::RespondWorkflowTaskCompletedResponse> result) {
      p.set_value({result.status().code(), Describe("a").pending_timers_size()});
    });
    auto [code, timers] = p.get_future().get();
    EXPECT_EQ(code, expected);
    EXPECT_EQ(timers, 1);
  }
}

// ---- a start that waits for its result (the Callback API's StartWorkflowExecution) ----

struct StartAnswer {
  std::promise<Result<v1::StartWorkflowExecutionResponse>> promise;
  std::future<Result<v1::StartWorkflowExecutionResponse>> future = promise.get_future();
  bool ready() { return future.wait_for(std::chrono::seconds(0)) == std::future_status::ready; }
};

v1::StartWorkflowExecutionRequest StartAndWait(const std::string& id) {
  v1::StartWorkflowExecutionRequest r;
  r.set_workflow_id(id);
  r.set_workflow_type("wf");
  r.set_wait_for_result(true);
  return r;
}

TEST_F(AsyncCompletionTest, AStartThatWaitsIsAnsweredWhenTheRunCloses) {
  const auto request = StartAndWait("a");
  StartAnswer answer;
  std::thread::id answered_on;
  engine_->StartWorkflowExecution(request, std::chrono::hours(1), [&](auto result) {
    answered_on = std::this_thread::get_id();
    answer.promise.set_value(std::move(result));
  });
  auto t = PollWorkflowTask();  // the run exists and its first task is out
  EXPECT_FALSE(answer.ready());
  ASSERT_TRUE(Complete(t.task_token(), {CompleteWorkflow()}).ok());
  // Answered by the close's commit itself, with the result it wrote: no other thread
  // had to look for it.
  ASSERT_TRUE(answer.ready());
  EXPECT_EQ(answered_on, std::this_thread::get_id());
  auto resp = answer.future.get();
  ASSERT_TRUE(resp.ok()) << resp.status().ToString();
  EXPECT_TRUE(resp->started());
  EXPECT_EQ(resp->run_id(), Describe("a").info().execution().run_id());
  EXPECT_EQ(resp->result().status(), v1::WORKFLOW_EXECUTION_STATUS_COMPLETED);
}

TEST_F(AsyncCompletionTest, AStartThatWaitsFollowsAContinueAsNewToTheLastRunsResult) {
  const auto request = StartAndWait("a");
  StartAnswer answer;
  engine_->StartWorkflowExecution(request, std::chrono::hours(1),
                                  [&](auto result) { answer.promise.set_value(std::move(result)); });
  auto first = PollWorkflowTask();
  v1::Command again;
  again.mutable_continue_as_new_workflow_execution()->set_workflow_type("wf");
  ASSERT_TRUE(Complete(first.task_token(), {again}).ok());
  auto second = PollWorkflowTask();
  EXPECT_NE(second.workflow_execution().run_id(), first.workflow_execution().run_id());
  EXPECT_FALSE(answer.ready());  // the first run closed, the start waits on
  v1::Command done;
  done.mutable_complete_workflow_execution()->mutable_result()->add_payloads()->set_data("42");
  ASSERT_TRUE(Complete(second.task_token(), {done}).ok());
  auto resp = answer.future.get();
  ASSERT_TRUE(resp.ok()) << resp.status().ToString();
  EXPECT_EQ(resp->run_id(), first.workflow_execution().run_id());  // the run this start made
  EXPECT_EQ(resp->result().status(), v1::WORKFLOW_EXECUTION_STATUS_COMPLETED);
  EXPECT_EQ(resp->result().run_id(), second.workflow_execution().run_id());
  ASSERT_EQ(resp->result().result().payloads_size(), 1);
  EXPECT_EQ(resp->result().result().payloads(0).data(), "42");
}

TEST_F(AsyncCompletionTest, AStartsWaitEndsEmptyAtItsDeadline) {
  const auto request = StartAndWait("a");
  StartAnswer answer;
  engine_->StartWorkflowExecution(request, std::chrono::seconds(5),
                                  [&](auto result) { answer.promise.set_value(std::move(result)); });
  PollWorkflowTask();  // the start is committed (its wait counts from the call)
  clock_.Advance(std::chrono::seconds(4));
  EXPECT_FALSE(answer.ready());
  clock_.Advance(std::chrono::seconds(1));
  auto resp = answer.future.get();
  ASSERT_TRUE(resp.ok()) << resp.status().ToString();
  EXPECT_TRUE(resp->started());
  EXPECT_EQ(resp->result().status(), v1::WORKFLOW_EXECUTION_STATUS_RUNNING);  // nothing yet: ask again
}

TEST_F(AsyncCompletionTest, ARefusedStartIsAnsweredAtOnce) {
  ASSERT_TRUE(Start("a").ok());
  const auto request = StartAndWait("a");
  std::optional<Result<v1::StartWorkflowExecutionResponse>> answer;
  engine_->StartWorkflowExecution(request, std::chrono::hours(1), [&](auto result) { answer.emplace(std::move(result)); });
  ASSERT_TRUE(answer.has_value());
  EXPECT_EQ(answer->status().code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(ExecutionCount(), 1);
}

// Closing the engine answers a waiting start: the run exists, its result is not there.
TEST_F(AsyncCompletionTest, ClosingTheEngineAnswersAWaitingStart) {
  const auto request = StartAndWait("a");
  StartAnswer answer;
  engine_->StartWorkflowExecution(request, std::chrono::hours(1),
                                  [&](auto result) { answer.promise.set_value(std::move(result)); });
  PollWorkflowTask();
  Reopen();
  auto resp = answer.future.get();
  ASSERT_TRUE(resp.ok()) << resp.status().ToString();
  EXPECT_TRUE(resp->started());
  EXPECT_FALSE(resp->has_result());
}

// A result read that waits holds no thread: answered when the run closes, or empty
// ("running", ask again) at its deadline.
class AwaitResultTest : public AsyncCompletionTest {
 protected:
  std::future<Result<v1::GetWorkflowExecutionResultResponse>> Read(const std::string& id, Duration max_wait) {
    v1::GetWorkflowExecutionResultRequest r;
    r.mutable_workflow_execution()->set_workflow_id(id);
    r.set_wait(true);
    auto answer = std::make_shared<std::promise<Result<v1::GetWorkflowExecutionResultResponse>>>();
    engine_->GetWorkflowExecutionResult(r, max_wait, [answer](auto result) { answer->set_value(std::move(result)); });
    return answer->get_future();
  }
};

TEST_F(AwaitResultTest, AWaitingResultReadIsAnsweredWhenTheRunCloses) {
  ASSERT_TRUE(Start("a").ok());
  auto answer = Read("a", std::chrono::hours(1));
  auto t = PollWorkflowTask();
  EXPECT_EQ(answer.wait_for(std::chrono::seconds(0)), std::future_status::timeout);
  ASSERT_TRUE(Complete(t.task_token(), {CompleteWorkflow()}).ok());
  auto result = answer.get();
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(result->status(), v1::WORKFLOW_EXECUTION_STATUS_COMPLETED);
}

TEST_F(AwaitResultTest, AWaitingResultReadEndsEmptyAtItsDeadline) {
  ASSERT_TRUE(Start("b").ok());
  auto answer = Read("b", std::chrono::seconds(5));
  clock_.Advance(std::chrono::seconds(4));
  EXPECT_EQ(answer.wait_for(std::chrono::seconds(0)), std::future_status::timeout);
  clock_.Advance(std::chrono::seconds(1));
  auto result = answer.get();
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(result->status(), v1::WORKFLOW_EXECUTION_STATUS_RUNNING);
  EXPECT_FALSE(result->run_id().empty());
}

TEST_F(AwaitResultTest, AReadOfAnUnknownRunIsNotFoundAtOnce) {
  auto answer = Read("nobody", std::chrono::hours(1));
  ASSERT_EQ(answer.wait_for(std::chrono::seconds(0)), std::future_status::ready);
  EXPECT_EQ(answer.get().status().code(), StatusCode::kNotFound);
}

// Closing the engine right after the calls: every one is still written and answered.
TEST_F(AsyncCompletionTest, ClosingTheEngineAnswersTheCallsInFlight) {
  constexpr int kRuns = 20;
  std::vector<std::string> tokens;
  for (int i = 0; i < kRuns; ++i) {
    const std::string id = "r" + std::to_string(i);
    ASSERT_TRUE(Start(id).ok());
    auto t = PollWorkflowTask();
    ASSERT_TRUE(Complete(t.task_token(), {ScheduleActivity("act", 10s)}).ok());
    tokens.push_back(PollActivity().task_token());
  }
  std::vector<v1::RespondActivityTaskCompletedRequest> requests;
  for (const auto& token : tokens) requests.push_back(ActivityResult(token));
  std::atomic<int> ok{0};
  for (const auto& r : requests) {
    engine_->RespondActivityTaskCompleted(r, [&](auto result) {
      if (result.ok()) ++ok;
    });
  }
  Reopen();
  EXPECT_EQ(ok, kRuns);
  for (int i = 0; i < kRuns; ++i) EXPECT_EQ(Count(Events("r" + std::to_string(i)), E::kActivityTaskCompleted), 1);
}

}  // namespace
}  // namespace keel
