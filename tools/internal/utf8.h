// Text from files and HTTP bodies becomes JSON strings, which must be valid UTF-8
// (nlohmann throws on anything else when dumping). Pure functions; thread-safe.
#pragma once

#include <string>
#include <string_view>

namespace keel::tools::internal {

// `bytes` with every invalid UTF-8 sequence replaced by U+FFFD.
std::string ValidUtf8(std::string_view bytes);

// True when `bytes` looks like binary data (a NUL byte, or mostly invalid UTF-8).
bool LooksBinary(std::string_view bytes);

}  // namespace keel::tools::internal
