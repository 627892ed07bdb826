// TaskMatcher: FIFO hand-off to pollers, waking a waiting poller, poll deadlines on the
// injected clock, cancellation of a worker's polls, and reserving a waiting poller for a
// task delivered to it alone.
#include "engine/core/task_matcher.h"

#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <string>
#include <thread>
#include <vector>

namespace keel::core {
namespace {

using namespace std::chrono_literals;
constexpr auto kWf = store::TaskKind::kWorkflow;

TEST(TaskMatcherTest, HandsOutTasksInOrder) {
  ManualClock clock;
  TaskMatcher m(clock);
  m.Add("ns", "q", kWf, {1, 0});
  m.Add("ns", "q", kWf, {2, 0});
  EXPECT_EQ(m.Backlog("ns", "q", kWf), 2u);
  EXPECT_EQ(m.Poll("ns", "q", kWf, "w", clock.Now() + 1s)->exec_id, 1);
  EXPECT_EQ(m.Poll("ns", "q", kWf, "w", clock.Now() + 1s)->exec_id, 2);
}

TEST(TaskMatcherTest, QueuesAreSeparateByNamespaceQueueAndKind) {
  ManualClock clock;
  TaskMatcher m(clock);
  m.Add("ns", "q", kWf, {1, 0});
  EXPECT_EQ(m.Backlog("ns", "other", kWf), 0u);
  EXPECT_EQ(m.Backlog("other", "q", kWf), 0u);
  EXPECT_EQ(m.Backlog("ns", "q", store::TaskKind::kActivity), 0u);
}

TEST(TaskMatcherTest, WaitingPollerGetsANewTask) {
  ManualClock clock;
  TaskMatcher m(clock);
  auto poll = std::async(std::launch::async, [&] { return m.Poll("ns", "q", kWf, "w", clock.Now() + 1h); });
  m.Add("ns", "q", kWf, {7, 3});
  auto t = poll.get();
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(t->exec_id, 7);
  EXPECT_EQ(t->ref, 3);
}

TEST(TaskMatcherTest, PollEndsEmptyAtItsDeadline) {
  ManualClock clock;
  TaskMatcher m(clock);
  auto poll = std::async(std::launch::async, [&] { return m.Poll("ns", "q", kWf, "w", clock.Now() + 60s); });
  // Advance only once the poller waits, or it would compute its deadline afterwards.
  while (clock.Waiters() == 0) std::this_thread::yield();
  clock.Advance(60s);
  EXPECT_FALSE(poll.get().has_value());
}

TEST(TaskMatcherTest, CancelPollsEndsThisWorkersPollsNowAndLater) {
  ManualClock clock;
  TaskMatcher m(clock);
  auto poll = std::async(std::launch::async, [&] { return m.Poll("ns", "q", kWf, "w1", clock.Now() + 1h); });
  while (clock.Waiters() == 0) std::this_thread::yield();
  m.CancelPolls("w1");
  EXPECT_FALSE(poll.get().has_value());
  m.Add("ns", "q", kWf, {1, 0});
  EXPECT_FALSE(m.Poll("ns", "q", kWf, "w1", clock.Now() + 1h).has_value());
  EXPECT_TRUE(m.Poll("ns", "q", kWf, "w2", clock.Now() + 1h).has_value());  // others unaffected
}

TEST(TaskMatcherTest, ShutdownEndsEveryPoll) {
  ManualClock clock;
  TaskMatcher m(clock);
  auto poll = std::async(std::launch::async, [&] { return m.Poll("ns", "q", kWf, "w", clock.Now() + 1h); });
  while (clock.Waiters() == 0) std::this_thread::yield();
  m.Shutdown();
  EXPECT_FALSE(poll.get().has_value());
}

TEST(TaskMatcherTest, APollWhoseCallerIsGoneEndsAtTheNextCheckAndTakesNoTask) {
  ManualClock clock;
  TaskMatcher m(clock);
  std::atomic<bool> gone{false};
  std::atomic<int> checks{0};
  auto poll = std::async(std::launch::async, [&] {
    return m.Poll("ns", "q", kWf, "w", clock.Now() + 1h, [&] {
      ++checks;
      return gone.load();
    });
  });
  while (clock.Waiters() == 0) std::this_thread::yield();
  clock.Advance(TaskMatcher::kGoneCheck);  // checked, still there: keeps waiting
  while (checks.load() == 0) std::this_thread::yield();
  while (clock.Waiters() == 0) std::this_thread::yield();  // waiting again (after the check)
  gone = true;
  clock.Advance(TaskMatcher::kGoneCheck);
  EXPECT_FALSE(poll.get().has_value());
  m.Add("ns", "q", kWf, {1, 0});  // left for a live poller
  EXPECT_EQ(m.Backlog("ns", "q", kWf), 1u);
}

TEST(TaskMatcherTest, APollWithACallerCheckStillGetsItsTask) {
  ManualClock clock;
  TaskMatcher m(clock);
  auto poll = std::async(std::launch::async, [&] {
    return m.Poll("ns", "q", kWf, "w", clock.Now() + 1h, [] { return false; });
  });
  while (clock.Waiters() == 0) std::this_thread::yield();
  m.Add("ns", "q", kWf, {4, 0});
  auto t = poll.get();
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(t->exec_id, 4);
}

std::shared_ptr<v1::PollWorkflowTaskQueueResponse> Prepared(const std::string& workflow_type) {
  auto task = std::make_shared<v1::PollWorkflowTaskQueueResponse>();
  task->set_workflow_type(workflow_type);
  return task;
}

TEST(TaskMatcherTest, AReservedPollerGetsTheDeliveredTask) {
  ManualClock clock;
  TaskMatcher m(clock);
  EXPECT_FALSE(m.Reserve("ns", "q", kWf).has_value());  // nobody polls
  auto poll = std::async(std::launch::async, [&] { return m.Poll("ns", "q", kWf, "w1", clock.Now() + 1h); });
  while (clock.Waiters() == 0) std::this_thread::yield();
  EXPECT_FALSE(m.Reserve("ns", "other", kWf).has_value());
  auto r = m.Reserve("ns", "q", kWf);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->identity(), "w1");
  EXPECT_FALSE(m.Reserve("ns", "q", kWf).has_value());  // its only poller is taken
  m.Deliver(std::move(*r), {9, 0, Prepared("wf")});
  auto t = poll.get();
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(t->exec_id, 9);
  ASSERT_NE(t->prepared, nullptr);
  EXPECT_EQ(t->prepared->workflow_type(), "wf");
  EXPECT_EQ(m.QueueCount(), 0u);
}

TEST(TaskMatcherTest, AReservationDroppedUndeliveredReturnsThePoller) {
  ManualClock clock;
  TaskMatcher m(clock);
  auto poll = std::async(std::launch::async, [&] { return m.Poll("ns", "q", kWf, "w1", clock.Now() + 1h); });
  while (clock.Waiters() == 0) std::this_thread::yield();
  m.Reserve("ns", "q", kWf).reset();
  m.Add("ns", "q", kWf, {3, 0});
  auto t = poll.get();
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(t->exec_id, 3);
  EXPECT_EQ(t->prepared, nullptr);
}

TEST(TaskMatcherTest, AReservedPollWaitsPastItsDeadlineForTheDelivery) {
  ManualClock clock;
  TaskMatcher m(clock);
  auto poll = std::async(std::launch::async, [&] { return m.Poll("ns", "q", kWf, "w1", clock.Now() + 10s); });
  while (clock.Waiters() == 0) std::this_thread::yield();
  auto r = m.Reserve("ns", "q", kWf);
  ASSERT_TRUE(r.has_value());
  clock.Advance(20s);  // past the deadline: the poll must not end empty
  m.Deliver(std::move(*r), {5, 0, Prepared("wf")});
  auto t = poll.get();
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(t->exec_id, 5);
}

TEST(TaskMatcherTest, TasksAndDeliveriesAmongManyPollersAreNeitherLostNorDoubled) {
  // Pollers come and go while tasks are added, time moves and pollers are reserved and
  // delivered to: every task and every delivery reaches exactly one poll.
  ManualClock clock;
  TaskMatcher m(clock);
  constexpr int kPollers = 4, kRounds = 2000;
  std::atomic<bool> stop{false};
  std::atomic<int> tasks_taken{0}, deliveries_taken{0};
  std::vector<std::thread> pollers;
  for (int p = 0; p < kPollers; ++p) {
    pollers.emplace_back([&, p] {
      while (!stop) {
        auto t = m.Poll("ns", "q", kWf, "w" + std::to_string(p), clock.Now() + 1s);
        if (!t) continue;
        (t->prepared ? deliveries_taken : tasks_taken)++;
      }
    });
  }
  int reserved = 0;
  for (int i = 0; i < kRounds; ++i) {
    m.Add("ns", "q", kWf, {i, 0});
    if (i % 3 == 0) clock.Advance(1s);
    if (auto r = m.Reserve("ns", "q", kWf)) {
      ++reserved;
      m.Deliver(std::move(*r), {i, 0, Prepared("wf")});
    }
  }
  // Let the pollers drain the queue (a lost wake-up hangs here), then end them.
  while (m.Backlog("ns", "q", kWf) > 0) std::this_thread::yield();
  stop = true;
  m.Shutdown();
  for (auto& t : pollers) t.join();
  EXPECT_EQ(tasks_taken.load(), kRounds);
  EXPECT_EQ(deliveries_taken.load(), reserved);
}

TEST(TaskMatcherTest, PollsOfUnusedQueuesLeaveNothingBehind) {
  // A caller polling made-up queue names must not grow the engine's memory.
  ManualClock clock;
  TaskMatcher m(clock);
  for (int i = 0; i < 100; ++i) {
    EXPECT_FALSE(m.Poll("ns", "q" + std::to_string(i), kWf, "w", clock.Now()).has_value());
  }
  EXPECT_EQ(m.Backlog("ns", "q0", kWf), 0u);
  EXPECT_EQ(m.QueueCount(), 0u);
  m.Add("ns", "q", kWf, {1, 0});
  EXPECT_EQ(m.QueueCount(), 1u);  // a queue with a task stays
  EXPECT_TRUE(m.Poll("ns", "q", kWf, "w", clock.Now()).has_value());
  EXPECT_EQ(m.QueueCount(), 0u);
}

TEST(TaskMatcherTest, CancelledIdentitiesAreForgottenAfterAWhile) {
  ManualClock clock;
  TaskMatcher m(clock);
  m.CancelPolls("old");
  m.Add("ns", "q", kWf, {1, 0});
  EXPECT_FALSE(m.Poll("ns", "q", kWf, "old", clock.Now()).has_value());
  clock.Advance(11min);
  m.CancelPolls("new");  // forgetting happens as others are added
  EXPECT_FALSE(m.Poll("ns", "q", kWf, "new", clock.Now()).has_value());
  EXPECT_TRUE(m.Poll("ns", "q", kWf, "old", clock.Now()).has_value());
}

}  // namespace
}  // namespace keel::core
