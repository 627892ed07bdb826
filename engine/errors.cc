#include "engine/errors.h"

namespace keel {

std::string_view TimeoutTypeName(TimeoutType t) {
  switch (t) {
    case TimeoutType::kStartToClose: return "start-to-close";
    case TimeoutType::kScheduleToStart: return "schedule-to-start";
    case TimeoutType::kScheduleToClose: return "schedule-to-close";
    case TimeoutType::kHeartbeat: return "heartbeat";
    case TimeoutType::kUnspecified: break;
  }
  return "unspecified";
}

std::string_view RetryStateName(RetryState s) {
  switch (s) {
    case RetryState::kInProgress: return "in progress";
    case RetryState::kNonRetryableFailure: return "non-retryable failure";
    case RetryState::kTimeout: return "timeout";
    case RetryState::kMaximumAttemptsReached: return "maximum attempts reached";
    case RetryState::kRetryPolicyNotSet: return "retry policy not set";
    case RetryState::kCancelRequested: return "cancel requested";
    case RetryState::kUnspecified: break;
  }
  return "unspecified";
}

namespace {
std::string ActivityMessage(const std::string& type, const std::string& id, RetryState state,
                            const Error* cause) {
  std::string m = "activity '" + type + "' (id " + id + ") failed";
  if (state != RetryState::kUnspecified && state != RetryState::kInProgress) {
    m += " (" + std::string(RetryStateName(state)) + ")";
  }
  if (cause) m += ": " + std::string(cause->what());
  return m;
}
}  // namespace

ActivityFailure::ActivityFailure(std::string activity_type, std::string activity_id,
                                 RetryState retry_state, std::shared_ptr<const Error> cause)
    : Error(ActivityMessage(activity_type, activity_id, retry_state, cause.get()), cause),
      activity_type_(std::move(activity_type)),
      activity_id_(std::move(activity_id)),
      retry_state_(retry_state) {}

std::string ActivityFailure::ErrorType() const {
  if (auto* app = dynamic_cast<const ApplicationError*>(Cause())) return app->Type();
  return "";
}

ChildWorkflowFailure::ChildWorkflowFailure(std::string workflow_type, std::string workflow_id,
                                           std::string run_id, std::shared_ptr<const Error> cause)
    : Error("child workflow '" + workflow_type + "' (id " + workflow_id + ") did not complete" +
                (cause ? ": " + std::string(cause->what()) : ""),
            cause),
      workflow_type_(std::move(workflow_type)),
      workflow_id_(std::move(workflow_id)),
      run_id_(std::move(run_id)) {}

WorkflowFailedError::WorkflowFailedError(std::string workflow_id, std::string run_id,
                                         std::string status, std::shared_ptr<const Error> cause)
    : Error("workflow '" + workflow_id + "' " + status + (cause ? ": " + std::string(cause->what()) : ""),
            cause),
      workflow_id_(std::move(workflow_id)),
      run_id_(std::move(run_id)),
      status_(std::move(status)) {}

}  // namespace keel
