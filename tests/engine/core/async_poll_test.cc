// Polls that hold no thread (Engine::PollWorkflowTaskQueue / PollActivityTaskQueue with
// `done`, as keeld serves them): a task queued already is answered on the calling thread;
// a later one reaches the waiting poll (handed over by the committing thread, or leased
// on the matcher's thread); a cancelled poll or one past its deadline ends empty and
// takes no task; a bad request is refused at once; closing the engine ends the wait.
#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <future>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

#include "tests/engine/core/engine_fixture.h"

namespace keel {
namespace {

template <typename Resp>
struct PollAnswer {
  std::promise<Result<Resp>> promise;
  std::future<Result<Resp>> future = promise.get_future();
  std::thread::id thread;
  Engine::Callback<Resp> Done() {
    return [this](Result<Resp> r) {
      thread = std::this_thread::get_id();
      promise.set_value(std::move(r));
    };
  }
  bool Ready() { return future.wait_for(0s) == std::future_status::ready; }
};
using WorkflowPoll = PollAnswer<v1::PollWorkflowTaskQueueResponse>;
using ActivityPoll = PollAnswer<v1::PollActivityTaskQueueResponse>;

class AsyncPollTest : public EngineTest {
 protected:
  static v1::PollWorkflowTaskQueueRequest WorkflowRequest(const std::string& identity = "async-worker") {
    v1::PollWorkflowTaskQueueRequest r;
    r.set_identity(identity);
    return r;
  }
  static v1::PollActivityTaskQueueRequest ActivityRequest() {
    v1::PollActivityTaskQueueRequest r;
    r.set_identity("async-worker");
    return r;
  }
};

TEST_F(AsyncPollTest, AQueuedTaskIsAnsweredAtOnceOnTheCallingThread) {
  ASSERT_TRUE(Start("a").ok());
  WorkflowPoll poll;
  engine_->PollWorkflowTaskQueue(WorkflowRequest(), 1h, nullptr, poll.Done());
  ASSERT_TRUE(poll.Ready());
  EXPECT_EQ(poll.thread, std::this_thread::get_id());
  auto t = poll.future.get();
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ(t->workflow_execution().workflow_id(), "a");
  EXPECT_TRUE(Complete(t->task_token(), {CompleteWorkflow()}).ok());
}

TEST_F(AsyncPollTest, AWaitingPollGetsTheTaskOfALaterStart) {
  WorkflowPoll poll;
  engine_->PollWorkflowTaskQueue(WorkflowRequest(), 1h, nullptr, poll.Done());
  EXPECT_FALSE(poll.Ready());
  ASSERT_TRUE(Start("a").ok());
  auto t = poll.future.get();
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ(t->workflow_execution().workflow_id(), "a");
  ASSERT_TRUE(Complete(t->task_token(), {ScheduleActivity("act-1", 10s)}).ok());

  ActivityPoll activity;
  engine_->PollActivityTaskQueue(ActivityRequest(), 1h, nullptr, activity.Done());
  ASSERT_TRUE(activity.Ready());  // scheduled by the completion above: queued already
  auto a = activity.future.get();
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_EQ(a->activity_id(), "act-1");
}

TEST_F(AsyncPollTest, AWaitingActivityPollIsLeasedItsTaskOnTheMatchersThread) {
  ASSERT_TRUE(Start("a").ok());
  auto t = PollWorkflowTask();
  ActivityPoll activity;
  engine_->PollActivityTaskQueue(ActivityRequest(), 1h, nullptr, activity.Done());
  EXPECT_FALSE(activity.Ready());
  ASSERT_TRUE(Complete(t.task_token(), {ScheduleActivity("act-1", 10s)}).ok());
  auto a = activity.future.get();
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_EQ(a->activity_id(), "act-1");
  EXPECT_NE(activity.thread, std::this_thread::get_id());
  ASSERT_TRUE(CompleteActivity(a->task_token(), "1").ok());  // the lease is real
  EXPECT_EQ(Count(Events("a"), v1::HistoryEvent::kActivityTaskCompleted), 1);
}

TEST_F(AsyncPollTest, ACancelledPollEndsEmptyAndTheTaskWaitsForTheNextPoller) {
  auto cancel = std::make_shared<PollCancel>();
  WorkflowPoll poll;
  engine_->PollWorkflowTaskQueue(WorkflowRequest("gone-worker"), 1h, cancel, poll.Done());
  EXPECT_FALSE(poll.Ready());
  cancel->Cancel();
  ASSERT_TRUE(poll.Ready());
  auto empty = poll.future.get();
  ASSERT_TRUE(empty.ok()) << empty.status().ToString();
  EXPECT_TRUE(empty->task_token().empty());
  ASSERT_TRUE(Start("a").ok());
  auto t = PollWorkflowTask();  // not leased to the poller that hung up
  EXPECT_EQ(t.workflow_execution().workflow_id(), "a");

  // A poll cancelled before its wait began ends as soon as it would wait, and one whose
  // caller is gone takes no task: a task queued now waits for the next poller.
  auto early = std::make_shared<PollCancel>();
  early->Cancel();
  WorkflowPoll second;
  engine_->PollWorkflowTaskQueue(WorkflowRequest("gone-worker"), 1h, early, second.Done());
  ASSERT_TRUE(second.Ready());
  EXPECT_TRUE(second.future.get()->task_token().empty());
  ASSERT_TRUE(Start("b").ok());
  WorkflowPoll third;
  engine_->PollWorkflowTaskQueue(WorkflowRequest("gone-worker"), 1h, early, third.Done());
  ASSERT_TRUE(third.Ready());
  EXPECT_TRUE(third.future.get()->task_token().empty());
  EXPECT_EQ(PollWorkflowTask().workflow_execution().workflow_id(), "b");
}

TEST_F(AsyncPollTest, ACancelAfterTheTaskWasHandedOverLeavesItForTheNextPoller) {
  // An activity poll waits; the activity is queued by a completion and handed to it on
  // the matcher's thread; the cancel comes as that happens. Whichever comes first, the
  // task is leased at most once: to this poll (answered with it) or to the next poller.
  ASSERT_TRUE(Start("a").ok());
  auto t = PollWorkflowTask();
  auto cancel = std::make_shared<PollCancel>();
  ActivityPoll activity;
  engine_->PollActivityTaskQueue(ActivityRequest(), 1h, cancel, activity.Done());
  ASSERT_TRUE(Complete(t.task_token(), {ScheduleActivity("act-1", 10s)}).ok());
  cancel->Cancel();
  auto got = activity.future.get();
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  if (got->task_token().empty()) {
    EXPECT_EQ(PollActivity().activity_id(), "act-1");  // left for the next poller
  } else {
    EXPECT_EQ(got->activity_id(), "act-1");  // leased before the cancel
  }
}

TEST_F(AsyncPollTest, APollEndsEmptyAfterMaxWait) {
  WorkflowPoll poll;
  engine_->PollWorkflowTaskQueue(WorkflowRequest(), 5s, nullptr, poll.Done());
  clock_.Advance(4s);
  EXPECT_FALSE(poll.Ready());
  clock_.Advance(1s);
  auto empty = poll.future.get();
  ASSERT_TRUE(empty.ok()) << empty.status().ToString();
  EXPECT_TRUE(empty->task_token().empty());
  ASSERT_TRUE(Start("a").ok());
  EXPECT_EQ(PollWorkflowTask().workflow_execution().workflow_id(), "a");
}

TEST_F(AsyncPollTest, ABadPollIsRefusedAtOnce) {
  WorkflowPoll poll;
  engine_->PollWorkflowTaskQueue(WorkflowRequest(""), 1h, nullptr, poll.Done());  // no identity
  ASSERT_TRUE(poll.Ready());
  EXPECT_EQ(poll.future.get().status().code(), StatusCode::kInvalidArgument);
  ActivityPoll activity;
  auto bad = ActivityRequest();
  bad.set_task_queue(std::string(1000, 'q'));
  engine_->PollActivityTaskQueue(bad, 1h, nullptr, activity.Done());
  ASSERT_TRUE(activity.Ready());
  EXPECT_EQ(activity.future.get().status().code(), StatusCode::kInvalidArgument);
}

TEST_F(AsyncPollTest, ClosingTheEngineEndsAWaitingPoll) {
  WorkflowPoll poll;
  ActivityPoll activity;
  engine_->PollWorkflowTaskQueue(WorkflowRequest(), 1h, std::make_shared<PollCancel>(), poll.Done());
  engine_->PollActivityTaskQueue(ActivityRequest(), 1h, nullptr, activity.Done());
  engine_.reset();
  EXPECT_EQ(poll.future.get().status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(activity.future.get().status().code(), StatusCode::kUnavailable);
}

TEST_F(AsyncPollTest, ManyAsyncPollersTakeEveryTaskOnce) {
  // 8 threads, each polling again once answered (not from the callback: it may run under
  // a run's lock), and 50 runs started: every run's first task reaches one poller once.
  std::mutex mu;
  std::condition_variable cv;
  std::map<std::string, int> seen;
  std::atomic<bool> stop{false};
  std::vector<std::thread> pollers;
  for (int i = 0; i < 8; ++i) {
    pollers.emplace_back([&] {
      while (!stop) {
        WorkflowPoll poll;
        engine_->PollWorkflowTaskQueue(WorkflowRequest(), 1h, nullptr, poll.Done());
        auto r = poll.future.get();
        if (!r.ok()) return;  // the engine closes
        if (r->task_token().empty()) continue;
        std::lock_guard<std::mutex> g(mu);
        ++seen[r->workflow_execution().workflow_id()];
        cv.notify_all();
      }
    });
  }
  for (int i = 0; i < 50; ++i) ASSERT_TRUE(Start("w" + std::to_string(i)).ok());
  {
    std::unique_lock<std::mutex> lock(mu);
    cv.wait(lock, [&] { return seen.size() == 50; });
  }
  stop = true;
  engine_->BeginShutdown();  // ends the waiting polls (UNAVAILABLE)
  for (auto& p : pollers) p.join();
  for (const auto& [id, n] : seen) EXPECT_EQ(n, 1) << id;
}

}  // namespace
}  // namespace keel
