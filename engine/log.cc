#include "engine/log.h"

#include <cstdlib>

#include <spdlog/sinks/stdout_color_sinks.h>

namespace keel {

spdlog::logger& Log() {
  static std::shared_ptr<spdlog::logger> logger = [] {
    auto l = spdlog::get("keel");
    if (!l) l = spdlog::stderr_color_mt("keel");
    const char* level = std::getenv("KEEL_LOG_LEVEL");
    l->set_level(level ? spdlog::level::from_str(level) : spdlog::level::info);
    l->set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ %v");
    return l;
  }();
  return *logger;
}

}  // namespace keel
