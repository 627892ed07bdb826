// EnvReader: how the LLM layer reads environment variables (API keys, KEEL_MODEL, base
// URLs). Every options struct takes one, so tests pass a map instead of touching the
// process environment; env.cc is the only file that reads the real one. Thread-safe.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>

namespace keel::llm {

// The value of a variable, or nullopt when it is unset or empty.
using EnvReader = std::function<std::optional<std::string>(const std::string& name)>;

// The process environment (std::getenv).
EnvReader ProcessEnv();

// A fixed set of variables, for tests and embedding.
EnvReader MapEnv(std::map<std::string, std::string> values);

}  // namespace keel::llm
