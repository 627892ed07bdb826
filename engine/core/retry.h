// Retry arithmetic for activities and workflow tasks: pure functions of the policy,
// the attempt that just failed and the failure, so they are tested without an engine.
// Defaults match what Temporal users expect: initial 1 s, coefficient 2.0, maximum
// interval 100 x initial, unlimited attempts.
#pragma once

#include <optional>

#include "engine/clock.h"
#include "keel/v1/common.pb.h"

namespace keel::core {

// The policy with every unset field filled with its default.
v1::RetryPolicy WithRetryDefaults(const v1::RetryPolicy& policy);

// The backoff before attempt `failed_attempt + 1`: initial * coefficient^(failed_attempt-1),
// capped at the maximum interval. `policy` must have its defaults filled.
Duration RetryBackoff(const v1::RetryPolicy& policy, int failed_attempt);

struct RetryDecision {
  bool retry = false;
  Duration delay{0};
  v1::RetryState state = v1::RETRY_STATE_UNSPECIFIED;  // why not, when retry is false
  bool counts = true;  // false: the failure was no attempt (kActivityTypeNotRegistered)
};

// Decides whether attempt `failed_attempt` is retried. `failure` is what the attempt
// reported (its application info may carry non_retryable or next_retry_delay);
// `deadline` is the schedule-to-close deadline, if any.
RetryDecision DecideRetry(const v1::RetryPolicy& policy, int failed_attempt,
                          const v1::Failure& failure, Time now, std::optional<Time> deadline);

}  // namespace keel::core
