// JSON-RPC 2.0 as MCP's stdio transport uses it: one message per line, no batches.
// Builders for what the client sends and a classifier for what it receives. Pure.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace keel::tools::mcp {

using Json = nlohmann::json;

// Error codes from the JSON-RPC spec.
inline constexpr int kMethodNotFound = -32601;
inline constexpr int kInvalidParams = -32602;

struct RpcError {
  int code = 0;
  std::string message;
  Json data;

  // "MCP error -32602: Unknown tool: nope"
  std::string ToString() const;
};

enum class MessageKind { kRequest, kNotification, kResponse, kInvalid };
MessageKind Classify(const Json& message);

// params are left out when null.
Json MakeRequest(int64_t id, std::string_view method, const Json& params = nullptr);
Json MakeNotification(std::string_view method, const Json& params = nullptr);
Json MakeResult(const Json& id, Json result);
Json MakeError(const Json& id, int code, std::string message);

// The error of a response, if it is an error response.
bool IsErrorResponse(const Json& response);
RpcError ErrorOf(const Json& response);

// One line of the transport: compact JSON (invalid UTF-8 replaced) and '\n'.
std::string Frame(const Json& message);

}  // namespace keel::tools::mcp
