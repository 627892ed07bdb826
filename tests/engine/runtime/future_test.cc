// Future, WhenAny and WhenAll (engine/future.h) at the FutureState level, with an
// executor that only records what it is asked to resume: no workflow, no driver.
#include "engine/future.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <coroutine>
#include <memory>
#include <stdexcept>
#include <string>
#include <tuple>
#include <variant>
#include <vector>

#include "engine/errors.h"
#include "engine/task.h"

namespace keel {
namespace {

using internal::FutureState;
using ::testing::ElementsAre;

// Records the handles it is asked to resume; the test resumes them.
class RecordingExecutor final : public internal::Executor {
 public:
  void Schedule(std::coroutine_handle<> h) override { scheduled.push_back(h); }
  void RunAll() {
    while (!scheduled.empty()) {
      auto h = scheduled.front();
      scheduled.erase(scheduled.begin());
      h.resume();
    }
  }
  std::vector<std::coroutine_handle<>> scheduled;
};

// A future whose Cancel() is counted (the state machines install the real canceler).
template <typename T>
struct Op {
  explicit Op(internal::Executor* ex) : state(std::make_shared<FutureState<T>>(ex)) {
    state->SetCanceler([c = cancels] { ++*c; });
  }
  Future<T> future() const { return Future<T>(state); }
  int canceled() const { return *cancels; }
  std::shared_ptr<FutureState<T>> state;
  std::shared_ptr<int> cancels = std::make_shared<int>(0);
};

template <typename T>
T Value(const Future<T>& f) {
  return f.state()->Get();
}

std::string ErrorMessage(const internal::FutureStateBase& s) {
  try {
    std::rethrow_exception(s.error());
  } catch (const std::exception& e) {
    return e.what();
  }
}

class FutureTest : public ::testing::Test {
 protected:
  RecordingExecutor ex_;
};

// ---- FutureState ----

TEST_F(FutureTest, ResolveSchedulesWaitersInOrderAndRunsCallbacksInOrder) {
  FutureState<int> s(&ex_);
  std::vector<std::string> log;
  auto h1 = std::noop_coroutine();
  s.AddWaiter(h1);
  s.AddWaiter(h1);
  s.OnReady([&] { log.push_back("first"); });
  s.OnReady([&] { log.push_back("second"); });
  EXPECT_TRUE(ex_.scheduled.empty());
  s.Resolve(7);
  EXPECT_EQ(ex_.scheduled.size(), 2u);
  EXPECT_THAT(log, ElementsAre("first", "second"));
  EXPECT_EQ(s.Get(), 7);
  // A callback added once the outcome is known runs at once.
  s.OnReady([&] { log.push_back("late"); });
  EXPECT_THAT(log, ElementsAre("first", "second", "late"));
}

TEST_F(FutureTest, FirstOutcomeWinsAndLaterOnesAreIgnored) {
  FutureState<int> s(&ex_);
  s.Resolve(1);
  s.Resolve(2);
  s.Reject(std::make_exception_ptr(std::runtime_error("late")));
  EXPECT_FALSE(s.failed());
  EXPECT_EQ(s.Get(), 1);

  FutureState<int> f(&ex_);
  f.Reject(std::make_exception_ptr(ApplicationError("Boom", "first")));
  f.Resolve(3);
  EXPECT_TRUE(f.failed());
  EXPECT_THROW(f.Get(), ApplicationError);
}

TEST_F(FutureTest, CancelCallsTheCancelerOnceAndNeverAfterTheOutcome) {
  Op<int> op(&ex_);
  Future<int> f = op.future();
  f.Cancel();
  f.Cancel();
  EXPECT_EQ(op.canceled(), 1);

  Op<int> done(&ex_);
  done.state->Resolve(5);
  done.future().Cancel();
  EXPECT_EQ(done.canceled(), 0);
}

Task<int> AwaitTwice(Future<int> f, std::vector<std::string>* log) {
  log->push_back("before");
  int a = co_await f;
  log->push_back("after first await");
  int b = co_await f;  // ready: does not suspend
  log->push_back("after second await");
  co_return a + b;
}

TEST_F(FutureTest, CoAwaitSuspendsUntilResolvedAndResumesThroughTheExecutor) {
  Op<int> op(&ex_);
  std::vector<std::string> log;
  Task<int> t = AwaitTwice(op.future(), &log);
  t.handle().resume();  // starts the lazy task
  EXPECT_THAT(log, ElementsAre("before"));
  EXPECT_FALSE(t.done());
  op.state->Resolve(21);
  // Resolving only schedules the waiter; nothing runs inline.
  EXPECT_THAT(log, ElementsAre("before"));
  ASSERT_EQ(ex_.scheduled.size(), 1u);
  ex_.RunAll();
  EXPECT_THAT(log, ElementsAre("before", "after first await", "after second await"));
  ASSERT_TRUE(t.done());
  EXPECT_EQ(t.TakeResult(), 42);
}

Task<std::string> AwaitFailing(Future<int> f) {
  try {
    co_await f;
  } catch (const ApplicationError& e) {
    co_return "caught " + e.Type();
  }
  co_return "no error";
}

TEST_F(FutureTest, CoAwaitRethrowsTheError) {
  Op<int> op(&ex_);
  Task<std::string> t = AwaitFailing(op.future());
  t.handle().resume();
  op.state->Reject(std::make_exception_ptr(ApplicationError("Boom", "x")));
  ex_.RunAll();
  ASSERT_TRUE(t.done());
  EXPECT_EQ(t.TakeResult(), "caught Boom");
}

// ---- WhenAny ----

TEST_F(FutureTest, WhenAnyYieldsTheWinnersIndexAndValueAndCancelsTheLosers) {
  Op<int> a(&ex_);
  Op<std::string> b(&ex_);
  Op<void> c(&ex_);
  auto any = WhenAny(a.future(), b.future(), c.future());
  EXPECT_FALSE(any.IsReady());
  b.state->Resolve("bee");
  ASSERT_TRUE(any.IsReady());
  auto v = Value(any);
  EXPECT_EQ(v.index(), 1u);
  EXPECT_EQ(std::get<1>(v), "bee");
  EXPECT_EQ(a.canceled(), 1);
  EXPECT_EQ(b.canceled(), 0);  // the winner is not cancelled
  EXPECT_EQ(c.canceled(), 1);
  // A loser finishing later changes nothing.
  a.state->Resolve(1);
  EXPECT_EQ(Value(any).index(), 1u);
}

TEST_F(FutureTest, WhenAnyOfVoidWinnerYieldsMonostate) {
  Op<int> a(&ex_);
  Op<void> b(&ex_);
  auto any = WhenAny(a.future(), b.future());
  b.state->Resolve();
  auto v = Value(any);
  EXPECT_EQ(v.index(), 1u);
  EXPECT_TRUE((std::is_same_v<std::variant_alternative_t<1, decltype(v)>, std::monostate>));
  EXPECT_EQ(a.canceled(), 1);
}

TEST_F(FutureTest, WhenAnyFailsWhenTheFirstToFinishFailed) {
  Op<int> a(&ex_);
  Op<int> b(&ex_);
  auto any = WhenAny(a.future(), b.future());
  a.state->Reject(std::make_exception_ptr(ApplicationError("Boom", "a failed")));
  ASSERT_TRUE(any.IsReady());
  EXPECT_TRUE(any.state()->failed());
  EXPECT_EQ(ErrorMessage(*any.state()), "a failed");
  EXPECT_EQ(b.canceled(), 1);
  b.state->Resolve(2);
  EXPECT_TRUE(any.state()->failed());
}

TEST_F(FutureTest, WhenAnyOfAlreadyReadyFuturesPicksTheFirstListed) {
  Op<int> a(&ex_);
  Op<int> b(&ex_);
  b.state->Resolve(2);
  a.state->Resolve(1);
  auto any = WhenAny(a.future(), b.future());
  ASSERT_TRUE(any.IsReady());
  EXPECT_EQ(Value(any).index(), 0u);
  EXPECT_EQ(std::get<0>(Value(any)), 1);
}

TEST_F(FutureTest, WhenAnyResumesItsAwaiterThroughTheExecutor) {
  Op<int> a(&ex_);
  Op<int> b(&ex_);
  auto any = WhenAny(a.future(), b.future());
  any.await_suspend(std::noop_coroutine());
  EXPECT_TRUE(ex_.scheduled.empty());
  b.state->Resolve(1);
  EXPECT_EQ(ex_.scheduled.size(), 1u);
}

TEST_F(FutureTest, WhenAnyOfAVectorYieldsTheWinnersIndexAndCancelsTheRest) {
  std::vector<Op<int>> ops;
  for (int i = 0; i < 4; ++i) ops.emplace_back(&ex_);
  std::vector<Future<int>> fs;
  for (auto& op : ops) fs.push_back(op.future());
  auto any = WhenAny(fs);
  ops[2].state->Resolve(20);
  ASSERT_TRUE(any.IsReady());
  EXPECT_EQ(Value(any), 2u);
  EXPECT_EQ(ops[0].canceled(), 1);
  EXPECT_EQ(ops[1].canceled(), 1);
  EXPECT_EQ(ops[2].canceled(), 0);
  EXPECT_EQ(ops[3].canceled(), 1);
}

TEST_F(FutureTest, WhenAnyOfAVectorFailsWithTheFirstFailure) {
  std::vector<Op<int>> ops;
  for (int i = 0; i < 3; ++i) ops.emplace_back(&ex_);
  std::vector<Future<int>> fs;
  for (auto& op : ops) fs.push_back(op.future());
  auto any = WhenAny(fs);
  ops[1].state->Reject(std::make_exception_ptr(ApplicationError("Boom", "one failed")));
  ASSERT_TRUE(any.IsReady());
  EXPECT_EQ(ErrorMessage(*any.state()), "one failed");
  EXPECT_EQ(ops[0].canceled(), 1);
  EXPECT_EQ(ops[2].canceled(), 1);
}

// ---- WhenAll ----

TEST_F(FutureTest, WhenAllYieldsEveryValueInArgumentOrder) {
  Op<int> a(&ex_);
  Op<std::string> b(&ex_);
  Op<void> c(&ex_);
  auto all = WhenAll(a.future(), b.future(), c.future());
  c.state->Resolve();
  b.state->Resolve("bee");
  EXPECT_FALSE(all.IsReady());
  a.state->Resolve(1);
  ASSERT_TRUE(all.IsReady());
  auto [x, y, z] = Value(all);
  EXPECT_EQ(x, 1);
  EXPECT_EQ(y, "bee");
  EXPECT_EQ(z, std::monostate{});
  EXPECT_EQ(a.canceled() + b.canceled() + c.canceled(), 0);
}

TEST_F(FutureTest, WhenAllFailsAsSoonAsOneFails) {
  Op<int> a(&ex_);
  Op<int> b(&ex_);
  Op<int> c(&ex_);
  auto all = WhenAll(a.future(), b.future(), c.future());
  b.state->Reject(std::make_exception_ptr(ApplicationError("Boom", "b failed")));
  ASSERT_TRUE(all.IsReady());  // without waiting for a and c
  EXPECT_EQ(ErrorMessage(*all.state()), "b failed");
  c.state->Reject(std::make_exception_ptr(ApplicationError("Boom", "c failed")));
  a.state->Resolve(1);
  EXPECT_EQ(ErrorMessage(*all.state()), "b failed");
}

TEST_F(FutureTest, WhenAllOfAVectorYieldsValuesInOrder) {
  std::vector<Op<int>> ops;
  for (int i = 0; i < 3; ++i) ops.emplace_back(&ex_);
  std::vector<Future<int>> fs;
  for (auto& op : ops) fs.push_back(op.future());
  auto all = WhenAll(fs);
  ops[2].state->Resolve(30);
  ops[0].state->Resolve(10);
  EXPECT_FALSE(all.IsReady());
  ops[1].state->Resolve(20);
  ASSERT_TRUE(all.IsReady());
  EXPECT_THAT(Value(all), ElementsAre(10, 20, 30));
}

TEST_F(FutureTest, WhenAllOfAVectorFailsWithTheFirstFailure) {
  std::vector<Op<int>> ops;
  for (int i = 0; i < 3; ++i) ops.emplace_back(&ex_);
  std::vector<Future<int>> fs;
  for (auto& op : ops) fs.push_back(op.future());
  auto all = WhenAll(fs);
  ops[0].state->Resolve(1);
  ops[2].state->Reject(std::make_exception_ptr(ApplicationError("Boom", "third failed")));
  ASSERT_TRUE(all.IsReady());
  EXPECT_EQ(ErrorMessage(*all.state()), "third failed");
}

TEST_F(FutureTest, WhenAllOfAVoidVectorResolvesOnceAllAreDone) {
  std::vector<Op<void>> ops;
  for (int i = 0; i < 2; ++i) ops.emplace_back(&ex_);
  std::vector<Future<void>> fs;
  for (auto& op : ops) fs.push_back(op.future());
  auto all = WhenAll(fs);
  static_assert(std::is_same_v<decltype(all), Future<void>>);
  ops[1].state->Resolve();
  EXPECT_FALSE(all.IsReady());
  ops[0].state->Resolve();
  EXPECT_TRUE(all.IsReady());
  EXPECT_FALSE(all.state()->failed());
}

TEST_F(FutureTest, WhenAllOfAnEmptyVectorIsReadyAtOnce) {
  auto all = WhenAll(std::vector<Future<int>>{});
  ASSERT_TRUE(all.IsReady());
  EXPECT_TRUE(Value(all).empty());

  auto all_void = WhenAll(std::vector<Future<void>>{});
  EXPECT_TRUE(all_void.IsReady());
  EXPECT_FALSE(all_void.state()->failed());
}

TEST_F(FutureTest, WhenAllOfAlreadyReadyFuturesIsReadyAtOnce) {
  Op<int> a(&ex_);
  Op<int> b(&ex_);
  a.state->Resolve(1);
  b.state->Resolve(2);
  auto all = WhenAll(a.future(), b.future());
  ASSERT_TRUE(all.IsReady());
  EXPECT_EQ(Value(all), std::make_tuple(1, 2));
}

// ---- Abandon ----

TEST_F(FutureTest, AbandonDropsWaitersCallbacksAndCanceler) {
  Op<int> op(&ex_);
  bool called = false;
  op.state->AddWaiter(std::noop_coroutine());
  op.state->OnReady([&] { called = true; });
  op.state->Abandon();
  op.future().Cancel();
  EXPECT_EQ(op.canceled(), 0);
  op.state->Resolve(1);
  EXPECT_FALSE(called);
  EXPECT_TRUE(ex_.scheduled.empty());
}

}  // namespace
}  // namespace keel
