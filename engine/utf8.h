// UTF-8 checks for text that goes into protobuf `string` fields. Protobuf requires those
// to be valid UTF-8: a history event holding anything else serializes, but cannot be
// parsed back, so the run's history would become unreadable. The engine refuses such
// text (ValidateName, ValidateText, ValidateFailure); error messages, which come from
// arbitrary exceptions (a file name, a model's reply cut at 200 bytes), are repaired.
#pragma once

#include <string>
#include <string_view>

namespace keel {

// Whether `text` is well-formed UTF-8 (RFC 3629: no overlong forms, no surrogates,
// nothing above U+10FFFF).
bool IsValidUtf8(std::string_view text);

// `text` with every byte that is not part of a well-formed sequence replaced by U+FFFD.
std::string ToValidUtf8(std::string_view text);

}  // namespace keel
