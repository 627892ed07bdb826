// Tool: something a model may call by name with a JSON object of arguments. A tool owns
// its ToolSpec (what the model sees) and checks every call's arguments against the spec's
// JSON schema before Run() sees them. Outcomes: a ToolResult (is_error set when the model
// got something wrong and can correct it); exceptions only for infrastructure failures
// (keel::ApplicationError, retryable or not; keel::CanceledError). Invoke is thread-safe.
#pragma once

#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "engine/clock.h"

namespace keel::tools {

using Json = nlohmann::json;

class SchemaValidator;

// Hints about a tool's behaviour (MCP's ToolAnnotations). Unset means "not said"; the
// agent layer derives approval and retry defaults from them (MCP's defaults when unset:
// not read-only, destructive, not idempotent, open world).
struct ToolAnnotations {
  std::optional<std::string> title;
  std::optional<bool> read_only_hint;
  std::optional<bool> destructive_hint;
  std::optional<bool> idempotent_hint;
  std::optional<bool> open_world_hint;

  bool operator==(const ToolAnnotations&) const = default;
};
void to_json(Json& j, const ToolAnnotations& a);    // MCP's names: readOnlyHint, ...
void from_json(const Json& j, ToolAnnotations& a);  // ignores unknown keys

// What the model sees of a tool.
struct ToolSpec {
  std::string name;
  std::string title;                             // optional display name
  std::string description;                       // for the model: what it does, when to use it
  Json input_schema = Json{{"type", "object"}};  // JSON Schema of the arguments object
  std::optional<Json> output_schema;             // of ToolResult::structured, if declared
  ToolAnnotations annotations;
};
void to_json(Json& j, const ToolSpec& s);  // MCP's Tool shape (inputSchema, ...)
void from_json(const Json& j, ToolSpec& s);

// What a call knows besides its arguments. Cheap to copy.
struct ToolContext {
  // Stable across retries of the same call: pass it to services that deduplicate.
  std::string idempotency_key;
  // Polled during long calls; true means "stop": the tool throws keel::CanceledError.
  std::function<bool()> is_cancelled;
  // The call must finish by then (by the tool's clock); unset = the tool's own limits.
  std::optional<Time> deadline;

  bool Cancelled() const { return is_cancelled && is_cancelled(); }
  void ThrowIfCancelled() const;  // throws keel::CanceledError
};

// A call's outcome, shaped like MCP's CallToolResult so it converts losslessly.
struct ToolResult {
  // Content blocks: {"type":"text","text":...}, or image/audio/resource blocks as MCP
  // defines them.
  std::vector<Json> content;
  std::optional<Json> structured;  // machine-readable result (MCP structuredContent)
  bool is_error = false;           // the model should read this and correct its call

  static ToolResult Text(std::string text);
  // `value` as structured content, with its JSON text as the text block.
  static ToolResult Structured(Json value);
  static ToolResult Error(std::string message);

  // What a text-only model reads: the text blocks joined by newlines, other blocks as
  // short placeholders, or the structured content's JSON when there is no content.
  std::string ToText() const;

  bool operator==(const ToolResult&) const = default;
};
void to_json(Json& j,
             const ToolResult& r);  // {"content":[...],"structuredContent":..,"isError":..}
void from_json(const Json& j, ToolResult& r);

// Thrown from a typed tool's function (or Run) to return an error result the model can
// read, e.g. ToolError("no city named 'Pariss'"). Never escapes Tool::Invoke.
class ToolError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class Tool {
 public:
  // Throws std::invalid_argument when spec.input_schema is not a usable JSON Schema
  // (a programming error, caught at startup). With kBestEffort (for schemas written by
  // others, e.g. an MCP server's), such a schema is kept as is but not checked locally.
  enum class SchemaCheck { kStrict, kBestEffort };
  explicit Tool(ToolSpec spec, SchemaCheck check = SchemaCheck::kStrict);
  virtual ~Tool();
  Tool(const Tool&) = delete;
  Tool& operator=(const Tool&) = delete;

  const ToolSpec& Spec() const { return spec_; }
  const std::string& Name() const { return spec_.name; }
  // False when a kBestEffort schema could not be compiled.
  bool ValidatesArguments() const { return validator_ != nullptr; }

  // Validates `args` (null counts as {}) and runs the tool. A schema violation or a
  // ToolError becomes an error result; other exceptions propagate.
  ToolResult Invoke(const Json& args, const ToolContext& ctx = {}) const;

 protected:
  // Called with arguments that passed the schema.
  virtual ToolResult Run(const Json& args, const ToolContext& ctx) const = 0;

 private:
  ToolSpec spec_;
  std::shared_ptr<const SchemaValidator> validator_;
};

}  // namespace keel::tools
