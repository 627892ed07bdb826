// Payload: an encoded value (an argument, a result, signal input, heartbeat details).
// User types convert through nlohmann_json's ADL hooks (to_json / from_json), so any type
// with those functions can be a workflow or activity argument. Values only; thread-safe.
#pragma once

#include <map>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include <nlohmann/json.hpp>

namespace keel {

inline constexpr char kEncodingKey[] = "encoding";
inline constexpr char kEncodingJson[] = "json/plain";

struct Payload {
  std::map<std::string, std::string> metadata;  // "encoding" names how data is encoded
  std::string data;

  bool operator==(const Payload&) const = default;
};

// One payload per argument.
using Payloads = std::vector<Payload>;

// A payload that cannot be decoded into the requested type. Workflow code that hits this
// has a bug: the workflow task fails and is retried, so a fixed build can continue the run.
class PayloadError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

Payload JsonPayload(const nlohmann::json& value);
nlohmann::json PayloadToJson(const Payload& payload);  // throws PayloadError

template <typename T>
Payload ToPayload(const T& value) {
  if constexpr (std::is_same_v<T, Payload>) {
    return value;
  } else {
    return JsonPayload(nlohmann::json(value));
  }
}

template <typename T>
T FromPayload(const Payload& payload) {
  if constexpr (std::is_same_v<T, Payload>) {
    return payload;
  } else {
    nlohmann::json j = PayloadToJson(payload);
    try {
      return j.get<T>();
    } catch (const nlohmann::json::exception& e) {
      throw PayloadError(std::string("cannot decode payload ") + j.dump().substr(0, 200) +
                         ": " + e.what());
    }
  }
}

// Encodes each argument as one payload.
template <typename... Args>
Payloads ToPayloads(const Args&... args) {
  Payloads out;
  out.reserve(sizeof...(Args));
  (out.push_back(ToPayload(args)), ...);
  return out;
}

// A short human-readable rendering (JSON text when the payload is JSON), for timelines.
std::string PayloadPreview(const Payload& payload, size_t max_len = 80);

}  // namespace keel
