// Test kit for the gRPC edge: a keeld Server in this process on 127.0.0.1:0 with a fresh
// database, raw WorkflowService stubs (with or without a bearer token), a table of every
// RPC for table-driven tests, and a snapshot of the database's content that shows
// whether a request wrote anything.
#pragma once

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "engine/server/server.h"
#include "keel/v1/workflow_service.grpc.pb.h"
#include "tests/support/temp_dir.h"

namespace keel::testing {

// One RPC of keel.v1.WorkflowService: its name, what access it needs, a fresh request
// message, and a call with a request of that type.
struct RpcInfo {
  std::string name;
  server::Access access;
  std::function<std::unique_ptr<google::protobuf::Message>()> new_request;
  std::function<grpc::Status(v1::WorkflowService::Stub&, grpc::ClientContext*,
                             const google::protobuf::Message&)>
      call;
};
const std::vector<RpcInfo>& AllRpcs();
const RpcInfo& Rpc(const std::string& name);

// Every row of every table of the SQLite file at `path`, read through a read-only
// connection. Two equal snapshots mean nothing was written in between.
std::string SnapshotDatabase(const std::string& path);

class ServerFixture : public ::testing::Test {
 protected:
  // Starts the server on a fresh database in dir_ (db_path and listen are filled in).
  void StartServer(server::ServerOptions options = {});
  std::string DbPath() const { return dir_.File("keel.db"); }
  std::unique_ptr<v1::WorkflowService::Stub> NewStub();
  // A context with a 30 s deadline and, unless empty, "authorization: Bearer <token>".
  std::unique_ptr<grpc::ClientContext> Context(const std::string& token = "");
  // Calls `rpc` with `request` on a fresh context.
  grpc::Status Call(const RpcInfo& rpc, const google::protobuf::Message& request,
                    const std::string& token = "");

  TempDir dir_;
  std::unique_ptr<server::Server> server_;
  std::unique_ptr<v1::WorkflowService::Stub> stub_;  // set by StartServer
};

}  // namespace keel::testing
