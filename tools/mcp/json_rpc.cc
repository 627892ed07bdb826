#include "tools/mcp/json_rpc.h"

namespace keel::tools::mcp {

std::string RpcError::ToString() const {
  return "MCP error " + std::to_string(code) + ": " + message;
}

MessageKind Classify(const Json& m) {
  if (!m.is_object()) return MessageKind::kInvalid;
  bool has_id = m.contains("id") && (m["id"].is_number_integer() || m["id"].is_string());
  if (m.contains("method") && m["method"].is_string())
    return has_id ? MessageKind::kRequest : MessageKind::kNotification;
  if (has_id && (m.contains("result") || m.contains("error"))) return MessageKind::kResponse;
  return MessageKind::kInvalid;
}

Json MakeRequest(int64_t id, std::string_view method, const Json& params) {
  Json m{{"jsonrpc", "2.0"}, {"id", id}, {"method", method}};
  if (!params.is_null()) m["params"] = params;
  return m;
}

Json MakeNotification(std::string_view method, const Json& params) {
  Json m{{"jsonrpc", "2.0"}, {"method", method}};
  if (!params.is_null()) m["params"] = params;
  return m;
}

Json MakeResult(const Json& id, Json result) {
  return Json{{"jsonrpc", "2.0"}, {"id", id}, {"result", std::move(result)}};
}

Json MakeError(const Json& id, int code, std::string message) {
  return Json{
      {"jsonrpc", "2.0"}, {"id", id}, {"error", {{"code", code}, {"message", std::move(message)}}}};
}

bool IsErrorResponse(const Json& response) {
  return response.contains("error") && !response["error"].is_null();
}

RpcError ErrorOf(const Json& response) {
  RpcError e;
  const Json& error = response.at("error");
  if (!error.is_object()) {
    e.message = error.dump();
    return e;
  }
  if (error.contains("code") && error["code"].is_number_integer())
    e.code = error["code"].get<int>();
  e.message = error.contains("message") && error["message"].is_string()
                  ? error["message"].get<std::string>()
                  : "(no message)";
  if (error.contains("data")) e.data = error["data"];
  return e;
}

std::string Frame(const Json& message) {
  return message.dump(-1, ' ', false, Json::error_handler_t::replace) + "\n";
}

}  // namespace keel::tools::mcp
