// Replay helpers for tests: replay an exported history (JSON text or a file) against the
// workflows of a registry. A replay test checks in histories and replays them on every
// build, so an incompatible change to workflow code fails CI instead of production.
#pragma once

#include <string>

#include "engine/registry.h"
#include "engine/replayer.h"

namespace keel::testing {

// Parses `history_json` and replays it; a parse error is reported as the result status.
ReplayResult Replay(const std::string& history_json, const Registry& registry);
ReplayResult ReplayFile(const std::string& path, const Registry& registry);

}  // namespace keel::testing
