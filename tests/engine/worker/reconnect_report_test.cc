// Worker::ReportRunningActivities: when the frontend tells of a reconnection, the worker
// heartbeats each activity whose code still runs, so that a restarted keeld takes it back.
// A report that fails as a busy keeld's would (UNAVAILABLE) is sent again after a backoff,
// a bounded number of times. The frontend here is the embedded engine behind a wrapper
// that fails heartbeats on demand and lets the test fire the reconnection.
#include <gtest/gtest.h>

#include <atomic>
#include <functional>
#include <future>
#include <string>

#include "engine/testing/test_environment.h"
#include "engine/workflow.h"
#include "tests/support/forwarding_frontend.h"

namespace keel {
namespace {

using testing::TestEnvironment;

class FlakyHeartbeats : public testing::ForwardingFrontend {
 public:
  using ForwardingFrontend::ForwardingFrontend;

  Result<v1::RecordActivityTaskHeartbeatResponse> RecordActivityTaskHeartbeat(
      const v1::RecordActivityTaskHeartbeatRequest& request) override {
    ++heartbeats;
    if (unavailable_left > 0) {
      --unavailable_left;
      return Unavailable("keeld is starting");
    }
    ++delivered;
    return inner_.RecordActivityTaskHeartbeat(request);
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
    registry_.RegisterActivity("block", [this]() {
      started_.set_value();
      release_.get_future().wait();
      return std::string("done");
    });
  }

  // Starts a workflow whose activity blocks, and returns once its code runs.
  void StartBlockedActivity() {
    worker_.Start();
    env_.client().StartWorkflow("run_block", {.id = "b1"});
    started_.get_future().wait();
  }

  // Lets the activity return and checks that the workflow completes with its result.
  void FinishActivity() {
    release_.set_value();
    EXPECT_EQ(env_.client().GetResult<std::string>("b1"), "done");
    worker_.Stop();
  }

  Registry registry_;
  std::promise<void> started_;  // (before the worker: they outlive its threads)
  std::promise<void> release_;
  TestEnvironment env_{registry_, {.start_worker = false}};
  FlakyHeartbeats frontend_{env_.engine()};
  Worker worker_{frontend_, registry_, {.max_concurrent_activities = 1}};
};

TEST_F(ReconnectReportTest, AReportRefusedAsUnavailableIsSentAgain) {
  StartBlockedActivity();
  ASSERT_TRUE(frontend_.reconnected);
  frontend_.unavailable_left = 2;
  frontend_.reconnected();  // returns once the report pass is over
  EXPECT_EQ(frontend_.heartbeats.load(), 3);
  EXPECT_EQ(frontend_.delivered.load(), 1);
  FinishActivity();
}

TEST_F(ReconnectReportTest, AReportGivesUpAfterAFewTries) {
  StartBlockedActivity();
  frontend_.unavailable_left = 1000;
  frontend_.reconnected();
  EXPECT_EQ(frontend_.heartbeats.load(), 5);
  EXPECT_EQ(frontend_.delivered.load(), 0);
  frontend_.unavailable_left = 0;
  FinishActivity();  // the activity goes on regardless
}

TEST_F(ReconnectReportTest, NothingIsReportedWithoutRunningActivities) {
  worker_.Start();
  ASSERT_TRUE(frontend_.reconnected);
  frontend_.reconnected();
  EXPECT_EQ(frontend_.heartbeats.load(), 0);
  worker_.Stop();
}

}  // namespace
}  // namespace keel
