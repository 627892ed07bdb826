// McpClient: talks to one MCP server over stdio. It starts the server as a child process
// (own process group, scrubbed environment, stderr kept for error messages), performs the
// initialize handshake with version negotiation, and offers tools/list (all pages) and
// tools/call with timeouts and cancellation. When the server dies, calls fail with an
// error naming the command, its exit status and the tail of its stderr; the next call
// starts it again (unless restart_on_failure is off). Thread-safe: calls may overlap.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "engine/clock.h"
#include "engine/status.h"
#include "tools/tool.h"

namespace keel::tools {

namespace mcp {
class Connection;
}

// How to start the server.
struct McpServerConfig {
  std::vector<std::string> command;  // argv; command[0] is looked up on PATH
  // Variables set for the server exactly as given: the deliberate way to hand a server a
  // credential it needs.
  std::map<std::string, std::string> env;
  // Extra variables copied from Keel's environment, by name or "PREFIX_*", on top of the
  // safe list (PATH, HOME, USER, LOGNAME, SHELL, TERM, TZ, LANG, LANGUAGE, LC_*, TMPDIR,
  // TMP, TEMP, NODE_EXTRA_CA_CERTS, SSL_CERT_FILE, SSL_CERT_DIR). Names that look secret
  // (*API_KEY*, *TOKEN*, *SECRET*, *PASSWORD*, ...) are never copied.
  std::vector<std::string> pass_env;
  std::string working_directory;  // empty: Keel's
};

struct McpClientOptions {
  Duration initialize_timeout = std::chrono::seconds(30);  // includes the server's start-up
  Duration request_timeout = std::chrono::seconds(60);     // ToolContext::deadline may shorten it
  Duration shutdown_timeout = std::chrono::seconds(2);     // per step: stdin closed, then SIGTERM
  bool restart_on_failure = true;
  std::string client_name = "keel";
  std::string client_version = "0.1.0";
  size_t max_message_bytes = 64 << 20;
  Clock* clock = nullptr;  // default Clock::System()
};

class McpClient {
 public:
  // Starts the server and completes the handshake. Errors: kNotFound (no such command),
  // kUnavailable (it died or closed its output; the message has its stderr tail),
  // kDeadlineExceeded, kFailedPrecondition (it speaks no protocol version Keel knows, or
  // refused to initialize).
  static Result<std::shared_ptr<McpClient>> Start(McpServerConfig server,
                                                  McpClientOptions options = {});
  ~McpClient();
  McpClient(const McpClient&) = delete;
  McpClient& operator=(const McpClient&) = delete;

  // The command line, for messages.
  const std::string& Name() const { return name_; }
  // Of the current connection: the negotiated version, the server's serverInfo and
  // capabilities, and its instructions for the model ("" when none).
  std::string ProtocolVersion() const;
  Json ServerInfo() const;
  Json ServerCapabilities() const;
  std::string Instructions() const;
  // The server's process id (0 when not running); for tests and diagnostics.
  int ServerPid() const;

  // Every tool of the server, following nextCursor pages.
  Result<std::vector<ToolSpec>> ListTools();
  // The server's answer, including a JSON-RPC error answer, is a ToolResult (an error
  // result for isError or a JSON-RPC error). Errors mean no answer came: kUnavailable
  // (the server died or could not be restarted), kDeadlineExceeded (a notifications/
  // cancelled was sent), kCancelled (ctx.is_cancelled said so), kFailedPrecondition
  // (the client was closed). ctx.idempotency_key goes to the server as
  // _meta["keel/idempotency-key"].
  Result<ToolResult> CallTool(const std::string& name, const Json& arguments,
                              const ToolContext& ctx = {});

  // Closes the server's stdin, waits shutdown_timeout for it to exit, then SIGTERM, then
  // SIGKILL. Idempotent; later calls fail with kFailedPrecondition.
  void Close();

 private:
  McpClient(McpServerConfig server, McpClientOptions options);
  Status Connect();  // with mu_ held
  Result<std::shared_ptr<mcp::Connection>> Live();

  const McpServerConfig server_;
  const McpClientOptions options_;
  const std::string name_;
  Clock& clock_;

  mutable std::mutex mu_;  // held while (re)starting the server
  std::shared_ptr<mcp::Connection> connection_;
  bool closed_ = false;

  mutable std::mutex info_mu_;  // the current connection's handshake results
  std::string protocol_version_;
  Json server_info_;
  Json capabilities_;
  std::string instructions_;
};

}  // namespace keel::tools
