#include "llm_providers/offline/schema_example.h"

#include <cmath>
#include <string>

namespace keel::llm::offline {

namespace {

using nlohmann::json;

constexpr int kMaxDepth = 16;  // $refs may be recursive

// "#/$defs/Name" or "#/definitions/Name" inside `root`.
const json* Resolve(const json& root, const std::string& ref) {
  if (ref.rfind("#/", 0) != 0) return nullptr;
  try {
    const json::json_pointer pointer(ref.substr(1));
    return root.contains(pointer) ? &root.at(pointer) : nullptr;
  } catch (const json::exception&) {
    return nullptr;
  }
}

std::string TypeOf(const json& schema) {
  if (schema.contains("type")) {
    const json& t = schema.at("type");
    if (t.is_string()) return t.get<std::string>();
    if (t.is_array()) {
      for (const auto& each : t) {
        if (each.is_string() && each != "null") return each.get<std::string>();
      }
      return "null";
    }
  }
  if (schema.contains("properties")) return "object";
  if (schema.contains("items")) return "array";
  return "";
}

json Example(const json& root, const json& schema, int depth) {
  if (depth > kMaxDepth || !schema.is_object()) return nullptr;
  if (schema.contains("$ref") && schema.at("$ref").is_string()) {
    const json* target = Resolve(root, schema.at("$ref").get<std::string>());
    return target ? Example(root, *target, depth + 1) : json(nullptr);
  }
  if (schema.contains("const")) return schema.at("const");
  if (schema.contains("enum") && schema.at("enum").is_array() && !schema.at("enum").empty()) {
    return schema.at("enum").front();
  }
  if (schema.contains("default")) return schema.at("default");
  if (schema.contains("examples") && schema.at("examples").is_array() &&
      !schema.at("examples").empty()) {
    return schema.at("examples").front();
  }
  for (const char* key : {"anyOf", "oneOf", "allOf"}) {
    if (schema.contains(key) && schema.at(key).is_array() && !schema.at(key).empty()) {
      return Example(root, schema.at(key).front(), depth + 1);
    }
  }
  const std::string type = TypeOf(schema);
  if (type == "object") {
    json out = json::object();
    if (schema.contains("properties") && schema.at("properties").is_object()) {
      for (const auto& [name, sub] : schema.at("properties").items()) {
        out[name] = Example(root, sub, depth + 1);
      }
    }
    return out;
  }
  if (type == "array") {
    json out = json::array();
    const int64_t n = schema.value("minItems", int64_t{0});
    const json items = schema.value("items", json::object());
    for (int64_t i = 0; i < n && i < 100; ++i) out.push_back(Example(root, items, depth + 1));
    return out;
  }
  if (type == "string") return "offline";
  if (type == "integer") {
    if (schema.contains("minimum") && schema.at("minimum").is_number()) {
      return static_cast<int64_t>(std::ceil(schema.at("minimum").get<double>()));
    }
    if (schema.contains("exclusiveMinimum") && schema.at("exclusiveMinimum").is_number()) {
      return static_cast<int64_t>(std::floor(schema.at("exclusiveMinimum").get<double>())) + 1;
    }
    return 0;
  }
  if (type == "number") {
    if (schema.contains("minimum") && schema.at("minimum").is_number()) return schema.at("minimum");
    return 0;
  }
  if (type == "boolean") return false;
  return nullptr;
}

}  // namespace

json ExampleFromSchema(const json& schema) { return Example(schema, schema, 0); }

}  // namespace keel::llm::offline
