#include "engine/core/retry.h"

#include <algorithm>
#include <cmath>

#include "engine/errors.h"
#include "engine/history/convert.h"

namespace keel::core {

v1::RetryPolicy WithRetryDefaults(const v1::RetryPolicy& policy) {
  v1::RetryPolicy p = policy;
  Duration initial = FromProtoDuration(p.initial_interval());
  if (initial <= Duration::zero()) {
    initial = std::chrono::seconds(1);
    *p.mutable_initial_interval() = ToProtoDuration(initial);
  }
  if (p.backoff_coefficient() < 1.0) p.set_backoff_coefficient(2.0);
  if (FromProtoDuration(p.maximum_interval()) <= Duration::zero()) {
    *p.mutable_maximum_interval() = ToProtoDuration(initial * 100);
  }
  if (p.maximum_attempts() < 0) p.set_maximum_attempts(0);
  return p;
}

Duration RetryBackoff(const v1::RetryPolicy& policy, int failed_attempt) {
  double initial = std::chrono::duration<double>(FromProtoDuration(policy.initial_interval())).count();
  double maximum = std::chrono::duration<double>(FromProtoDuration(policy.maximum_interval())).count();
  double delay = initial * std::pow(policy.backoff_coefficient(), std::max(0, failed_attempt - 1));
  delay = std::min(delay, maximum);  // also tames inf from huge exponents
  return std::chrono::duration_cast<Duration>(std::chrono::duration<double>(delay));
}

RetryDecision DecideRetry(const v1::RetryPolicy& policy, int failed_attempt,
                          const v1::Failure& failure, Time now, std::optional<Time> deadline) {
  RetryDecision d;
  // Only as Keel's SDK reports it (its source, retryable): other code may use the name.
  if (failure.has_application_failure_info() && failure.source() == "keel-cpp" &&
      failure.application_failure_info().type() == kActivityTypeNotRegistered &&
      !failure.application_failure_info().non_retryable()) {
    // The worker did not have the activity's type, so it did not run it: no attempt was
    // made. Handed out again after the first backoff until a worker has the type.
    d.counts = false;
    d.delay = RetryBackoff(policy, 1);
    if (deadline && now + d.delay >= *deadline) {
      d.state = v1::RETRY_STATE_TIMEOUT;
      return d;
    }
    d.retry = true;
    d.state = v1::RETRY_STATE_IN_PROGRESS;
    return d;
  }
  if (failure.has_application_failure_info()) {
    const auto& app = failure.application_failure_info();
    if (app.non_retryable()) {
      d.state = v1::RETRY_STATE_NON_RETRYABLE_FAILURE;
      return d;
    }
    for (const auto& t : policy.non_retryable_error_types()) {
      if (t == app.type()) {
        d.state = v1::RETRY_STATE_NON_RETRYABLE_FAILURE;
        return d;
      }
    }
  }
  if (failure.has_timeout_failure_info()) {
    auto t = failure.timeout_failure_info().timeout_type();
    // Only a timed-out attempt is worth retrying; waiting for a worker or the overall
    // deadline will not get better by trying again.
    if (t == v1::TIMEOUT_TYPE_SCHEDULE_TO_START || t == v1::TIMEOUT_TYPE_SCHEDULE_TO_CLOSE) {
      d.state = v1::RETRY_STATE_TIMEOUT;
      return d;
    }
  }
  if (policy.maximum_attempts() > 0 && failed_attempt >= policy.maximum_attempts()) {
    d.state = v1::RETRY_STATE_MAXIMUM_ATTEMPTS_REACHED;
    return d;
  }
  Duration delay = RetryBackoff(policy, failed_attempt);
  if (failure.has_application_failure_info() &&
      failure.application_failure_info().has_next_retry_delay()) {
    delay = std::max(Duration::zero(),
                     FromProtoDuration(failure.application_failure_info().next_retry_delay()));
  }
  if (deadline && now + delay >= *deadline) {
    d.state = v1::RETRY_STATE_TIMEOUT;
    return d;
  }
  d.retry = true;
  d.delay = delay;
  d.state = v1::RETRY_STATE_IN_PROGRESS;
  return d;
}

}  // namespace keel::core
