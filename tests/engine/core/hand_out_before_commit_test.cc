// A workflow task handed to a waiting poller while the transition that schedules it
// commits (EngineImpl::HandOutBeforeCommit): the poller gets what a poll after the commit
// would have given, its completion works, and when the commit fails the task is void and
// the run is as it was. A store that holds a commit until told to finish it (or fail it,
// standing in for a failing disk) shows the task is out while the commit is not done.
#include <gtest/gtest.h>

#include <condition_variable>
#include <mutex>
#include <utility>
#include <future>
#include <thread>

#include "engine/store/sqlite_store.h"
#include "tests/engine/core/engine_fixture.h"

namespace keel {
namespace {

using E = v1::HistoryEvent;

// Holds the next commit until Finish, which lets it commit or fail it.
class HeldStore : public store::Store {
 public:
  explicit HeldStore(std::unique_ptr<store::Store> inner) : inner_(std::move(inner)) {}

  void HoldNextCommit() {
    std::lock_guard<std::mutex> g(mu_);
    hold_ = true;
  }
  // Returns once the held commit has arrived (the task is handed out before that).
  void AwaitHeld() {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] { return held_; });
  }
  void Finish(bool fail) {
    std::lock_guard<std::mutex> g(mu_);
    hold_ = false;
    held_ = false;
    fail_ = fail;
    cv_.notify_all();
  }

  Status Commit(store::Transition t) override {
    {
      std::unique_lock<std::mutex> lock(mu_);
      if (hold_) {
        held_ = true;
        cv_.notify_all();
        cv_.wait(lock, [&] { return !hold_; });
        if (std::exchange(fail_, false)) return Internal("injected commit failure");
      }
    }
    return inner_->Commit(std::move(t));
  }
  Result<std::optional<store::ExecutionRow>> GetExecution(int64_t id) override { return inner_->GetExecution(id); }
  Result<std::optional<store::ExecutionRow>> GetExecutionByRunId(const std::string& run_id) override {
    return inner_->GetExecutionByRunId(run_id);
  }
  Result<std::optional<store::ExecutionRow>> GetCurrentExecution(const std::string& ns, const std::string& id) override {
    return inner_->GetCurrentExecution(ns, id);
  }
  Result<std::vector<store::ExecutionRow>> ListExecutions(const store::ListFilter& f) override {
    return inner_->ListExecutions(f);
  }
  Result<std::vector<store::HistoryBatchRow>> ReadHistory(int64_t id, int64_t from, int64_t to) override {
    return inner_->ReadHistory(id, from, to);
  }
  Result<std::vector<store::TaskRow>> LoadTasks() override { return inner_->LoadTasks(); }
  Result<std::vector<store::TimerRow>> LoadTimers(int64_t after, int64_t until) override {
    return inner_->LoadTimers(after, until);
  }
  Result<std::optional<int64_t>> NextTimerAfter(int64_t after) override { return inner_->NextTimerAfter(after); }
  Result<int64_t> MaxExecId() override { return inner_->MaxExecId(); }
  Result<int64_t> MaxTaskSeq() override { return inner_->MaxTaskSeq(); }
  Status RecordCleanClose(const store::CleanClose& close) override { return inner_->RecordCleanClose(close); }
  Result<std::optional<store::CleanClose>> TakeCleanClose() override { return inner_->TakeCleanClose(); }

 private:
  std::unique_ptr<store::Store> inner_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool hold_ = false;
  bool held_ = false;
  bool fail_ = false;
};

class HandOutBeforeCommitTest : public EngineTest {
 protected:
  void SetUp() override {
    store::SqliteStoreOptions so;
    so.path = dir_.File("keel.db");
    auto sqlite = store::SqliteStore::Open(so);
    ASSERT_TRUE(sqlite.ok()) << sqlite.status().ToString();
    auto failing = std::make_unique<HeldStore>(std::move(sqlite).value());
    store_ = failing.get();
    EngineOptions o;
    o.clock = &clock_;
    o.random = &random_;
    auto e = Engine::Open(o, std::move(failing));
    ASSERT_TRUE(e.ok()) << e.status().ToString();
    engine_ = std::move(e).value();
  }

  // A poll that is waiting when this returns. The engine's timer runner is the only
  // other thread waiting on the clock, so two waiters mean the poll waits too.
  std::future<v1::PollWorkflowTaskQueueResponse> WaitingPoll() {
    auto poll = std::async(std::launch::async, [this] { return PollWorkflowTask(); });
    while (clock_.Waiters() < 2) std::this_thread::yield();
    return poll;
  }

  // Starts run "a" and completes its first task (polled as usual) with `commands`.
  void StartWithFirstTask(std::vector<v1::Command> commands) {
    ASSERT_TRUE(Start("a").ok());
    auto first = PollWorkflowTask();
    ASSERT_TRUE(Complete(first.task_token(), std::move(commands)).ok());
  }

  static std::vector<E::AttributesCase> Kinds(const google::protobuf::RepeatedPtrField<E>& events) {
    std::vector<E::AttributesCase> out;
    for (const auto& e : events) out.push_back(e.attributes_case());
    return out;
  }

  HeldStore* store_ = nullptr;
};

TEST_F(HandOutBeforeCommitTest, AWaitingPollerGetsTheTaskAsAPollWouldWhileItCommits) {
  auto poll = WaitingPoll();
  store_->HoldNextCommit();
  auto start = std::async(std::launch::async, [this] { return Start("a"); });
  auto t = poll.get();  // while the start's commit is held
  EXPECT_EQ(t.workflow_type(), "wf");
  EXPECT_EQ(t.attempt(), 1);
  EXPECT_EQ(t.previous_started_event_id(), 0);
  EXPECT_EQ(t.started_event_id(), 3);
  EXPECT_EQ(Kinds(t.events()), (std::vector<E::AttributesCase>{E::kWorkflowExecutionStarted, E::kWorkflowTaskScheduled,
                                                                E::kWorkflowTaskStarted}));
  EXPECT_EQ(t.events(2).workflow_task_started().identity(), "test-worker");
  store_->AwaitHeld();
  // The worker's completion, sent meanwhile, waits for the run's commit.
  auto complete = std::async(std::launch::async, [&] { return Complete(t.task_token(), {CompleteWorkflow()}); });
  store_->Finish(/*fail=*/false);
  auto r = start.get();
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(t.workflow_execution().run_id(), r->run_id());
  ASSERT_TRUE(complete.get().ok());
  auto events = Events("a");
  EXPECT_EQ(events.back().attributes_case(), E::kWorkflowExecutionCompleted);
  EXPECT_EQ(events[2].workflow_task_started().identity(), "test-worker");
}

TEST_F(HandOutBeforeCommitTest, AStartThatFailsToCommitVoidsTheTaskItHandedOut) {
  auto poll = WaitingPoll();
  store_->HoldNextCommit();
  auto start = std::async(std::launch::async, [this] { return Start("a"); });
  auto t = poll.get();
  ASSERT_FALSE(t.task_token().empty());
  store_->AwaitHeld();
  store_->Finish(/*fail=*/true);
  EXPECT_FALSE(start.get().ok());
  EXPECT_EQ(Complete(t.task_token(), {CompleteWorkflow()}).code(), StatusCode::kNotFound);
  EXPECT_EQ(ExecutionCount(), 0);
  EXPECT_TRUE(engine_->Quiescent());  // no lease left behind
  // The workflow id is free and the engine carries on.
  ASSERT_TRUE(Start("a").ok());
  FinishWorkflow();
}

TEST_F(HandOutBeforeCommitTest, ASignalThatFailsToCommitLeavesTheRunAsItWas) {
  StartWithFirstTask({});  // the run waits, no task pending
  auto poll = WaitingPoll();
  store_->HoldNextCommit();
  auto signal = std::async(std::launch::async, [this] { return Signal("a", "go"); });
  auto t = poll.get();
  ASSERT_FALSE(t.task_token().empty());
  store_->AwaitHeld();
  store_->Finish(/*fail=*/true);
  EXPECT_FALSE(signal.get().ok());
  EXPECT_EQ(Complete(t.task_token(), {CompleteWorkflow()}).code(), StatusCode::kNotFound);
  auto d = Describe("a");
  EXPECT_FALSE(d.has_pending_workflow_task());
  EXPECT_EQ(d.info().status(), v1::WORKFLOW_EXECUTION_STATUS_RUNNING);
  EXPECT_EQ(Count(Events("a"), E::kWorkflowExecutionSignaled), 0);
  // The next signal commits and its task is handed out (and completed) as usual.
  auto again = WaitingPoll();
  ASSERT_TRUE(Signal("a", "go").ok());
  auto t2 = again.get();
  EXPECT_EQ(Kinds(t2.events()).back(), E::kWorkflowTaskStarted);
  ASSERT_TRUE(Complete(t2.task_token(), {CompleteWorkflow()}).ok());
  EXPECT_EQ(Describe("a").info().status(), v1::WORKFLOW_EXECUTION_STATUS_COMPLETED);
}

TEST_F(HandOutBeforeCommitTest, AFiredTimerHandsOutItsTaskWhileItCommits) {
  StartWithFirstTask({StartTimer("t", 1s)});
  auto poll = WaitingPoll();
  store_->HoldNextCommit();
  clock_.Advance(1s);
  auto t = poll.get();  // while the timer's commit is held
  ASSERT_GE(t.events_size(), 3);
  EXPECT_EQ(t.events(t.events_size() - 3).attributes_case(), E::kTimerFired);
  store_->AwaitHeld();
  store_->Finish(/*fail=*/false);
  ASSERT_TRUE(Complete(t.task_token(), {CompleteWorkflow()}).ok());
  EXPECT_EQ(Describe("a").info().status(), v1::WORKFLOW_EXECUTION_STATUS_COMPLETED);
}

TEST_F(HandOutBeforeCommitTest, AnActivitysWorkerKeepsTheTaskItAskedFor) {
  StartWithFirstTask({ScheduleActivity("act-1", 10s)});
  auto activity = PollActivity();
  auto poll = WaitingPoll();
  v1::RespondActivityTaskCompletedRequest r;
  r.set_task_token(activity.task_token());
  r.set_identity("activity-worker");
  r.set_request_workflow_task(true);  // it holds the run: the next task is its to run
  auto done = engine_->RespondActivityTaskCompleted(r);
  ASSERT_TRUE(done.ok()) << done.status().ToString();
  ASSERT_TRUE(done->has_workflow_task());
  ASSERT_TRUE(Complete(done->workflow_task().task_token(), {CompleteWorkflow()}).ok());
  clock_.Advance(EngineOptions().poll_timeout);
  EXPECT_TRUE(poll.get().task_token().empty());  // the waiting poller got nothing
}

}  // namespace
}  // namespace keel
