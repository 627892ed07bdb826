// ActivitySlots: at most `pollers` activity threads poll at once, a reserved waiting
// thread runs the task handed to it (and does not poll meanwhile), a released one polls,
// and stopping ends waiting threads but not before a reserved hand-over arrives.
#include "engine/worker/activity_slots.h"

#include <gtest/gtest.h>

#include <future>
#include <optional>
#include <string>
#include <thread>

namespace keel::internal {
namespace {

struct NextResult {
  std::optional<ActivitySlots::Task> task;
  bool poll = false;
};

// Calls Next on its own thread, as an activity thread does.
std::future<NextResult> NextAsync(ActivitySlots& slots) {
  return std::async(std::launch::async, [&slots] {
    NextResult r;
    r.task = slots.Next(&r.poll);
    return r;
  });
}

// Until `n` threads are inside Next (each got there or is blocked there).
void AwaitWaiting(const ActivitySlots& slots, int n) {
  while (slots.waiting() != n) std::this_thread::yield();
}

ActivitySlots::Task TaskWithToken(const std::string& token) {
  ActivitySlots::Task task;
  task.set_task_token(token);
  return task;
}

TEST(ActivitySlotsTest, OnlyThePollerLimitPollsAtOnce) {
  ActivitySlots slots(/*pollers=*/1);
  bool poll = false;
  EXPECT_FALSE(slots.Next(&poll).has_value());
  EXPECT_TRUE(poll);  // the first thread polls
  auto second = NextAsync(slots);
  AwaitWaiting(slots, 1);  // blocked: one poll is the limit
  slots.PollDone();
  NextResult r = second.get();
  EXPECT_TRUE(r.poll);
  EXPECT_FALSE(r.task.has_value());
}

TEST(ActivitySlotsTest, AReservedThreadRunsTheTaskHandedToIt) {
  ActivitySlots slots(1);
  bool poll = false;
  (void)slots.Next(&poll);        // this thread holds the one poll
  EXPECT_FALSE(slots.Reserve());  // no thread waits: the task would have no one to run it
  auto waiting = NextAsync(slots);
  AwaitWaiting(slots, 1);
  ASSERT_TRUE(slots.Reserve());
  EXPECT_FALSE(slots.Reserve());  // the one waiting thread is taken
  slots.PollDone();               // a free poll, but the thread is kept for the hand-over
  EXPECT_EQ(slots.waiting(), 1);
  slots.Deliver(TaskWithToken("t1"));
  NextResult r = waiting.get();
  EXPECT_FALSE(r.poll);
  ASSERT_TRUE(r.task.has_value());
  EXPECT_EQ(r.task->task_token(), "t1");
}

TEST(ActivitySlotsTest, AReleasedReservationLetsTheThreadPoll) {
  ActivitySlots slots(1);
  bool poll = false;
  (void)slots.Next(&poll);
  auto waiting = NextAsync(slots);
  AwaitWaiting(slots, 1);
  ASSERT_TRUE(slots.Reserve());
  slots.PollDone();
  slots.Release();  // the task did not come (the engine had none to hand over)
  NextResult r = waiting.get();
  EXPECT_TRUE(r.poll);
  EXPECT_FALSE(r.task.has_value());
}

TEST(ActivitySlotsTest, StoppingWaitsForAReservedHandOverThenEndsTheThreads) {
  ActivitySlots slots(1);
  bool poll = false;
  (void)slots.Next(&poll);
  auto reserved = NextAsync(slots);
  AwaitWaiting(slots, 1);
  ASSERT_TRUE(slots.Reserve());
  slots.Stop();
  EXPECT_FALSE(slots.Reserve());  // no new reservations while stopping
  EXPECT_EQ(slots.waiting(), 1);  // still there for the task already asked for
  slots.Deliver(TaskWithToken("leased"));
  NextResult r = reserved.get();
  ASSERT_TRUE(r.task.has_value());  // the engine leased it to this worker: it is run
  EXPECT_EQ(r.task->task_token(), "leased");
  // Afterwards the thread asks again and is told to stop (no poll, no task).
  EXPECT_FALSE(slots.Next(&poll).has_value());
  EXPECT_FALSE(poll);
}

TEST(ActivitySlotsTest, StoppingEndsWaitingThreads) {
  ActivitySlots slots(1);
  bool poll = false;
  (void)slots.Next(&poll);
  auto a = NextAsync(slots);
  auto b = NextAsync(slots);
  AwaitWaiting(slots, 2);
  slots.Stop();
  for (auto* f : {&a, &b}) {
    NextResult r = f->get();
    EXPECT_FALSE(r.poll);
    EXPECT_FALSE(r.task.has_value());
  }
}

}  // namespace
}  // namespace keel::internal
