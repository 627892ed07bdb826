// Server: keeld's core — an embedded Engine served over gRPC (WorkflowService), with
// token authentication and optional TLS. Used by keeld and by worker binaries' `run`.
// Start() opens the database and begins serving; Shutdown() ends long polls, lets
// in-flight calls finish (up to a grace period) and closes the engine. Thread-safe.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "engine/engine.h"
#include "engine/server/auth.h"

namespace grpc {
class Server;
}

namespace keel::server {

struct ServerOptions {
  // keeld's workers outlive a keeld restart: activities they run across it go on
  // (EngineOptions::recovered_activity_hold).
  ServerOptions() { engine.recovered_activity_hold = std::chrono::seconds(10); }

  EngineOptions engine;
  // HOST:PORT; port 0 picks a free port (see Server::address()).
  std::string listen = "127.0.0.1:7070";
  // Empty: authentication off, and only a loopback address is accepted.
  std::string tokens_file;
  // PEM certificate chain and private key: serve TLS. Both or neither.
  std::string tls_cert_file;
  std::string tls_key_file;
};

class Server {
 public:
  static Result<std::unique_ptr<Server>> Start(ServerOptions options);
  ~Server();

  // The address actually bound ("127.0.0.1:43121" when asked for port 0).
  const std::string& address() const { return address_; }
  Engine& engine() { return *engine_; }
  bool authenticated() const { return auth_.enabled(); }

  // Ends polls at once, waits up to `grace` for in-flight calls, closes the engine.
  void Shutdown(Duration grace = std::chrono::seconds(10));
  // Blocks until Shutdown() has finished.
  void Wait();

 private:
  class Service;
  Server() = default;

  std::unique_ptr<Engine> engine_;
  TokenAuth auth_;
  std::unique_ptr<Service> service_;
  std::unique_ptr<grpc::Server> grpc_;
  std::string address_;
  bool shut_down_ = false;
};

// True for 127.x.x.x, localhost and ::1 (with or without a port).
bool IsLoopback(const std::string& host_port);

}  // namespace keel::server
