// Connection: one running MCP server and the JSON-RPC exchange with it over its stdin and
// stdout. A reader thread reads stdout (responses go to the waiting caller, pings are
// answered, other server requests refused, notifications dropped) and keeps the tail of
// stderr. When stdout ends the connection is dead: every waiting and later request fails
// with one message naming the server, how it exited and its last stderr lines. Requests
// may be sent from any thread. Knows JSON-RPC, not MCP.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "engine/clock.h"
#include "engine/status.h"
#include "tools/internal/unique_fd.h"
#include "tools/mcp/json_rpc.h"
#include "tools/mcp/subprocess.h"

namespace keel::tools::mcp {

struct ConnectionOptions {
  std::string name;  // the command line, for messages
  Clock* clock = nullptr;
  size_t max_message_bytes = 64 << 20;
  size_t stderr_tail_bytes = 4096;
};

class Connection {
 public:
  // Takes over a started server.
  Connection(std::unique_ptr<Subprocess> process, ConnectionOptions options);
  ~Connection();  // Close(0)
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // The response message (a result or a JSON-RPC error: see IsErrorResponse), or
  // kUnavailable (the server is gone), kDeadlineExceeded or kCancelled; in the last two
  // cases a notifications/cancelled is sent for the request.
  Result<Json> Request(std::string_view method, const Json& params, Time deadline,
                       const std::function<bool()>& cancelled = nullptr);
  Status Notify(std::string_view method, const Json& params, Time deadline);

  bool Alive() const;
  // Why the connection is dead (OK while alive).
  Status DeathStatus() const;
  int pid() const { return process_->pid(); }

  // Closes the server's stdin and waits `grace` for it to exit, then SIGTERM and another
  // `grace`, then SIGKILL. Idempotent.
  void Close(Duration grace);

 private:
  struct Waiter {
    std::optional<Json> response;
  };

  void ReadLoop();
  void HandleLine(std::string_view line);
  bool ReadStderr();                 // false once stderr has ended
  void Die(const std::string& why);  // composes the death message and wakes everyone
  Status Send(const Json& message, Time deadline);
  std::string StderrTail() const;  // one line

  const ConnectionOptions options_;
  Clock& clock_;
  std::unique_ptr<Subprocess> process_;
  internal::UniqueFd wake_read_;  // Close() writes a byte to stop the reader
  internal::UniqueFd wake_write_;

  std::mutex write_mu_;  // one writer at a time on the server's stdin

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::map<int64_t, Waiter*> waiting_;
  int64_t next_id_ = 1;
  bool dead_ = false;
  bool closing_ = false;
  Status death_;
  std::string stderr_tail_;
  std::string stdout_buffer_;  // reader thread only

  std::thread reader_;
};

}  // namespace keel::tools::mcp
