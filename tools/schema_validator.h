// SchemaValidator: a JSON Schema compiled once (valijson; drafts 4 and 7, with later
// drafts read as draft 7) and checked against values, such as a tool call's arguments.
// Violations come back as one readable message a model can act on. Immutable after
// Compile; Validate is thread-safe.
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "engine/status.h"

namespace keel::tools {

class SchemaValidator {
 public:
  // kInvalidArgument when `schema` is not a schema valijson can use (unknown keywords are
  // ignored; remote $ref is not fetched and is an error).
  static Result<std::shared_ptr<const SchemaValidator>> Compile(const nlohmann::json& schema);

  ~SchemaValidator();
  SchemaValidator(const SchemaValidator&) = delete;
  SchemaValidator& operator=(const SchemaValidator&) = delete;

  // OK, or kInvalidArgument listing each violation with its JSON pointer:
  // "/city: missing required property; /days: expected integer, got string".
  Status Validate(const nlohmann::json& value) const;

 private:
  struct Impl;
  explicit SchemaValidator(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace keel::tools
