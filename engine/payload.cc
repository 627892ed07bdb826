#include "engine/payload.h"

namespace keel {

Payload JsonPayload(const nlohmann::json& value) {
  Payload p;
  p.metadata[kEncodingKey] = kEncodingJson;
  p.data = value.dump();
  return p;
}

nlohmann::json PayloadToJson(const Payload& payload) {
  auto it = payload.metadata.find(kEncodingKey);
  if (it != payload.metadata.end() && it->second != kEncodingJson) {
    throw PayloadError("cannot decode payload with encoding '" + it->second +
                       "' as JSON (is a codec missing?)");
  }
  if (payload.data.empty()) return nlohmann::json();
  try {
    return nlohmann::json::parse(payload.data);
  } catch (const nlohmann::json::exception& e) {
    throw PayloadError(std::string("payload is not valid JSON: ") + e.what());
  }
}

std::string PayloadPreview(const Payload& payload, size_t max_len) {
  std::string s;
  auto it = payload.metadata.find(kEncodingKey);
  if (it == payload.metadata.end() || it->second == kEncodingJson) {
    s = payload.data;
  } else {
    s = "<" + it->second + ", " + std::to_string(payload.data.size()) + " bytes>";
  }
  if (s.size() > max_len) s = s.substr(0, max_len - 3) + "...";
  return s;
}

}  // namespace keel
