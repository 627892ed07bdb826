// Typed tools: a Tool made from a C++ function of an arguments struct. The struct
// converts with nlohmann's to_json/from_json; its JSON schema is written once, either as
// a static Schema() member of the struct or passed to MakeTool. The schema is what the
// model sees and what every call is validated against before the function runs.
//
//   struct Forecast {
//     std::string city;
//     int days = 1;
//     static keel::tools::Json Schema() { return R"({"type": "object", ...})"_json; }
//   };
//   NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(Forecast, city, days)
//   auto tool = keel::tools::MakeTool<Forecast>("forecast", "Weather for a city",
//       [](const Forecast& a) { return Lookup(a.city, a.days); });
//
// The function takes (const Args&) or (const Args&, const ToolContext&) and returns a
// ToolResult, a string (text), void ("ok") or any JSON-convertible value (structured
// content). It may throw ToolError for an error result the model should read; any other
// exception propagates (see tool.h). Args may be Json itself for an untyped tool.
#pragma once

#include <concepts>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>

#include "tools/tool.h"

namespace keel::tools {

template <typename Args>
concept HasSchema = requires {
  { Args::Schema() } -> std::convertible_to<Json>;
};

namespace internal {

template <typename R>
ToolResult ToToolResult(R&& r) {
  using T = std::decay_t<R>;
  if constexpr (std::is_same_v<T, ToolResult>) {
    return std::forward<R>(r);
  } else if constexpr (std::is_same_v<T, Json>) {
    return ToolResult::Structured(std::forward<R>(r));
  } else if constexpr (std::is_convertible_v<T, std::string>) {
    return ToolResult::Text(std::string(std::forward<R>(r)));
  } else {
    return ToolResult::Structured(Json(std::forward<R>(r)));
  }
}

template <typename Args, typename Fn>
class FunctionTool final : public Tool {
 public:
  FunctionTool(ToolSpec spec, Fn fn) : Tool(std::move(spec)), fn_(std::move(fn)) {}

 protected:
  ToolResult Run(const Json& args, const ToolContext& ctx) const override {
    std::optional<Args> typed;
    try {
      typed.emplace(args.get<Args>());
    } catch (const Json::exception& e) {
      // The schema let through something the struct cannot hold: tell the model.
      return ToolResult::Error("invalid arguments for tool '" + Name() + "': " + e.what());
    }
    if constexpr (std::is_invocable_v<const Fn&, const Args&, const ToolContext&>) {
      return Call([&] { return fn_(*typed, ctx); });
    } else {
      static_assert(
          std::is_invocable_v<const Fn&, const Args&>,
          "a typed tool's function takes (const Args&) or (const Args&, const ToolContext&)");
      return Call([&] { return fn_(*typed); });
    }
  }

 private:
  template <typename Thunk>
  static ToolResult Call(Thunk thunk) {
    if constexpr (std::is_void_v<decltype(thunk())>) {
      thunk();
      return ToolResult::Text("ok");
    } else {
      return ToToolResult(thunk());
    }
  }

  Fn fn_;
};

}  // namespace internal

// The spec is used as given, except that Args::Schema() (when declared) is the schema.
// Throws std::invalid_argument when the schema is not a usable JSON Schema.
template <typename Args, typename Fn>
std::shared_ptr<Tool> MakeTool(ToolSpec spec, Fn fn) {
  if constexpr (HasSchema<Args>) spec.input_schema = Args::Schema();
  return std::make_shared<internal::FunctionTool<Args, Fn>>(std::move(spec), std::move(fn));
}

// The schema is Args::Schema().
template <typename Args, typename Fn>
requires HasSchema<Args> std::shared_ptr<Tool> MakeTool(std::string name, std::string description,
                                                        Fn fn) {
  // Field by field: designated initializers here crash g++ 12 (check_noexcept_r).
  ToolSpec spec;
  spec.name = std::move(name);
  spec.description = std::move(description);
  return MakeTool<Args>(std::move(spec), std::move(fn));
}

// The schema is given here (Args must not also declare one).
template <typename Args, typename Fn>
std::shared_ptr<Tool> MakeTool(std::string name, std::string description, Json input_schema,
                               Fn fn) {
  static_assert(!HasSchema<Args>, "Args declares Schema(): do not pass another schema");
  ToolSpec spec;
  spec.name = std::move(name);
  spec.description = std::move(description);
  spec.input_schema = std::move(input_schema);
  return MakeTool<Args>(std::move(spec), std::move(fn));
}

}  // namespace keel::tools
