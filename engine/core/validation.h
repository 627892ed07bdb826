// Request validation shared by every entry point: ids, names and sizes get a clear
// INVALID_ARGUMENT before anything is read or written.
#pragma once

#include <string>

#include "engine/status.h"

namespace keel::core {

inline constexpr size_t kMaxIdBytes = 255;

// A workflow id, type name, task queue, signal name...: printable, at most 255 bytes;
// empty only when !required.
Status ValidateName(const std::string& value, const char* what, bool required = true);

}  // namespace keel::core
