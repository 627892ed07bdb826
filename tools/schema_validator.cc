#include "tools/schema_validator.h"

// valijson reports problems by throwing only with this set (otherwise it aborts). This is
// the only file that includes valijson.
#define VALIJSON_USE_EXCEPTIONS 1
#include <algorithm>
#include <exception>
#include <valijson/adapters/nlohmann_json_adapter.hpp>
#include <valijson/schema.hpp>
#include <valijson/schema_parser.hpp>
#include <valijson/validator.hpp>
#include <vector>

namespace keel::tools {

using Json = nlohmann::json;

struct SchemaValidator::Impl {
  Json source;
  valijson::Schema schema;
};

namespace {

valijson::SchemaParser::Version DraftOf(const Json& schema) {
  if (schema.is_object()) {
    auto it = schema.find("$schema");
    if (it != schema.end() && it->is_string()) {
      const auto& uri = it->get_ref<const std::string&>();
      if (uri.find("draft-04") != std::string::npos) return valijson::SchemaParser::kDraft4;
      if (uri.find("draft-03") != std::string::npos) return valijson::SchemaParser::kDraft3;
    }
  }
  return valijson::SchemaParser::kDraft7;
}

// valijson's context ["<root>", "[tags]", "[1]"] as the JSON pointer "/tags/1".
std::string Pointer(const std::vector<std::string>& context) {
  std::string out;
  for (const auto& part : context) {
    if (part.size() >= 2 && part.front() == '[' && part.back() == ']') {
      out += "/" + part.substr(1, part.size() - 2);
    }
  }
  return out;
}

bool Extends(const std::vector<std::string>& deeper, const std::vector<std::string>& prefix) {
  return deeper.size() > prefix.size() && std::equal(prefix.begin(), prefix.end(), deeper.begin());
}

std::string TypeName(const Json& v) {
  if (v.is_number_integer()) return "integer";
  if (v.is_number()) return "number";
  return v.type_name();
}

std::string Describe(const valijson::ValidationResults::Error& error, const Json& value) {
  std::string pointer = Pointer(error.context);
  std::string text = error.description;
  if (!text.empty() && text.back() == '.') text.pop_back();  // messages are joined with "; "
  if (text.find("'type' constraint") != std::string::npos) {
    // valijson does not say what it found; the model needs that to correct the call.
    try {
      const Json& found = value.at(Json::json_pointer(pointer));
      text = "wrong type: got " + TypeName(found) + " " + found.dump().substr(0, 60);
    } catch (const Json::exception&) {
    }
  }
  return (pointer.empty() ? "" : pointer + ": ") + text;
}

}  // namespace

SchemaValidator::SchemaValidator(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
SchemaValidator::~SchemaValidator() = default;

Result<std::shared_ptr<const SchemaValidator>> SchemaValidator::Compile(const Json& schema) {
  auto impl = std::make_unique<Impl>();
  impl->source = schema;
  try {
    valijson::SchemaParser parser(DraftOf(schema));
    valijson::adapters::NlohmannJsonAdapter adapter(impl->source);
    parser.populateSchema(adapter, impl->schema);
  } catch (const std::exception& e) {
    return InvalidArgument(std::string("invalid JSON schema: ") + e.what());
  }
  return std::shared_ptr<const SchemaValidator>(new SchemaValidator(std::move(impl)));
}

Status SchemaValidator::Validate(const Json& value) const {
  valijson::Validator validator;  // strict types: "3" is not a number
  valijson::ValidationResults results;
  valijson::adapters::NlohmannJsonAdapter target(value);
  try {
    if (validator.validate(impl_->schema, target, &results)) return Status::Ok();
  } catch (const std::exception& e) {
    return FailedPrecondition(std::string("the schema cannot be checked: ") + e.what());
  }
  std::vector<valijson::ValidationResults::Error> errors;
  valijson::ValidationResults::Error error;
  while (results.popError(error)) errors.push_back(error);
  // valijson also reports every enclosing object or array of a violation ("Failed to
  // validate against schema associated with property name 'x'"); keep the violations.
  std::string message;
  for (const auto& e : errors) {
    bool enclosing = e.description.rfind("Failed to validate", 0) == 0 &&
                     std::any_of(errors.begin(), errors.end(), [&](const auto& other) {
                       return Extends(other.context, e.context);
                     });
    if (enclosing) continue;
    if (!message.empty()) message += "; ";
    message += Describe(e, value);
  }
  return InvalidArgument(message.empty() ? "does not match the schema" : message);
}

}  // namespace keel::tools
