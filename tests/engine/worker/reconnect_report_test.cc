// Worker::ReportRunningActivities: when the frontend tells of a reconnection, the worker
// heartbeats each activity whose code still runs, so that a restarted keeld takes it back.
// A report that fails as a busy keeld's would (UNAVAILABLE) is sent again after a backoff,
// a bounded number of times. The frontend here is the embedded engine behind a wrapper
// that fails heartbeats on demand and lets the test fire the reconnection; the worker has
// a ManualClock of its own, so its backoffs end when the test moves that clock.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <future>
#include <string>
#include <thread>

#include "engine/testing/test_environment.h"
#include "engine/workflow.h"
#include "tests/support/forwarding_frontend.h"
#include "tests/support/log_lines.h"

namespace keel {
namespace {

using namespace std::chrono_literals;
using testing::TestEnvironment;

class FlakyHeartbeats : public testing::ForwardingFrontend {
 public:
  using ForwardingFrontend::ForwardingFrontend;

  Result<v1::RecordActivityTaskHeartbeatResponse> RecordActivityTaskHeartbeat(
      const v1::RecordActivityTaskHeartbeatRequest& request) override {
    if (unavailable_left > 0) {
      --unavailable_left;
      ++heartbeats;
      return Unavailable("keeld is starting");
    }
    auto resp = inner_.RecordActivityTaskHeartbeat(request);
    delivered += resp.ok();
    ++heartbeats;  // last: the test waits on it
    return resp;
  }
  int AddReconnectListener(std::function<void()> fn) override {
    reconnected = std::move(fn);
    return 1;
  }
  void RemoveReconnectListener(int) override {}

  std::atomic<int> unavailable_left{0};
  std::atomic<int> heartbeats{0};
  std::atomic<int> delivered{0};
  std::function<void()> reconnected;
};

Task<std::string> RunBlock(WorkflowContext& ctx) {
  const ActivityOptions options{.start_to_close = std::chrono::hours(1)};  // (g++ 12: a
  std::string result = co_await ctx.ExecuteActivity<std::string>("block", options);  // local)
  co_return result;
}

class ReconnectReportTest : public ::testing::Test {
 protected:
  ReconnectReportTest() {
    registry_.RegisterWorkflow("run_block", RunBlock);
    registry_.RegisterActivity("block", [this](ActivityContext& ctx) {
      started_.set_value();
      release_.get_future().wait();
      cancelled_ = ctx.IsCancelled();
      return std::string("done");
    });
  }
  ~ReconnectReportTest() override {
    if (!released_) release_.set_value();  // a failed test must not leave the worker stuck
  }

  // Starts a workflow whose activity blocks, and returns once its code runs.
  void StartBlockedActivity() {
    worker_.Start();
    env_.client().StartWorkflow("run_block", {.id = "b1"});
    ASSERT_EQ(started_.get_future().wait_for(1min), std::future_status::ready);
  }

  // Fires the reconnection and returns when its report pass is over, with how many
  // backoffs it waited: each ends when the worker's clock moves past it.
  int Reconnect() {
    auto pass = std::async(std::launch::async, [this] { frontend_.reconnected(); });
    int backoffs = 0;
    while (pass.wait_for(0s) != std::future_status::ready) {
      if (worker_clock_.Waiters() == 0) {
        std::this_thread::yield();
        continue;
      }
      const int before = frontend_.heartbeats.load();
      worker_clock_.Advance(1600ms);  // at least any one backoff (0.2 to 1.6 s)
      ++backoffs;
      // The next try comes before the worker waits again.
      while (frontend_.heartbeats.load() == before &&
             pass.wait_for(0s) != std::future_status::ready) {
        std::this_thread::yield();
      }
    }
    pass.get();
    return backoffs;
  }

  // Lets the activity return and checks that the workflow completes with its result.
  void FinishActivity() {
    released_ = true;
    release_.set_value();
    EXPECT_EQ(env_.client().GetResult<std::string>("b1"), "done");
    worker_.Stop();
  }

  Registry registry_;
  std::promise<void> started_;  // (before the worker: they outlive its threads)
  std::promise<void> release_;
  bool released_ = false;
  std::atomic<bool> cancelled_{false};  // what the activity's code saw when it returned
  ManualClock worker_clock_;
  TestEnvironment env_{registry_, {.start_worker = false}};
  FlakyHeartbeats frontend_{env_.engine()};
  Worker worker_{frontend_, registry_, {.max_concurrent_activities = 1, .clock = &worker_clock_}};
};

TEST_F(ReconnectReportTest, AReportRefusedAsUnavailableIsSentAgain) {
  testing::LogLines lines;
  StartBlockedActivity();
  ASSERT_TRUE(frontend_.reconnected);
  frontend_.unavailable_left = 2;
  EXPECT_EQ(Reconnect(), 2);
  EXPECT_EQ(frontend_.heartbeats.load(), 3);
  EXPECT_EQ(frontend_.delivered.load(), 1);
  EXPECT_EQ(lines.Count("reported 1 running activities"), 1);
  FinishActivity();
  EXPECT_FALSE(cancelled_.load());
}

TEST_F(ReconnectReportTest, AReportGivesUpAfterAFewTries) {
  testing::LogLines lines;
  StartBlockedActivity();
  frontend_.unavailable_left = 1000;
  EXPECT_EQ(Reconnect(), 4);
  EXPECT_EQ(frontend_.heartbeats.load(), 5);
  EXPECT_EQ(frontend_.delivered.load(), 0);
  EXPECT_EQ(lines.Count("warning worker"), 1);
  EXPECT_EQ(lines.Count("could not report 1 running activities"), 1);
  frontend_.unavailable_left = 0;
  FinishActivity();  // the activity goes on regardless
}

TEST_F(ReconnectReportTest, AnAttemptKeeldNoLongerKnowsIsMarkedCancelled) {
  StartBlockedActivity();
  env_.client().TerminateWorkflow("b1", "gone");  // keeld no longer knows the attempt
  EXPECT_EQ(Reconnect(), 0);
  EXPECT_EQ(frontend_.heartbeats.load(), 1);
  EXPECT_EQ(frontend_.delivered.load(), 0);
  released_ = true;
  release_.set_value();
  worker_.Stop();
  EXPECT_TRUE(cancelled_.load());
}

TEST_F(ReconnectReportTest, AWorkerStoppingDuringABackoffEndsThePassWithoutWarning) {
  testing::LogLines lines;
  StartBlockedActivity();
  frontend_.unavailable_left = 1000;
  auto pass = std::async(std::launch::async, [this] { frontend_.reconnected(); });
  while (worker_clock_.Waiters() == 0) std::this_thread::yield();  // in its first backoff
  released_ = true;
  release_.set_value();
  worker_.Stop();
  pass.get();
  EXPECT_EQ(frontend_.heartbeats.load(), 1);
  EXPECT_EQ(lines.Count("could not report"), 0);
}

TEST_F(ReconnectReportTest, NothingIsReportedWithoutRunningActivities) {
  worker_.Start();
  ASSERT_TRUE(frontend_.reconnected);
  EXPECT_EQ(Reconnect(), 0);
  EXPECT_EQ(frontend_.heartbeats.load(), 0);
  worker_.Stop();
}

}  // namespace
}  // namespace keel
