// CloseWaits: a waiter hears of its run's close (true), of its deadline on a ManualClock
// or of shutdown (false), exactly once; posted work runs on the waits' thread; a result
// waiter is answered at once, with the result, by a close that comes with one.
#include "engine/core/close_waits.h"

#include <gtest/gtest.h>

#include <future>
#include <optional>
#include <string>
#include <tuple>
#include <thread>

namespace keel::core {
namespace {

using namespace std::chrono_literals;

TEST(CloseWaitsTest, AWaiterHearsOfItsRunsCloseOnTheWaitsThread) {
  ManualClock clock;
  CloseWaits waits(clock);
  std::promise<std::pair<bool, std::thread::id>> heard;
  waits.Add(7, clock.Now() + 1h, [&](bool closed) { heard.set_value({closed, std::this_thread::get_id()}); });
  waits.Closed(8);  // another run: nothing
  waits.Closed(7);
  auto [closed, thread] = heard.get_future().get();
  EXPECT_TRUE(closed);
  EXPECT_NE(thread, std::this_thread::get_id());
}

TEST(CloseWaitsTest, AResultWaiterIsAnsweredByACloseThatBringsTheResult) {
  ManualClock clock;
  CloseWaits waits(clock);
  std::promise<std::pair<bool, std::thread::id>> plain;
  std::optional<std::string> got;
  std::thread::id result_thread;
  waits.Add(7, clock.Now() + 1h, [&](bool closed) { plain.set_value({closed, std::this_thread::get_id()}); });
  waits.AddForResult(7, clock.Now() + 1h, [&](bool closed, const CloseWaits::RunResult* result) {
    EXPECT_TRUE(closed);
    got = result ? result->run_id() : "none";
    result_thread = std::this_thread::get_id();
  });
  int asked = 0;
  waits.Closed(7, [&]() -> std::optional<CloseWaits::RunResult> {
    ++asked;
    CloseWaits::RunResult r;
    r.set_run_id("run-7");
    return r;
  });
  EXPECT_EQ(asked, 1);
  ASSERT_TRUE(got.has_value());  // at once, on this thread
  EXPECT_EQ(*got, "run-7");
  EXPECT_EQ(result_thread, std::this_thread::get_id());
  auto [closed, thread] = plain.get_future().get();  // a plain waiter: on the waits' thread
  EXPECT_TRUE(closed);
  EXPECT_NE(thread, std::this_thread::get_id());
}

TEST(CloseWaitsTest, AResultWaiterWithoutTheResultHearsOnTheWaitsThread) {
  ManualClock clock;
  CloseWaits waits(clock);
  std::promise<std::tuple<bool, bool, std::thread::id>> heard;
  waits.AddForResult(3, clock.Now() + 1h, [&](bool closed, const CloseWaits::RunResult* result) {
    heard.set_value({closed, result != nullptr, std::this_thread::get_id()});
  });
  waits.Closed(3, [] { return std::optional<CloseWaits::RunResult>(); });  // e.g. a continue-as-new
  auto [closed, with_result, thread] = heard.get_future().get();
  EXPECT_TRUE(closed);
  EXPECT_FALSE(with_result);
  EXPECT_NE(thread, std::this_thread::get_id());
}

TEST(CloseWaitsTest, AWaiterEndsAtItsDeadlineAndOnlyOnce) {
  ManualClock clock;
  CloseWaits waits(clock);
  std::promise<bool> late, early;
  waits.Add(1, clock.Now() + 10s, [&](bool closed) { late.set_value(closed); });
  waits.Add(2, clock.Now() + 5s, [&](bool closed) { early.set_value(closed); });  // earlier than the first
  auto early_heard = early.get_future();
  clock.Advance(4s);
  EXPECT_EQ(early_heard.wait_for(0s), std::future_status::timeout);
  clock.Advance(1s);
  EXPECT_FALSE(early_heard.get());
  clock.Advance(5s);
  EXPECT_FALSE(late.get_future().get());
  waits.Closed(1);  // too late: its callback already ran (a second set_value would throw)
  waits.Closed(2);
}

TEST(CloseWaitsTest, ShutdownAnswersEveryWaiterAndLaterOnesAtOnce) {
  ManualClock clock;
  std::promise<bool> pending;
  auto heard = pending.get_future();
  bool later = true;
  {
    CloseWaits waits(clock);
    waits.Add(1, clock.Now() + 1h, [&](bool closed) { pending.set_value(closed); });
    waits.Shutdown();
    EXPECT_FALSE(heard.get());
    waits.Add(2, clock.Now() + 1h, [&](bool closed) { later = closed; });  // runs inline
    EXPECT_FALSE(later);
  }
}

TEST(CloseWaitsTest, PostedWorkRunsOnTheWaitsThread) {
  ManualClock clock;
  CloseWaits waits(clock);
  std::promise<std::pair<bool, std::thread::id>> ran;
  waits.Post([&](bool running) { ran.set_value({running, std::this_thread::get_id()}); });
  auto [running, thread] = ran.get_future().get();
  EXPECT_TRUE(running);
  EXPECT_NE(thread, std::this_thread::get_id());
}

}  // namespace
}  // namespace keel::core
