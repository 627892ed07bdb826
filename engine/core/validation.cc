#include "engine/core/validation.h"

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
  return Status::Ok();
}

}  // namespace keel::core
