// Retry arithmetic: defaults, backoff growth and cap, non-retryable errors, attempt
// limits, error-supplied delays and the schedule-to-close deadline.
#include "engine/core/retry.h"

#include <gtest/gtest.h>

#include "engine/history/convert.h"

namespace keel::core {
namespace {

using namespace std::chrono_literals;

v1::Failure AppFailure(const std::string& type, bool non_retryable = false) {
  v1::Failure f;
  f.set_message("boom");
  f.mutable_application_failure_info()->set_type(type);
  f.mutable_application_failure_info()->set_non_retryable(non_retryable);
  return f;
}

TEST(RetryTest, DefaultsMatchTemporal) {
  v1::RetryPolicy p = WithRetryDefaults(v1::RetryPolicy());
  EXPECT_EQ(FromProtoDuration(p.initial_interval()), 1s);
  EXPECT_DOUBLE_EQ(p.backoff_coefficient(), 2.0);
  EXPECT_EQ(FromProtoDuration(p.maximum_interval()), 100s);
  EXPECT_EQ(p.maximum_attempts(), 0);
}

TEST(RetryTest, MaximumIntervalIsHundredTimesACustomInitial) {
  v1::RetryPolicy in;
  *in.mutable_initial_interval() = ToProtoDuration(3s);
  EXPECT_EQ(FromProtoDuration(WithRetryDefaults(in).maximum_interval()), 300s);
}

TEST(RetryTest, BackoffDoublesAndIsCapped) {
  v1::RetryPolicy p = WithRetryDefaults(v1::RetryPolicy());
  EXPECT_EQ(RetryBackoff(p, 1), 1s);
  EXPECT_EQ(RetryBackoff(p, 2), 2s);
  EXPECT_EQ(RetryBackoff(p, 3), 4s);
  EXPECT_EQ(RetryBackoff(p, 7), 64s);
  EXPECT_EQ(RetryBackoff(p, 8), 100s);
  EXPECT_EQ(RetryBackoff(p, 1000), 100s);  // no overflow
}

TEST(RetryTest, RetriesUntilMaximumAttempts) {
  v1::RetryPolicy in;
  in.set_maximum_attempts(3);
  v1::RetryPolicy p = WithRetryDefaults(in);
  Time now = ManualClock::DefaultStart();
  auto d1 = DecideRetry(p, 1, AppFailure("X"), now, std::nullopt);
  EXPECT_TRUE(d1.retry);
  EXPECT_EQ(d1.delay, 1s);
  auto d2 = DecideRetry(p, 2, AppFailure("X"), now, std::nullopt);
  EXPECT_TRUE(d2.retry);
  EXPECT_EQ(d2.delay, 2s);
  auto d3 = DecideRetry(p, 3, AppFailure("X"), now, std::nullopt);
  EXPECT_FALSE(d3.retry);
  EXPECT_EQ(d3.state, v1::RETRY_STATE_MAXIMUM_ATTEMPTS_REACHED);
}

TEST(RetryTest, NonRetryableFlagAndTypesStopRetries) {
  v1::RetryPolicy in;
  in.add_non_retryable_error_types("CardDeclinedFraud");
  v1::RetryPolicy p = WithRetryDefaults(in);
  Time now = ManualClock::DefaultStart();
  EXPECT_EQ(DecideRetry(p, 1, AppFailure("CardDeclinedFraud"), now, std::nullopt).state,
            v1::RETRY_STATE_NON_RETRYABLE_FAILURE);
  EXPECT_EQ(DecideRetry(p, 1, AppFailure("Other", true), now, std::nullopt).state,
            v1::RETRY_STATE_NON_RETRYABLE_FAILURE);
  EXPECT_TRUE(DecideRetry(p, 1, AppFailure("Other"), now, std::nullopt).retry);
}

// A worker without the activity's type did not run it: that is no attempt, so neither
// maximum_attempts nor the non-retryable types end the activity; the deadline still does.
TEST(RetryTest, AnUnregisteredActivityTypeIsNoAttempt) {
  v1::RetryPolicy in;
  in.set_maximum_attempts(1);
  in.add_non_retryable_error_types("ActivityTypeNotRegistered");
  v1::RetryPolicy p = WithRetryDefaults(in);
  Time now = ManualClock::DefaultStart();
  v1::Failure f = AppFailure("ActivityTypeNotRegistered");
  f.set_source("keel-cpp");  // as a Keel worker reports it
  auto d = DecideRetry(p, 5, f, now, std::nullopt);
  EXPECT_TRUE(d.retry);
  EXPECT_FALSE(d.counts);
  EXPECT_EQ(d.delay, 1s);  // the first backoff, however often it happened
  EXPECT_EQ(DecideRetry(p, 1, f, now, now + 500ms).state, v1::RETRY_STATE_TIMEOUT);
  EXPECT_TRUE(DecideRetry(p, 1, AppFailure("Other"), now, std::nullopt).counts);
  // The same name from elsewhere (not the SDK, or marked non-retryable) is an ordinary failure.
  EXPECT_FALSE(DecideRetry(p, 1, AppFailure("ActivityTypeNotRegistered"), now, std::nullopt).retry);
  v1::Failure final = AppFailure("ActivityTypeNotRegistered", true);
  final.set_source("keel-cpp");
  EXPECT_FALSE(DecideRetry(p, 1, final, now, std::nullopt).retry);
}

TEST(RetryTest, ErrorSuppliedDelayWins) {
  v1::RetryPolicy p = WithRetryDefaults(v1::RetryPolicy());
  v1::Failure f = AppFailure("RateLimited");
  *f.mutable_application_failure_info()->mutable_next_retry_delay() = ToProtoDuration(42s);
  auto d = DecideRetry(p, 1, f, ManualClock::DefaultStart(), std::nullopt);
  EXPECT_TRUE(d.retry);
  EXPECT_EQ(d.delay, 42s);
}

TEST(RetryTest, NoRetryPastTheScheduleToCloseDeadline) {
  v1::RetryPolicy p = WithRetryDefaults(v1::RetryPolicy());
  Time now = ManualClock::DefaultStart();
  auto d = DecideRetry(p, 3, AppFailure("X"), now, now + 3s);  // next backoff is 4 s
  EXPECT_FALSE(d.retry);
  EXPECT_EQ(d.state, v1::RETRY_STATE_TIMEOUT);
  EXPECT_TRUE(DecideRetry(p, 3, AppFailure("X"), now, now + 5s).retry);
}

TEST(RetryTest, OnlyAttemptTimeoutsAreRetried) {
  v1::RetryPolicy p = WithRetryDefaults(v1::RetryPolicy());
  Time now = ManualClock::DefaultStart();
  for (auto [type, retry] : {std::pair{v1::TIMEOUT_TYPE_START_TO_CLOSE, true},
                             std::pair{v1::TIMEOUT_TYPE_HEARTBEAT, true},
                             std::pair{v1::TIMEOUT_TYPE_SCHEDULE_TO_START, false},
                             std::pair{v1::TIMEOUT_TYPE_SCHEDULE_TO_CLOSE, false}}) {
    v1::Failure f;
    f.mutable_timeout_failure_info()->set_timeout_type(type);
    EXPECT_EQ(DecideRetry(p, 1, f, now, std::nullopt).retry, retry) << v1::TimeoutType_Name(type);
  }
}

}  // namespace
}  // namespace keel::core
