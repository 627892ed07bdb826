// The "keel" spdlog logger used by the engine, worker and tools. Level from KEEL_LOG_LEVEL
// (trace, debug, info, warn, error, off; default info). Never log secrets: tokens and API
// keys are kept out of every message by construction (they are never formatted).
#pragma once

#include <string>
#include <string_view>

#include <spdlog/spdlog.h>

namespace keel {

spdlog::logger& Log();

// Text from outside (a worker's failure message) made safe for one log line: control
// characters escaped (a newline cannot fake another line), cut to `max_bytes`.
std::string ForLog(std::string_view text, size_t max_bytes = 1024);

}  // namespace keel
