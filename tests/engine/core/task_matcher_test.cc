// TaskMatcher: FIFO hand-off to pollers, waking a waiting poller, poll deadlines on the
// injected clock, cancellation of a worker's polls, reserving a waiting poller for a
// task delivered to it alone, and async polls (callbacks instead of blocked threads).
#include "engine/core/task_matcher.h"

#include <gtest/gtest.h>

#include <atomic>
#include <functional>
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

std::shared_ptr<v1::PollWorkflowTaskQueueResponse> Prepared(const std::string& workflow_type) {
  auto task = std::make_shared<v1::PollWorkflowTaskQueueResponse>();
  task->set_workflow_type(workflow_type);
  return task;
}

// Adds `rounds` tasks while time moves, delivering a prepared task to a reserved poller
// whenever one is free; returns how many were delivered.
int AddReserveAndDeliver(TaskMatcher& m, ManualClock& clock, int rounds) {
  int reserved = 0;
  for (int i = 0; i < rounds; ++i) {
    m.Add("ns", "q", kWf, {i, 0});
    if (i % 3 == 0) clock.Advance(1s);
    if (auto r = m.Reserve("ns", "q", kWf)) {
      ++reserved;
      m.Deliver(std::move(*r), {i, 0, Prepared("wf")});
    }
  }
  return reserved;
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
  const int reserved = AddReserveAndDeliver(m, clock, kRounds);
  // Let the pollers drain the queue (a lost wake-up hangs here), then end them.
  while (m.Backlog("ns", "q", kWf) > 0) std::this_thread::yield();
  stop = true;
  m.Shutdown();
  for (auto& t : pollers) t.join();
  EXPECT_EQ(tasks_taken.load(), kRounds);
  EXPECT_EQ(deliveries_taken.load(), reserved);
}

// An async poll's outcome, waited for by the test.
struct AsyncOutcome {
  std::promise<std::optional<TaskRef>> promise;
  std::future<std::optional<TaskRef>> future = promise.get_future();
  std::thread::id thread;
  TaskMatcher::PollDone Done() {
    return [this](std::optional<TaskRef> t) {
      thread = std::this_thread::get_id();
      promise.set_value(std::move(t));
    };
  }
  bool Ready() { return future.wait_for(0s) == std::future_status::ready; }
};

TEST(TaskMatcherTest, AnAsyncPollTakesAQueuedTaskAtOnce) {
  ManualClock clock;
  TaskMatcher m(clock);
  m.Add("ns", "q", kWf, {7, 0});
  AsyncOutcome out;
  std::optional<TaskRef> now;
  EXPECT_EQ(m.PollAsync("ns", "q", kWf, "w", clock.Now() + 1h, out.Done(), &now), 0u);
  ASSERT_TRUE(now.has_value());
  EXPECT_EQ(now->exec_id, 7);
  EXPECT_FALSE(out.Ready());  // taken, not called back
  EXPECT_EQ(m.QueueCount(), 0u);
}

TEST(TaskMatcherTest, AnAsyncPollGetsALaterTaskOnTheMatchersThread) {
  ManualClock clock;
  TaskMatcher m(clock);
  AsyncOutcome out;
  std::optional<TaskRef> now;
  EXPECT_NE(m.PollAsync("ns", "q", kWf, "w", clock.Now() + 1h, out.Done(), &now), 0u);
  EXPECT_FALSE(now.has_value());
  m.Add("ns", "q", kWf, {8, 0});
  auto t = out.future.get();
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(t->exec_id, 8);
  // Not on the thread that added it: that thread may hold the run's lock.
  EXPECT_NE(out.thread, std::this_thread::get_id());
  EXPECT_EQ(m.Backlog("ns", "q", kWf), 0u);
}

TEST(TaskMatcherTest, AnAsyncPollEndsEmptyAtItsDeadline) {
  ManualClock clock;
  TaskMatcher m(clock);
  AsyncOutcome out;
  std::optional<TaskRef> now;
  ASSERT_NE(m.PollAsync("ns", "q", kWf, "w", clock.Now() + 10s, out.Done(), &now), 0u);
  while (clock.Waiters() == 0) std::this_thread::yield();  // the matcher's thread waits for it
  clock.Advance(9s);
  while (clock.Waiters() == 0) std::this_thread::yield();
  EXPECT_FALSE(out.Ready());
  clock.Advance(1s);
  EXPECT_FALSE(out.future.get().has_value());
  m.Add("ns", "q", kWf, {1, 0});  // nobody takes it now
  EXPECT_EQ(m.Backlog("ns", "q", kWf), 1u);
  // A poll whose deadline has passed already does not wait.
  EXPECT_EQ(m.PollAsync("ns", "other", kWf, "w", clock.Now(), [](auto) { FAIL(); }, &now), 0u);
  EXPECT_FALSE(now.has_value());
}

TEST(TaskMatcherTest, ACancelledAsyncPollEndsAtOnceAndTakesNoTask) {
  ManualClock clock;
  TaskMatcher m(clock);
  AsyncOutcome out;
  std::optional<TaskRef> now;
  const uint64_t id = m.PollAsync("ns", "q", kWf, "w", clock.Now() + 1h, out.Done(), &now);
  ASSERT_NE(id, 0u);
  m.CancelAsync(id);
  ASSERT_TRUE(out.Ready());
  EXPECT_FALSE(out.future.get().has_value());
  EXPECT_EQ(out.thread, std::this_thread::get_id());
  m.CancelAsync(id);  // ended already: ignored
  m.Add("ns", "q", kWf, {1, 0});
  EXPECT_EQ(m.Backlog("ns", "q", kWf), 1u);
}

TEST(TaskMatcherTest, AReservedAsyncPollGetsItsDeliveryOnTheDeliveringThread) {
  ManualClock clock;
  TaskMatcher m(clock);
  AsyncOutcome out;
  std::optional<TaskRef> now;
  ASSERT_NE(m.PollAsync("ns", "q", kWf, "w1", clock.Now() + 1h, out.Done(), &now), 0u);
  auto r = m.Reserve("ns", "q", kWf);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->identity(), "w1");
  m.Deliver(std::move(*r), {9, 0, Prepared("wf")});
  ASSERT_TRUE(out.Ready());
  auto t = out.future.get();
  ASSERT_TRUE(t.has_value());
  ASSERT_NE(t->prepared, nullptr);
  EXPECT_EQ(out.thread, std::this_thread::get_id());
  EXPECT_EQ(m.QueueCount(), 0u);
}

TEST(TaskMatcherTest, AReservedAsyncPollCancelledOrPastItsDeadlineEndsWhenReleased) {
  ManualClock clock;
  TaskMatcher m(clock);
  AsyncOutcome cancelled, late;
  std::optional<TaskRef> now;
  const uint64_t id = m.PollAsync("ns", "q", kWf, "w1", clock.Now() + 1h, cancelled.Done(), &now);
  auto r = m.Reserve("ns", "q", kWf);
  ASSERT_TRUE(r.has_value());
  m.CancelAsync(id);
  EXPECT_FALSE(cancelled.Ready());  // the reservation holds it
  r.reset();
  ASSERT_TRUE(cancelled.Ready());
  EXPECT_FALSE(cancelled.future.get().has_value());

  ASSERT_NE(m.PollAsync("ns", "q", kWf, "w2", clock.Now() + 10s, late.Done(), &now), 0u);
  r.emplace(*m.Reserve("ns", "q", kWf));
  while (clock.Waiters() == 0) std::this_thread::yield();
  clock.Advance(10s);
  EXPECT_FALSE(late.Ready());  // the reservation holds it past its deadline
  r.reset();
  EXPECT_FALSE(late.future.get().has_value());  // then it ends, now or on the matcher's thread
  EXPECT_EQ(m.QueueCount(), 0u);
}

TEST(TaskMatcherTest, CancelPollsAndShutdownEndAsyncPolls) {
  ManualClock clock;
  TaskMatcher m(clock);
  AsyncOutcome a, b, c;
  std::optional<TaskRef> now;
  ASSERT_NE(m.PollAsync("ns", "q", kWf, "a", clock.Now() + 1h, a.Done(), &now), 0u);
  ASSERT_NE(m.PollAsync("ns", "q", kWf, "b", clock.Now() + 1h, b.Done(), &now), 0u);
  m.CancelPolls("a");
  ASSERT_TRUE(a.Ready());
  EXPECT_FALSE(a.future.get().has_value());
  EXPECT_FALSE(b.Ready());
  EXPECT_EQ(m.PollAsync("ns", "q", kWf, "a", clock.Now() + 1h, c.Done(), &now), 0u);  // later polls too
  m.Shutdown();
  ASSERT_TRUE(b.Ready());
  EXPECT_FALSE(b.future.get().has_value());
  EXPECT_EQ(m.PollAsync("ns", "q", kWf, "b", clock.Now() + 1h, c.Done(), &now), 0u);
  EXPECT_FALSE(c.Ready());
}

TEST(TaskMatcherTest, BlockedAndAsyncPollersTogetherNeitherLoseNorDoubleATask) {
  // Two blocked pollers and two async ones (each polling again from its callback) while
  // tasks are added, time moves and pollers are reserved and delivered to.
  ManualClock clock;
  TaskMatcher m(clock);
  constexpr int kRounds = 2000;
  std::atomic<bool> stop{false};
  std::atomic<int> tasks_taken{0}, deliveries_taken{0};
  auto count = [&](const TaskRef& t) { (t.prepared ? deliveries_taken : tasks_taken)++; };
  std::vector<std::thread> blocked;
  for (int p = 0; p < 2; ++p) {
    blocked.emplace_back([&, p] {
      while (!stop) {
        if (auto t = m.Poll("ns", "q", kWf, "b" + std::to_string(p), clock.Now() + 1s)) count(*t);
      }
    });
  }
  std::function<void(int)> poll_async = [&](int p) {
    std::optional<TaskRef> now;
    while (true) {
      auto done = [&, p](std::optional<TaskRef> t) {
        if (t) count(*t);
        poll_async(p);
      };
      if (m.PollAsync("ns", "q", kWf, "a" + std::to_string(p), clock.Now() + 1s, done, &now) != 0) return;
      if (!now) return;  // shut down
      count(*now);
    }
  };
  poll_async(0);
  poll_async(1);
  const int reserved = AddReserveAndDeliver(m, clock, kRounds);
  while (m.Backlog("ns", "q", kWf) > 0) std::this_thread::yield();
  stop = true;
  m.Stop();  // ends every poll and runs what the matcher's thread holds
  for (auto& t : blocked) t.join();
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
