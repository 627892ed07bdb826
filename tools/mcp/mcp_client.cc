#include "tools/mcp_client.h"

#include <unistd.h>

#include <set>

#include "engine/log.h"
#include "tools/mcp/connection.h"
#include "tools/mcp/environment.h"
#include "tools/mcp/json_rpc.h"
#include "tools/mcp/protocol_versions.h"
#include "tools/mcp/subprocess.h"

extern char** environ;

namespace keel::tools {

namespace {

// A server that keeps returning new cursors is broken; stop somewhere.
constexpr int kMaxToolPages = 1000;

std::string CommandLine(const std::vector<std::string>& argv) {
  std::string out;
  for (const auto& a : argv) {
    if (!out.empty()) out += ' ';
    out += a.find_first_of(" \t'\"") == std::string::npos ? a : "'" + a + "'";
  }
  return out;
}

}  // namespace

McpClient::McpClient(McpServerConfig server, McpClientOptions options)
    : server_(std::move(server)),
      options_(std::move(options)),
      name_(CommandLine(server_.command)),
      clock_(options_.clock ? *options_.clock : Clock::System()) {}

McpClient::~McpClient() { Close(); }

Result<std::shared_ptr<McpClient>> McpClient::Start(McpServerConfig server,
                                                    McpClientOptions options) {
  if (server.command.empty() || server.command[0].empty())
    return InvalidArgument("no MCP server command given");
  std::shared_ptr<McpClient> client(new McpClient(std::move(server), std::move(options)));
  std::lock_guard<std::mutex> lock(client->mu_);
  KEEL_RETURN_IF_ERROR(client->Connect());
  return client;
}

Status McpClient::Connect() {
  const std::string what = "MCP server '" + name_ + "'";
  auto process = mcp::Subprocess::Spawn(
      server_.command, mcp::ServerEnvironment(environ, server_.pass_env, server_.env),
      server_.working_directory);
  if (!process.ok())
    return Status(process.status().code(),
                  "cannot start " + what + ": " + process.status().message());
  auto connection = std::make_shared<mcp::Connection>(
      std::move(process).value(),
      mcp::ConnectionOptions{
          .name = name_, .clock = &clock_, .max_message_bytes = options_.max_message_bytes});
  auto fail = [&](Status s) {
    connection->Close(options_.shutdown_timeout);
    return s;
  };

  const Time deadline = clock_.Now() + options_.initialize_timeout;
  Json params{
      {"protocolVersion", mcp::kLatestProtocolVersion},
      {"capabilities", Json::object()},
      {"clientInfo", {{"name", options_.client_name}, {"version", options_.client_version}}}};
  auto response = connection->Request("initialize", params, deadline);
  if (!response.ok()) return fail(response.status());
  if (mcp::IsErrorResponse(*response)) {
    return fail(
        FailedPrecondition(what + " refused to initialize: " + mcp::ErrorOf(*response).ToString()));
  }
  const Json& result = (*response)["result"];
  if (!result.is_object())
    return fail(FailedPrecondition(what + " answered initialize without a result object"));
  std::string version = result.contains("protocolVersion") && result["protocolVersion"].is_string()
                            ? result["protocolVersion"].get<std::string>()
                            : "";
  if (!mcp::IsSupportedProtocolVersion(version)) {
    return fail(FailedPrecondition(what + " speaks MCP protocol version '" + version +
                                   "'; Keel supports " + mcp::SupportedProtocolVersionList()));
  }
  Status initialized = connection->Notify("notifications/initialized", nullptr, deadline);
  if (!initialized.ok()) return fail(initialized);

  std::lock_guard<std::mutex> lock(info_mu_);
  protocol_version_ = version;
  server_info_ = result.value("serverInfo", Json::object());
  capabilities_ = result.value("capabilities", Json::object());
  instructions_ = result.contains("instructions") && result["instructions"].is_string()
                      ? result["instructions"].get<std::string>()
                      : "";
  connection_ = std::move(connection);
  return Status::Ok();
}

Result<std::shared_ptr<mcp::Connection>> McpClient::Live() {
  std::lock_guard<std::mutex> lock(mu_);
  if (closed_) return FailedPrecondition("the MCP client of '" + name_ + "' is closed");
  if (connection_ && connection_->Alive()) return connection_;
  if (connection_) {
    if (!options_.restart_on_failure) return connection_->DeathStatus();
    Log().info("{}; starting it again", connection_->DeathStatus().message());
    connection_->Close(Duration::zero());
    connection_.reset();
  }
  KEEL_RETURN_IF_ERROR(Connect());
  return connection_;
}

std::string McpClient::ProtocolVersion() const {
  std::lock_guard<std::mutex> lock(info_mu_);
  return protocol_version_;
}

Json McpClient::ServerInfo() const {
  std::lock_guard<std::mutex> lock(info_mu_);
  return server_info_;
}

Json McpClient::ServerCapabilities() const {
  std::lock_guard<std::mutex> lock(info_mu_);
  return capabilities_;
}

std::string McpClient::Instructions() const {
  std::lock_guard<std::mutex> lock(info_mu_);
  return instructions_;
}

int McpClient::ServerPid() const {
  std::lock_guard<std::mutex> lock(mu_);
  return connection_ && connection_->Alive() ? connection_->pid() : 0;
}

Result<std::vector<ToolSpec>> McpClient::ListTools() {
  KEEL_ASSIGN_OR_RETURN(auto connection, Live());
  const std::string what = "MCP server '" + name_ + "'";
  std::vector<ToolSpec> tools;
  std::set<std::string> cursors;
  Json params;
  for (int page = 0; page < kMaxToolPages; ++page) {
    KEEL_ASSIGN_OR_RETURN(
        Json response,
        connection->Request("tools/list", params, clock_.Now() + options_.request_timeout));
    if (mcp::IsErrorResponse(response)) {
      return FailedPrecondition(what + ": tools/list failed: " + mcp::ErrorOf(response).ToString());
    }
    const Json& result = response["result"];
    if (!result.is_object() || !result.contains("tools") || !result["tools"].is_array()) {
      return FailedPrecondition(what + " answered tools/list without a tools array");
    }
    for (const auto& t : result["tools"]) {
      try {
        tools.push_back(t.get<ToolSpec>());
      } catch (const Json::exception& e) {
        return FailedPrecondition(what + " listed a malformed tool " + t.dump().substr(0, 200) +
                                  ": " + e.what());
      }
    }
    auto next = result.find("nextCursor");
    if (next == result.end() || !next->is_string() || next->get<std::string>().empty())
      return tools;
    if (!cursors.insert(next->get<std::string>()).second) {
      return FailedPrecondition(what + " repeated the tools/list cursor '" +
                                next->get<std::string>() + "'");
    }
    params = Json{{"cursor", *next}};
  }
  return FailedPrecondition(what + " returned more than " + std::to_string(kMaxToolPages) +
                            " pages of tools");
}

Result<ToolResult> McpClient::CallTool(const std::string& name, const Json& arguments,
                                       const ToolContext& ctx) {
  KEEL_ASSIGN_OR_RETURN(auto connection, Live());
  Json params{{"name", name}, {"arguments", arguments.is_null() ? Json::object() : arguments}};
  if (!ctx.idempotency_key.empty())
    params["_meta"] = Json{{"keel/idempotency-key", ctx.idempotency_key}};
  Time deadline = clock_.Now() + options_.request_timeout;
  if (ctx.deadline) deadline = std::min(deadline, *ctx.deadline);
  KEEL_ASSIGN_OR_RETURN(Json response,
                        connection->Request("tools/call", params, deadline, ctx.is_cancelled));
  // The server answered: whatever it said, the model can read it.
  if (mcp::IsErrorResponse(response)) return ToolResult::Error(mcp::ErrorOf(response).ToString());
  const Json& result = response["result"];
  if (!result.is_object()) {
    return FailedPrecondition("MCP server '" + name_ +
                              "' answered tools/call without a result object");
  }
  return result.get<ToolResult>();
}

void McpClient::Close() {
  std::shared_ptr<mcp::Connection> connection;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (closed_) return;
    closed_ = true;
    connection = std::move(connection_);
  }
  if (connection) connection->Close(options_.shutdown_timeout);
}

}  // namespace keel::tools
