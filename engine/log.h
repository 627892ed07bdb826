// The "keel" spdlog logger used by the engine, worker and tools. Level from KEEL_LOG_LEVEL
// (trace, debug, info, warn, error, off; default info). Never log secrets: tokens and API
// keys are kept out of every message by construction (they are never formatted).
#pragma once

#include <spdlog/spdlog.h>

namespace keel {

spdlog::logger& Log();

}  // namespace keel
