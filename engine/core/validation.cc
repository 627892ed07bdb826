#include "engine/core/validation.h"

#include <cmath>
#include <string>
#include <vector>

#include "engine/utf8.h"

namespace keel::core {

Status ValidateName(const std::string& value, const char* what, bool required) {
  if (value.empty()) {
    if (required) return InvalidArgument(std::string(what) + " is required");
    return Status::Ok();
  }
  if (value.size() > kMaxIdBytes) {
    return InvalidArgument(std::string(what) + " is " + std::to_string(value.size()) +
                           " bytes; the limit is " + std::to_string(kMaxIdBytes));
  }
  for (unsigned char c : value) {
    if (c < 0x20 || c == 0x7f) {
      return InvalidArgument(std::string(what) + " contains a control character");
    }
  }
  if (!IsValidUtf8(value)) return InvalidArgument(std::string(what) + " is not valid UTF-8");
  return Status::Ok();
}

Status ValidateText(const std::string& value, const char* what) {
  if (value.size() > kMaxTextBytes) {
    return InvalidArgument(std::string(what) + " is " + std::to_string(value.size()) +
                           " bytes; the limit is " + std::to_string(kMaxTextBytes));
  }
  if (!IsValidUtf8(value)) return InvalidArgument(std::string(what) + " is not valid UTF-8");
  return Status::Ok();
}

Status ValidateDuration(const google::protobuf::Duration& d, const char* what) {
  if (d.seconds() < 0 || d.nanos() < 0)
    return InvalidArgument(std::string(what) + " must not be negative");
  if (d.nanos() >= 1000000000)
    return InvalidArgument(std::string(what) + " has nanos over 999999999");
  if (d.seconds() > kMaxDurationSeconds) {
    return InvalidArgument(std::string(what) + " is " + std::to_string(d.seconds()) +
                           " s; the limit is 100 years");
  }
  return Status::Ok();
}

Status ValidateTime(const google::protobuf::Timestamp& t, const char* what) {
  if (t.seconds() < 0 || t.seconds() > kMaxTimeSeconds || t.nanos() < 0 ||
      t.nanos() >= 1000000000) {
    return InvalidArgument(std::string(what) + " must be between 1970 and 2200");
  }
  return Status::Ok();
}

Status ValidateRetryPolicy(const v1::RetryPolicy& p, const char* what) {
  const std::string w(what);
  KEEL_RETURN_IF_ERROR(ValidateDuration(p.initial_interval(), (w + " initial_interval").c_str()));
  KEEL_RETURN_IF_ERROR(ValidateDuration(p.maximum_interval(), (w + " maximum_interval").c_str()));
  if (p.initial_interval().seconds() > 365LL * 24 * 3600) {
    return InvalidArgument(w + " initial_interval is over a year");
  }
  const double c = p.backoff_coefficient();
  if (!std::isfinite(c) || (c != 0 && c < 1)) {
    return InvalidArgument(w + " backoff_coefficient must be at least 1 (or 0 for the default 2)");
  }
  if (p.maximum_attempts() < 0)
    return InvalidArgument(w + " maximum_attempts must not be negative");
  for (const auto& type : p.non_retryable_error_types()) {
    KEEL_RETURN_IF_ERROR(ValidateName(type, (w + " non_retryable_error_types entry").c_str()));
  }
  return Status::Ok();
}

namespace {

// The first string field (at any depth) of `m` that is not valid UTF-8, as a field path;
// empty when there is none.
std::string InvalidUtf8Field(const google::protobuf::Message& m) {
  const google::protobuf::Reflection* r = m.GetReflection();
  std::vector<const google::protobuf::FieldDescriptor*> fields;
  r->ListFields(m, &fields);
  for (const auto* field : fields) {
    using FD = google::protobuf::FieldDescriptor;
    if (field->type() == FD::TYPE_STRING) {
      const int n = field->is_repeated() ? r->FieldSize(m, field) : 1;
      for (int i = 0; i < n; ++i) {
        std::string scratch;
        const std::string& v = field->is_repeated() ? r->GetRepeatedStringReference(m, field, i, &scratch)
                                                    : r->GetStringReference(m, field, &scratch);
        if (!IsValidUtf8(v)) return field->name();
      }
    } else if (field->cpp_type() == FD::CPPTYPE_MESSAGE) {
      const int n = field->is_repeated() ? r->FieldSize(m, field) : 1;
      for (int i = 0; i < n; ++i) {
        const auto& sub = field->is_repeated() ? r->GetRepeatedMessage(m, field, i) : r->GetMessage(m, field);
        std::string inner = InvalidUtf8Field(sub);
        if (!inner.empty()) return field->name() + "." + inner;
      }
    }
  }
  return "";
}

}  // namespace

Status ValidateFailure(const v1::Failure& f, size_t max_bytes, const char* what) {
  KEEL_RETURN_IF_ERROR(ValidateSize(f.ByteSizeLong(), max_bytes, what));
  // Failures carry text from arbitrary exceptions; the SDK repairs it, other clients may not.
  if (std::string field = InvalidUtf8Field(f); !field.empty()) {
    return InvalidArgument(std::string(what) + " " + field + " is not valid UTF-8");
  }
  for (const v1::Failure* cur = &f; cur != nullptr;
       cur = cur->has_cause() ? &cur->cause() : nullptr) {
    if (cur->has_application_failure_info()) {
      KEEL_RETURN_IF_ERROR(ValidateDuration(cur->application_failure_info().next_retry_delay(),
                                            (std::string(what) + " next_retry_delay").c_str()));
    }
  }
  return Status::Ok();
}

Status ValidateMemoAndSearchAttributes(const google::protobuf::Map<std::string, v1::Payload>& memo,
                                       const google::protobuf::Map<std::string, v1::Payload>& search_attributes,
                                       size_t max_bytes) {
  size_t memo_bytes = 0;
  for (const auto& [name, value] : memo) {
    KEEL_RETURN_IF_ERROR(ValidateName(name, "memo key"));
    memo_bytes += name.size() + value.ByteSizeLong();
  }
  KEEL_RETURN_IF_ERROR(ValidateSize(memo_bytes, max_bytes, "memo"));
  size_t attribute_bytes = 0;
  for (const auto& [name, value] : search_attributes) {
    KEEL_RETURN_IF_ERROR(ValidateName(name, "search attribute name"));
    attribute_bytes += name.size() + value.ByteSizeLong();
  }
  return ValidateSize(attribute_bytes, max_bytes, "search attributes");
}

Status ValidateSize(size_t bytes, size_t max_bytes, const char* what) {
  if (bytes > max_bytes) {
    return InvalidArgument(std::string(what) + " is " + std::to_string(bytes) +
                           " bytes, over the limit of " + std::to_string(max_bytes) + " bytes");
  }
  return Status::Ok();
}

}  // namespace keel::core
