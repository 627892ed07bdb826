#include "engine/testing/replay.h"

namespace keel::testing {

ReplayResult Replay(const std::string& history_json, const Registry& registry) {
  auto h = History::FromJson(history_json);
  if (!h.ok()) return ReplayResult{h.status(), 0};
  return ReplayHistory(*h, registry);
}

ReplayResult ReplayFile(const std::string& path, const Registry& registry) {
  auto h = History::FromJsonFile(path);
  if (!h.ok()) return ReplayResult{h.status(), 0};
  return ReplayHistory(*h, registry);
}

}  // namespace keel::testing
