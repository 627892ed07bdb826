#include "tests/engine/server/server_fixture.h"

#include <chrono>
#include <stdexcept>

#include "engine/store/sqlite/db.h"

namespace keel::testing {

namespace {

template <typename Request, typename Response>
RpcInfo Entry(std::string name, server::Access access,
              grpc::Status (v1::WorkflowService::Stub::*method)(grpc::ClientContext*,
                                                                const Request&, Response*)) {
  RpcInfo info;
  info.name = std::move(name);
  info.access = access;
  info.new_request = [] { return std::make_unique<Request>(); };
  info.call = [method](v1::WorkflowService::Stub& stub, grpc::ClientContext* context,
                       const google::protobuf::Message& request) {
    Response response;
    return (stub.*method)(context, static_cast<const Request&>(request), &response);
  };
  return info;
}

// WorkerStream carries one request and its answer: the answer's code, or the stream's
// own status when keeld refused the stream.
RpcInfo WorkerStreamEntry() {
  RpcInfo info;
  info.name = "WorkerStream";
  info.access = server::Access::kWorker;
  info.new_request = [] { return std::make_unique<v1::WorkerStreamRequest>(); };
  info.call = [](v1::WorkflowService::Stub& stub, grpc::ClientContext* context,
                 const google::protobuf::Message& request) {
    auto stream = stub.WorkerStream(context);
    v1::WorkerStreamResponse response;
    bool answered = stream->Write(static_cast<const v1::WorkerStreamRequest&>(request)) && stream->Read(&response);
    stream->WritesDone();
    grpc::Status st = stream->Finish();
    if (!answered) return st.ok() ? grpc::Status(grpc::StatusCode::INTERNAL, "the stream ended unanswered") : st;
    if (response.code() != 0) {
      return grpc::Status(static_cast<grpc::StatusCode>(response.code()), response.message());
    }
    return st;
  };
  return info;
}

std::string Must(Result<std::string> r) {
  if (!r.ok()) throw std::runtime_error(r.status().ToString());
  return std::move(r).value();
}

}  // namespace

const std::vector<RpcInfo>& AllRpcs() {
  using server::Access;
  using Stub = v1::WorkflowService::Stub;
#define KEEL_ENTRY(Name, Kind) Entry(#Name, Access::Kind, &Stub::Name)
  static const std::vector<RpcInfo> rpcs = {
      KEEL_ENTRY(StartWorkflowExecution, kClient),
      KEEL_ENTRY(SignalWorkflowExecution, kClient),
      KEEL_ENTRY(SignalWithStartWorkflowExecution, kClient),
      KEEL_ENTRY(RequestCancelWorkflowExecution, kClient),
      KEEL_ENTRY(TerminateWorkflowExecution, kClient),
      KEEL_ENTRY(DescribeWorkflowExecution, kRead),
      KEEL_ENTRY(ListWorkflowExecutions, kRead),
      KEEL_ENTRY(GetWorkflowExecutionHistory, kRead),
      KEEL_ENTRY(GetWorkflowExecutionResult, kRead),
      KEEL_ENTRY(QueryWorkflow, kRead),
      KEEL_ENTRY(PollWorkflowTaskQueue, kWorker),
      KEEL_ENTRY(RespondWorkflowTaskCompleted, kWorker),
      KEEL_ENTRY(RespondWorkflowTaskFailed, kWorker),
      KEEL_ENTRY(RespondQueryTaskCompleted, kWorker),
      KEEL_ENTRY(PollActivityTaskQueue, kWorker),
      KEEL_ENTRY(RecordActivityTaskHeartbeat, kWorker),
      KEEL_ENTRY(RespondActivityTaskCompleted, kWorker),
      KEEL_ENTRY(RespondActivityTaskFailed, kWorker),
      KEEL_ENTRY(RespondActivityTaskCanceled, kWorker),
      KEEL_ENTRY(ShutdownWorker, kWorker),
      WorkerStreamEntry(),
  };
#undef KEEL_ENTRY
  return rpcs;
}

const RpcInfo& Rpc(const std::string& name) {
  for (const auto& r : AllRpcs()) {
    if (r.name == name) return r;
  }
  throw std::invalid_argument("no RPC " + name);
}

std::string SnapshotDatabase(const std::string& path) {
  using store::sqlite::Db;
  auto opened = Db::Open(path, Db::Mode::kReadOnly);
  if (!opened.ok()) throw std::runtime_error(opened.status().ToString());
  Db& db = **opened;
  std::string tables =
      Must(db.QueryText("SELECT group_concat(name, ' ') FROM (SELECT name FROM sqlite_master"
                        " WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name)"));
  std::string snapshot;
  size_t start = 0;
  while (start < tables.size()) {
    size_t end = tables.find(' ', start);
    if (end == std::string::npos) end = tables.size();
    const std::string table = tables.substr(start, end - start);
    start = end + 1;
    // Every column of every row, quoted (blobs as hex), in a stable order.
    std::string columns =
        Must(db.QueryText("SELECT group_concat('quote(\"' || name || '\")', ' || ''|'' || ')"
                          " FROM pragma_table_info('" +
                          table + "')"));
    std::string rows = Must(db.QueryText("SELECT group_concat(r, char(10)) FROM (SELECT " +
                                         columns + " AS r FROM \"" + table + "\" ORDER BY 1)"));
    snapshot += "== " + table + "\n" + rows + "\n";
  }
  return snapshot;
}

void ServerFixture::StartServer(server::ServerOptions options) {
  options.engine.db_path = DbPath();
  options.listen = "127.0.0.1:0";
  auto s = server::Server::Start(options);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  server_ = std::move(s).value();
  stub_ = NewStub();
}

std::unique_ptr<v1::WorkflowService::Stub> ServerFixture::NewStub() {
  return v1::WorkflowService::NewStub(
      grpc::CreateChannel(server_->address(), grpc::InsecureChannelCredentials()));
}

std::unique_ptr<grpc::ClientContext> ServerFixture::Context(const std::string& token) {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(Clock::System().Now() + std::chrono::seconds(30));
  if (!token.empty()) context->AddMetadata("authorization", "Bearer " + token);
  return context;
}

grpc::Status ServerFixture::Call(const RpcInfo& rpc, const google::protobuf::Message& request,
                                 const std::string& token) {
  auto context = Context(token);
  return rpc.call(*stub_, context.get(), request);
}

}  // namespace keel::testing
