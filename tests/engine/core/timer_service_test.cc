// TimerService over a real SQLite store with a ManualClock: firing order, the in-memory
// window, timers committed before start or after it, volatile deadlines.
#include "engine/core/timer_service.h"

#include <gtest/gtest.h>

#include <condition_variable>
#include <mutex>
#include <vector>

#include "engine/store/sqlite_store.h"
#include "tests/support/temp_dir.h"

namespace keel::core {
namespace {

using namespace std::chrono_literals;

class TimerServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store::SqliteStoreOptions o;
    o.path = dir_.File("keel.db");
    store_ = std::move(store::SqliteStore::Open(o)).value();
  }

  std::unique_ptr<TimerService> Make(int threads = 1) {
    TimerService::Options o;
    o.window = 60s;
    o.fire_threads = threads;
    return std::make_unique<TimerService>(clock_, *store_, [this](const TimerEntryKey& k, Time) {
      if (k.kind < 100) {  // durable: delete the row, as the engine's fire transition does
        store::Transition t;
        t.remove_timers.push_back({k.exec_id, static_cast<store::TimerKind>(k.kind), k.ref});
        ASSERT_TRUE(store_->Commit(std::move(t)).ok());
      }
      std::lock_guard<std::mutex> g(mu_);
      fired_.push_back(k.ref);
      cv_.notify_all();
    }, o);
  }

  store::TimerRow Row(int64_t ref, Duration from_now) {
    return {{1, store::TimerKind::kUserTimer, ref}, ToMicros(clock_.Now() + from_now)};
  }
  void CommitTimers(const std::vector<store::TimerRow>& rows) {
    store::Transition t;
    t.add_timers = rows;
    ASSERT_TRUE(store_->Commit(std::move(t)).ok());
  }
  std::vector<int64_t> WaitFired(size_t n) {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] { return fired_.size() >= n; });
    return fired_;
  }
  size_t FiredCount() {
    std::lock_guard<std::mutex> g(mu_);
    return fired_.size();
  }

  keel::testing::TempDir dir_;
  ManualClock clock_;
  std::unique_ptr<store::SqliteStore> store_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<int64_t> fired_;
};

TEST_F(TimerServiceTest, FiresCommittedTimersInFireTimeOrder) {
  CommitTimers({Row(3, 30s), Row(1, 10s), Row(2, 20s)});
  auto ts = Make();
  ASSERT_TRUE(ts->Start().ok());
  clock_.Advance(30s);
  EXPECT_EQ(WaitFired(3), (std::vector<int64_t>{1, 2, 3}));
}

TEST_F(TimerServiceTest, KeepsOnlyTheNearestTimersInMemory) {
  CommitTimers({Row(1, 10s), Row(2, 24h), Row(3, 24h * 30)});
  auto ts = Make();
  ASSERT_TRUE(ts->Start().ok());
  EXPECT_EQ(ts->InMemory(), 1u);  // only the one inside the 60 s window
  EXPECT_EQ(ts->NextFireTime(), clock_.Now() + 10s);
  clock_.Advance(24h * 30);
  EXPECT_EQ(WaitFired(3), (std::vector<int64_t>{1, 2, 3}));
}

TEST_F(TimerServiceTest, TimerCommittedAfterStartFires) {
  auto ts = Make();
  ASSERT_TRUE(ts->Start().ok());
  auto near = Row(1, 5s);
  auto far = Row(2, 24h * 365);
  CommitTimers({near, far});
  ts->OnCommitted({near, far}, {});
  clock_.Advance(5s);
  EXPECT_EQ(WaitFired(1), (std::vector<int64_t>{1}));
  clock_.Advance(24h * 365);
  EXPECT_EQ(WaitFired(2), (std::vector<int64_t>{1, 2}));
}

TEST_F(TimerServiceTest, RemovedTimerDoesNotFire) {
  auto ts = Make();
  ASSERT_TRUE(ts->Start().ok());
  auto a = Row(1, 5s);
  auto b = Row(2, 10s);
  CommitTimers({a, b});
  ts->OnCommitted({a, b}, {});
  ts->OnCommitted({}, {a.key});
  clock_.Advance(10s);
  EXPECT_EQ(WaitFired(1), (std::vector<int64_t>{2}));
}

TEST_F(TimerServiceTest, OverdueTimersFireAtStart) {
  CommitTimers({Row(1, -1h)});
  auto ts = Make();
  ASSERT_TRUE(ts->Start().ok());
  EXPECT_EQ(WaitFired(1), (std::vector<int64_t>{1}));
}

TEST_F(TimerServiceTest, DeadlinesFireAndCanBeClearedOrMoved) {
  auto ts = Make();
  ASSERT_TRUE(ts->Start().ok());
  ts->SetDeadline(DeadlineKind::kActivityLease, 1, 10, clock_.Now() + 10s);
  ts->SetDeadline(DeadlineKind::kActivityLease, 1, 11, clock_.Now() + 10s);
  ts->ClearDeadline(DeadlineKind::kActivityLease, 1, 11);
  ts->SetDeadline(DeadlineKind::kActivityHeartbeat, 1, 12, clock_.Now() + 5s);
  ts->SetDeadline(DeadlineKind::kActivityHeartbeat, 1, 12, clock_.Now() + 20s);  // moved later
  clock_.Advance(10s);
  EXPECT_EQ(WaitFired(1), (std::vector<int64_t>{10}));
  clock_.Advance(10s);
  EXPECT_EQ(WaitFired(2), (std::vector<int64_t>{10, 12}));
}

TEST_F(TimerServiceTest, StoppedServiceLeavesTimersInTheStore) {
  {
    auto ts = Make();
    ASSERT_TRUE(ts->Start().ok());
    CommitTimers({Row(1, 1h)});
    ts->Stop();
  }
  EXPECT_EQ(FiredCount(), 0u);
  auto rows = store_->LoadTimers(0, ToMicros(clock_.Now() + 2h));
  ASSERT_TRUE(rows.ok());
  EXPECT_EQ(rows->size(), 1u);
}

}  // namespace
}  // namespace keel::core
