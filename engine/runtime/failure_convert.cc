#include "engine/runtime/failure_convert.h"

#include <cxxabi.h>

#include <cstdlib>
#include <typeinfo>

#include "engine/history/convert.h"
#include "engine/utf8.h"

namespace keel::internal {

namespace {
constexpr char kSource[] = "keel-cpp";
}

std::string ExceptionTypeName(const std::exception& e) {
  int status = 0;
  const char* mangled = typeid(e).name();
  char* demangled = abi::__cxa_demangle(mangled, nullptr, nullptr, &status);
  std::string out = status == 0 && demangled ? demangled : mangled;
  std::free(demangled);
  return out;
}

std::exception_ptr ToExceptionPtr(const Error& error) {
  if (auto* e = dynamic_cast<const ApplicationError*>(&error)) return std::make_exception_ptr(*e);
  if (auto* e = dynamic_cast<const TimeoutError*>(&error)) return std::make_exception_ptr(*e);
  if (auto* e = dynamic_cast<const CanceledError*>(&error)) return std::make_exception_ptr(*e);
  if (auto* e = dynamic_cast<const TerminatedError*>(&error)) return std::make_exception_ptr(*e);
  if (auto* e = dynamic_cast<const ServerError*>(&error)) return std::make_exception_ptr(*e);
  if (auto* e = dynamic_cast<const ActivityFailure*>(&error)) return std::make_exception_ptr(*e);
  if (auto* e = dynamic_cast<const WorkflowFailedError*>(&error)) return std::make_exception_ptr(*e);
  return std::make_exception_ptr(ApplicationError(std::string(error.Kind()), error.what()));
}

v1::Failure ErrorToFailure(const Error& error) {
  v1::Failure f;
  f.set_message(ToValidUtf8(error.what()));
  f.set_source(kSource);
  if (auto* e = dynamic_cast<const ApplicationError*>(&error)) {
    auto* info = f.mutable_application_failure_info();
    info->set_type(ToValidUtf8(e->Type()));
    info->set_non_retryable(e->NonRetryable());
    *info->mutable_details() = ToProto(e->Details());
    if (e->NextRetryDelay()) *info->mutable_next_retry_delay() = ToProtoDuration(*e->NextRetryDelay());
  } else if (auto* e = dynamic_cast<const TimeoutError*>(&error)) {
    auto* info = f.mutable_timeout_failure_info();
    info->set_timeout_type(static_cast<v1::TimeoutType>(e->Type()));
    *info->mutable_last_heartbeat_details() = ToProto(e->LastHeartbeatDetails());
  } else if (auto* e = dynamic_cast<const CanceledError*>(&error)) {
    *f.mutable_canceled_failure_info()->mutable_details() = ToProto(e->Details());
  } else if (dynamic_cast<const TerminatedError*>(&error)) {
    f.mutable_terminated_failure_info();
  } else if (auto* e = dynamic_cast<const ServerError*>(&error)) {
    f.mutable_server_failure_info()->set_non_retryable(e->NonRetryable());
  } else if (auto* e = dynamic_cast<const ActivityFailure*>(&error)) {
    auto* info = f.mutable_activity_failure_info();
    info->set_activity_type(e->ActivityType());
    info->set_activity_id(e->ActivityId());
    info->set_retry_state(static_cast<v1::RetryState>(e->GetRetryState()));
    // The cause carries the detail; keep the outer message short.
    f.set_message("activity '" + e->ActivityType() + "' failed");
  } else {
    auto* info = f.mutable_application_failure_info();
    info->set_type(std::string(error.Kind()));
  }
  if (error.Cause()) *f.mutable_cause() = ErrorToFailure(*error.Cause());
  return f;
}

v1::Failure ExceptionToFailure(std::exception_ptr ep) {
  try {
    std::rethrow_exception(ep);
  } catch (const Error& e) {
    return ErrorToFailure(e);
  } catch (const std::exception& e) {
    v1::Failure f;
    f.set_message(ToValidUtf8(e.what()));  // any bytes: a file name, a reply cut short
    f.set_source(kSource);
    f.mutable_application_failure_info()->set_type(ToValidUtf8(ExceptionTypeName(e)));
    return f;
  } catch (...) {
    v1::Failure f;
    f.set_message("unknown exception (not derived from std::exception)");
    f.set_source(kSource);
    f.mutable_application_failure_info()->set_type("unknown");
    return f;
  }
}

std::shared_ptr<const Error> FailureToError(const v1::Failure& f) {
  std::shared_ptr<const Error> cause;
  if (f.has_cause()) cause = FailureToError(f.cause());
  switch (f.failure_info_case()) {
    case v1::Failure::kTimeoutFailureInfo:
      return std::make_shared<TimeoutError>(static_cast<TimeoutType>(f.timeout_failure_info().timeout_type()),
                                            f.message(),
                                            FromProto(f.timeout_failure_info().last_heartbeat_details()));
    case v1::Failure::kCanceledFailureInfo:
      return std::make_shared<CanceledError>(f.message(), FromProto(f.canceled_failure_info().details()));
    case v1::Failure::kTerminatedFailureInfo:
      return std::make_shared<TerminatedError>(f.message());
    case v1::Failure::kServerFailureInfo:
      return std::make_shared<ServerError>(f.message(), f.server_failure_info().non_retryable());
    case v1::Failure::kActivityFailureInfo: {
      const auto& info = f.activity_failure_info();
      return std::make_shared<ActivityFailure>(info.activity_type(), info.activity_id(),
                                               static_cast<RetryState>(info.retry_state()), cause);
    }
    case v1::Failure::kApplicationFailureInfo: {
      const auto& info = f.application_failure_info();
      ApplicationErrorOptions o;
      o.non_retryable = info.non_retryable();
      o.details = FromProto(info.details());
      if (info.has_next_retry_delay()) o.next_retry_delay = FromProtoDuration(info.next_retry_delay());
      o.cause = cause;
      return std::make_shared<ApplicationError>(info.type(), f.message(), std::move(o));
    }
    default: {
      ApplicationErrorOptions o;
      o.cause = cause;
      return std::make_shared<ApplicationError>("", f.message(), std::move(o));
    }
  }
}

}  // namespace keel::internal
