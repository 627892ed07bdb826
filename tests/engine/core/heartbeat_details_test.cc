// Heartbeat details are written at most every EngineOptions::heartbeat_save_interval per
// attempt; the latest are kept in memory meanwhile, shown by describe, and written with
// the attempt's failure or timeout, or when the engine closes cleanly. The test reads the
// store to see what a crash would leave.
#include <gtest/gtest.h>

#include <thread>

#include "keel/v1/execution_state.pb.h"
#include "tests/engine/core/engine_fixture.h"

namespace keel {
namespace {

class HeartbeatDetailsTest : public EngineTest {
 protected:
  // Starts "a" with one activity (heartbeat timeout `heartbeat`, 2 attempts); its task.
  v1::PollActivityTaskQueueResponse StartedActivity(Duration heartbeat = Duration::zero()) {
    EXPECT_TRUE(Start("a").ok());
    auto t = PollWorkflowTask();
    v1::Command schedule = ScheduleActivity("1", 1h, /*max_attempts=*/2);
    *schedule.mutable_schedule_activity_task()->mutable_heartbeat_timeout() = ToProtoDuration(heartbeat);
    EXPECT_TRUE(Complete(t.task_token(), {schedule}).ok());
    return PollActivity();
  }
  void Heartbeat(const std::string& token, const std::string& details) {
    v1::RecordActivityTaskHeartbeatRequest r;
    r.set_task_token(token);
    *r.mutable_details()->add_payloads() = ToProto(ToPayload(details));
    ASSERT_TRUE(engine_->RecordActivityTaskHeartbeat(r).ok());
  }
  static std::string Details(const v1::Payloads& p) {
    return p.payloads_size() == 0 ? "" : FromPayload<std::string>(FromProto(p.payloads(0)));
  }
  // The details in the store: what the next attempt sees after a crash.
  std::string WrittenDetails() {
    auto row = store_->GetCurrentExecution("default", "a");
    EXPECT_TRUE(row.ok() && row->has_value());
    v1::ExecutionState state;
    EXPECT_TRUE(state.ParseFromString((*row)->state));
    return state.activities().empty() ? "" : Details(state.activities().begin()->second.heartbeat_details());
  }
  std::string DescribedDetails() {
    auto d = Describe("a");
    return d.pending_activities_size() == 0 ? "" : Details(d.pending_activities(0).heartbeat_details());
  }
};

TEST_F(HeartbeatDetailsTest, OnlyTheFirstWithinTheIntervalIsWritten) {
  auto task = StartedActivity();
  Heartbeat(task.task_token(), "page 1");
  Heartbeat(task.task_token(), "page 2");
  Heartbeat(task.task_token(), "page 3");
  EXPECT_EQ(WrittenDetails(), "page 1");
  EXPECT_EQ(DescribedDetails(), "page 3");  // from memory
}

TEST_F(HeartbeatDetailsTest, OneAfterTheIntervalIsWritten) {
  auto task = StartedActivity();
  Heartbeat(task.task_token(), "page 1");
  clock_.Advance(10s);
  Heartbeat(task.task_token(), "page 2");
  EXPECT_EQ(WrittenDetails(), "page 2");
}

TEST_F(HeartbeatDetailsTest, ACleanCloseWritesThoseKeptInMemory) {
  auto task = StartedActivity();
  Heartbeat(task.task_token(), "page 1");
  Heartbeat(task.task_token(), "page 2");
  ASSERT_EQ(WrittenDetails(), "page 1");
  Reopen();
  EXPECT_EQ(WrittenDetails(), "page 2");
}

TEST_F(HeartbeatDetailsTest, TheLatestGoWithAFailure) {
  auto first = StartedActivity();
  Heartbeat(first.task_token(), "page 1");
  Heartbeat(first.task_token(), "page 2");
  ASSERT_TRUE(FailActivity(first.task_token(), "Flaky").ok());  // sends no details itself
  clock_.Advance(1s);                                            // the retry's backoff
  EXPECT_EQ(Details(PollActivity().heartbeat_details()), "page 2");
}

TEST_F(HeartbeatDetailsTest, TheLatestGoWithAHeartbeatTimeout) {
  auto first = StartedActivity(/*heartbeat=*/5s);
  Heartbeat(first.task_token(), "page 1");
  Heartbeat(first.task_token(), "page 2");
  clock_.Advance(5s);  // no heartbeat for 5 s: the attempt times out, retried after 1 s
  while (!engine_->TimersIdle()) std::this_thread::yield();
  clock_.Advance(1s);
  auto second = PollActivity();
  EXPECT_EQ(second.attempt(), 2);
  EXPECT_EQ(Details(second.heartbeat_details()), "page 2");
}

}  // namespace
}  // namespace keel
