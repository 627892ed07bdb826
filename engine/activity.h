// Activities: the functions with side effects (HTTP, databases, LLM calls, tools) that
// workflow code schedules. ActivityOptions says how long an attempt may take and how it
// is retried; ActivityContext is what the running function sees: its attempt, a stable
// idempotency key, heartbeats and cancellation. An activity runs at least once; pass the
// idempotency key to the service you call so a retried attempt does the thing only once.
#pragma once

#include <atomic>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "engine/clock.h"
#include "engine/errors.h"
#include "engine/payload.h"

namespace keel {

// Zero values mean the default: initial interval 1 s, coefficient 2.0, maximum interval
// 100 x initial, unlimited attempts.
struct RetryPolicy {
  Duration initial_interval{};
  double backoff_coefficient = 0;
  Duration maximum_interval{};
  int maximum_attempts = 0;  // 0 = unlimited
  // ApplicationError types that are never retried.
  std::vector<std::string> non_retryable;
};

// What awaiting a cancelled activity does.
enum class ActivityCancellation {
  kTryCancel,                  // fail with CanceledError at once; the attempt is told to stop (default)
  kWaitCancellationCompleted,  // wait until the attempt reports how it ended
};

struct ActivityOptions {
  // How long one attempt may run. Required unless schedule_to_close is set.
  Duration start_to_close{};
  // How long all attempts together may take (0 = no limit).
  Duration schedule_to_close{};
  // How long an attempt may wait for a worker (0 = no limit).
  Duration schedule_to_start{};
  // An attempt that does not heartbeat this often is timed out and retried (0 = off).
  Duration heartbeat{};
  RetryPolicy retry;
  // The task queue of the workers that run it (empty = the workflow's).
  std::string task_queue;
  // Defaults to a sequence number unique within the run.
  std::string activity_id;
  ActivityCancellation cancellation = ActivityCancellation::kTryCancel;
};

struct ActivityInfo {
  std::string namespace_name;
  std::string workflow_id;
  std::string run_id;
  std::string workflow_type;
  std::string activity_id;
  std::string activity_type;
  std::string task_queue;
  int attempt = 1;
  Time scheduled_time;
  Time started_time;
  Duration start_to_close_timeout{};
  Duration heartbeat_timeout{};
  // namespace/workflow id/run id/activity id: the same for every attempt of this
  // activity and different for every other activity, including those of later runs of
  // the same workflow id.
  std::string idempotency_key;
};

// Given to a running activity. Valid for the call only; used from the calling thread.
class ActivityContext {
 public:
  using HeartbeatFn = std::function<bool(const Payloads& details)>;  // returns "cancel requested"

  ActivityContext(ActivityInfo info, Payloads last_heartbeat_details, HeartbeatFn heartbeat)
      : info_(std::move(info)),
        previous_details_(std::move(last_heartbeat_details)),
        heartbeat_(std::move(heartbeat)) {}

  const ActivityInfo& Info() const { return info_; }
  int Attempt() const { return info_.attempt; }
  const std::string& IdempotencyKey() const { return info_.idempotency_key; }

  // Tells the engine the activity is alive (resetting its heartbeat timeout) and records
  // `details` (progress) for the next attempt should this one fail.
  void Heartbeat() { Heartbeat(Payloads{}); }
  template <typename T>
  void Heartbeat(const T& details) {
    Heartbeat(Payloads{ToPayload(details)});
  }
  void Heartbeat(const Payloads& details);

  // The details of the previous attempt's last heartbeat, if it sent any.
  template <typename T>
  std::optional<T> HeartbeatDetails() const {
    if (previous_details_.empty()) return std::nullopt;
    return FromPayload<T>(previous_details_.front());
  }

  // True once the workflow asked to cancel this activity (learned through Heartbeat).
  bool IsCancelled() const { return cancelled_.load(); }
  // Throws CanceledError when IsCancelled().
  void ThrowIfCancelled() const {
    if (IsCancelled()) throw CanceledError("activity canceled");
  }

  // The details of the last Heartbeat call (reported with a failure).
  const Payloads& LastDetails() const { return last_details_; }
  void MarkCancelled() { cancelled_ = true; }

 private:
  ActivityInfo info_;
  Payloads previous_details_;
  Payloads last_details_;
  HeartbeatFn heartbeat_;
  std::atomic<bool> cancelled_{false};
};

inline void ActivityContext::Heartbeat(const Payloads& details) {
  if (!details.empty()) last_details_ = details;
  if (heartbeat_ && heartbeat_(details)) cancelled_ = true;
}

}  // namespace keel
