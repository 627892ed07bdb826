// Internal: WireError says a provider's JSON did not have the expected shape. The wire
// converters throw it (and nlohmann's own exceptions); providers turn both into a
// non-retryable MalformedResponse.
#pragma once

#include <stdexcept>

namespace keel::llm::wire {

class WireError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace keel::llm::wire
