// Internal: a deterministic example value for a JSON schema (const, enum, default and
// examples first; then by type: "offline", 0 or the minimum, false, [] or minItems items,
// every property of an object; local $refs). The OfflineModel answers structured-output
// requests and fills tool arguments with it.
#pragma once

#include <nlohmann/json.hpp>

namespace keel::llm::offline {

nlohmann::json ExampleFromSchema(const nlohmann::json& schema);

}  // namespace keel::llm::offline
