// The exceptions of Keel's user API. Workflow code catches keel::ActivityFailure for a
// saga; activity code throws keel::ApplicationError. Every keel::Error thrown out of a
// workflow fails the workflow; any other exception (a bug, a PayloadError, a
// NonDeterminismError) fails only the workflow *task*, which is retried, so deploying a
// fixed build continues the run. Values; thread-compatible.
#pragma once

#include <memory>
#include <optional>
#include <stdexcept>
#include <string>

#include "engine/clock.h"
#include "engine/payload.h"

namespace keel {

enum class TimeoutType { kUnspecified = 0, kStartToClose = 1, kScheduleToStart = 2, kScheduleToClose = 3, kHeartbeat = 4 };

// Why retrying stopped (mirrors keel.v1.RetryState).
enum class RetryState {
  kUnspecified = 0,
  kInProgress = 1,
  kNonRetryableFailure = 2,
  kTimeout = 3,
  kMaximumAttemptsReached = 4,
  kRetryPolicyNotSet = 5,
  kCancelRequested = 6,
};

std::string_view TimeoutTypeName(TimeoutType t);
std::string_view RetryStateName(RetryState s);

// Base of every failure that crosses the workflow boundary; may carry a cause.
class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message, std::shared_ptr<const Error> cause = nullptr)
      : std::runtime_error(message), cause_(std::move(cause)) {}

  const Error* Cause() const { return cause_.get(); }
  const std::shared_ptr<const Error>& SharedCause() const { return cause_; }
  // A copy with the same dynamic type, so it can become another error's cause.
  virtual std::shared_ptr<const Error> Clone() const = 0;
  virtual std::string_view Kind() const = 0;

 private:
  std::shared_ptr<const Error> cause_;
};

struct ApplicationErrorOptions {
  bool non_retryable = false;
  Payloads details;
  // Overrides the retry policy's backoff for the next attempt (e.g. a Retry-After).
  std::optional<Duration> next_retry_delay;
  std::shared_ptr<const Error> cause;
};

// The ApplicationError type a worker reports for an activity type it does not have. The
// engine does not count it as an attempt: the activity stays pending (retried after the
// policy's first backoff, whatever its maximum_attempts and non-retryable types) until a
// worker that has the type takes it, or its schedule-to-close timeout ends it.
inline constexpr char kActivityTypeNotRegistered[] = "ActivityTypeNotRegistered";

// The ApplicationError type (non-retryable) of an attempt whose result the engine refused
// as bad input, a payload over its size limit say: the same result would be refused
// again, so the attempt fails at once instead of running again when its timeout expires.
inline constexpr char kActivityResultRefused[] = "ActivityResultRefused";

// An error raised by user code. `type` names it for RetryPolicy non-retryable types and
// for catch sites ("CardDeclinedFraud").
class ApplicationError : public Error {
 public:
  ApplicationError(std::string type, const std::string& message, ApplicationErrorOptions options = {})
      : Error(message, options.cause), type_(std::move(type)), options_(std::move(options)) {}

  const std::string& Type() const { return type_; }
  bool NonRetryable() const { return options_.non_retryable; }
  const Payloads& Details() const { return options_.details; }
  const std::optional<Duration>& NextRetryDelay() const { return options_.next_retry_delay; }

  std::shared_ptr<const Error> Clone() const override { return std::make_shared<ApplicationError>(*this); }
  std::string_view Kind() const override { return "ApplicationError"; }

 private:
  std::string type_;
  ApplicationErrorOptions options_;
};

class TimeoutError : public Error {
 public:
  TimeoutError(TimeoutType type, const std::string& message, Payloads last_heartbeat_details = {})
      : Error(message), type_(type), last_heartbeat_details_(std::move(last_heartbeat_details)) {}
  TimeoutType Type() const { return type_; }
  const Payloads& LastHeartbeatDetails() const { return last_heartbeat_details_; }
  std::shared_ptr<const Error> Clone() const override { return std::make_shared<TimeoutError>(*this); }
  std::string_view Kind() const override { return "TimeoutError"; }

 private:
  TimeoutType type_;
  Payloads last_heartbeat_details_;
};

// The operation (or the whole workflow) was cancelled.
class CanceledError : public Error {
 public:
  explicit CanceledError(const std::string& message = "canceled", Payloads details = {})
      : Error(message), details_(std::move(details)) {}
  const Payloads& Details() const { return details_; }
  std::shared_ptr<const Error> Clone() const override { return std::make_shared<CanceledError>(*this); }
  std::string_view Kind() const override { return "CanceledError"; }

 private:
  Payloads details_;
};

class TerminatedError : public Error {
 public:
  explicit TerminatedError(const std::string& message = "terminated") : Error(message) {}
  std::shared_ptr<const Error> Clone() const override { return std::make_shared<TerminatedError>(*this); }
  std::string_view Kind() const override { return "TerminatedError"; }
};

// An error the engine reported about itself (rather than user code).
class ServerError : public Error {
 public:
  explicit ServerError(const std::string& message, bool non_retryable = false)
      : Error(message), non_retryable_(non_retryable) {}
  bool NonRetryable() const { return non_retryable_; }
  std::shared_ptr<const Error> Clone() const override { return std::make_shared<ServerError>(*this); }
  std::string_view Kind() const override { return "ServerError"; }

 private:
  bool non_retryable_;
};

// An activity failed for good (retries exhausted, non-retryable error, timeout, cancel).
// Cause() says why: an ApplicationError, TimeoutError or CanceledError.
class ActivityFailure : public Error {
 public:
  ActivityFailure(std::string activity_type, std::string activity_id, RetryState retry_state,
                  std::shared_ptr<const Error> cause);
  const std::string& ActivityType() const { return activity_type_; }
  const std::string& ActivityId() const { return activity_id_; }
  RetryState GetRetryState() const { return retry_state_; }
  // The ApplicationError type of the cause ("" when the cause is not an ApplicationError).
  std::string ErrorType() const;
  std::shared_ptr<const Error> Clone() const override { return std::make_shared<ActivityFailure>(*this); }
  std::string_view Kind() const override { return "ActivityFailure"; }

 private:
  std::string activity_type_;
  std::string activity_id_;
  RetryState retry_state_;
};

// A child workflow ended without a result (failed, canceled, timed out, terminated) or
// could not be started. Cause() says why.
class ChildWorkflowFailure : public Error {
 public:
  ChildWorkflowFailure(std::string workflow_type, std::string workflow_id, std::string run_id,
                       std::shared_ptr<const Error> cause);
  const std::string& WorkflowType() const { return workflow_type_; }
  const std::string& WorkflowId() const { return workflow_id_; }
  const std::string& RunId() const { return run_id_; }
  std::shared_ptr<const Error> Clone() const override { return std::make_shared<ChildWorkflowFailure>(*this); }
  std::string_view Kind() const override { return "ChildWorkflowFailure"; }

 private:
  std::string workflow_type_;
  std::string workflow_id_;
  std::string run_id_;
};

// Client side: the workflow run ended without a result. Cause() says why.
class WorkflowFailedError : public Error {
 public:
  WorkflowFailedError(std::string workflow_id, std::string run_id, std::string status,
                      std::shared_ptr<const Error> cause);
  const std::string& WorkflowId() const { return workflow_id_; }
  const std::string& RunId() const { return run_id_; }
  const std::string& Status() const { return status_; }  // "failed", "terminated", ...
  std::shared_ptr<const Error> Clone() const override { return std::make_shared<WorkflowFailedError>(*this); }
  std::string_view Kind() const override { return "WorkflowFailedError"; }

 private:
  std::string workflow_id_;
  std::string run_id_;
  std::string status_;
};

// Replayed workflow code produced something other than what the history recorded.
// Fails the workflow task (not the workflow): restore the code or use ctx.Patched().
class NonDeterminismError : public std::runtime_error {
 public:
  NonDeterminismError(int64_t event_id, const std::string& message)
      : std::runtime_error(message), event_id_(event_id) {}
  int64_t EventId() const { return event_id_; }

 private:
  int64_t event_id_;
};

// A client call the engine refused or could not serve (bad arguments, unknown workflow,
// already started, unavailable). Code() is the engine's StatusCode as an int.
class ClientError : public std::runtime_error {
 public:
  ClientError(int code, const std::string& message) : std::runtime_error(message), code_(code) {}
  int Code() const { return code_; }

 private:
  int code_;
};

}  // namespace keel
