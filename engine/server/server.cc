#include "engine/server/server.h"

#include <arpa/inet.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <functional>
#include <sstream>

#include <grpcpp/grpcpp.h>

#include "engine/log.h"
#include "engine/remote/grpc_runtime.h"
#include "engine/remote/grpc_status.h"
#include "engine/server/worker_stream.h"
#include "keel/v1/workflow_service.grpc.pb.h"

namespace keel::server {

namespace {

std::string ReadFile(const std::string& path, Status* st) {
  std::ifstream in(path);
  if (!in) {
    *st = FailedPrecondition("cannot read " + path);
    return "";
  }
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string HostOf(const std::string& host_port) {
  if (!host_port.empty() && host_port.front() == '[') return host_port.substr(1, host_port.find(']') - 1);
  auto colon = host_port.rfind(':');
  if (colon == std::string::npos || std::count(host_port.begin(), host_port.end(), ':') > 1) return host_port;
  return host_port.substr(0, colon);
}

}  // namespace

// An IPv4 address in 127.0.0.0/8, ::1 or "localhost"; a name like "127.x.example.com",
// which could resolve anywhere, is not.
bool IsLoopback(const std::string& host_port) {
  std::string host = HostOf(host_port);
  if (host == "localhost" || host == "::1") return true;
  in_addr v4{};
  return inet_pton(AF_INET, host.c_str(), &v4) == 1 && (ntohl(v4.s_addr) >> 24) == 127;
}

// Every RPC: authorize, forward to the engine, map the status. Errors are logged at
// debug level with the principal's name, never the token.
// The start (with its wait for the result), the result read, the two polls and the two
// completions a worker sends most use gRPC's callback API: the engine answers them from
// the thread that wrote their commit, saw the run close or has a task for the poll
// (Engine::Callback), so no thread sleeps through a commit or a wait. The other calls
// are synchronous. A worker's polls and completions may also come as messages on a
// WorkerStream (worker_stream.h), answered the same way.
// They take the request's bytes and parse them here: gRPC 1.51's callback handler answers
// an unparsable request with UNIMPLEMENTED, which would mislead; here it gets
// INVALID_ARGUMENT.
using ServiceBase = v1::WorkflowService::WithRawCallbackMethod_WorkerStream<
    v1::WorkflowService::WithRawCallbackMethod_GetWorkflowExecutionResult<
    v1::WorkflowService::WithRawCallbackMethod_StartWorkflowExecution<
    v1::WorkflowService::WithRawCallbackMethod_RespondWorkflowTaskCompleted<
    v1::WorkflowService::WithRawCallbackMethod_RespondActivityTaskCompleted<
    v1::WorkflowService::WithRawCallbackMethod_PollWorkflowTaskQueue<
        v1::WorkflowService::WithRawCallbackMethod_PollActivityTaskQueue<v1::WorkflowService::Service>>>>>>>;

// A poll's reactor: a worker that hangs up (or whose deadline passes) ends the engine's
// wait, so that no task is handed to it. Deletes itself when gRPC is done with the call.
class PollReactor final : public grpc::ServerUnaryReactor {
 public:
  void OnCancel() override { cancel->Cancel(); }
  void OnDone() override { delete this; }
  const std::shared_ptr<PollCancel> cancel = std::make_shared<PollCancel>();
};

class Server::Service final : public ServiceBase {
 public:
  Service(Engine& engine, const TokenAuth& auth) : engine_(engine), auth_(auth), streams_(engine) {}

  // keeld is stopping: worker streams end (worker_stream.h).
  void StopStreams() { streams_.Stop(); }

// The calls that may wait (start and wait, result, history with wait_new_event) end, with
// nothing new yet, before their caller's deadline (see GiveUp).
#define KEEL_WAITING_RPC(Name, AccessKind)                                                       \
  grpc::Status Name(grpc::ServerContext* context, const v1::Name##Request* request,            \
                    v1::Name##Response* response) override {                                    \
    const Duration max_wait = std::max(Duration::zero(), GiveUp(context) - Clock::System().Now()); \
    return Handle(context, Access::AccessKind, #Name, [&] { return engine_.Name(*request, max_wait); }, response); \
  }
#define KEEL_RPC(Name, AccessKind)                                                              \
  grpc::Status Name(grpc::ServerContext* context, const v1::Name##Request* request,            \
                    v1::Name##Response* response) override {                                    \
    return Handle(context, Access::AccessKind, #Name, [&] { return engine_.Name(*request); }, response); \
  }
  KEEL_RPC(SignalWorkflowExecution, kClient)
  KEEL_RPC(SignalWithStartWorkflowExecution, kClient)
  KEEL_RPC(RequestCancelWorkflowExecution, kClient)
  KEEL_RPC(TerminateWorkflowExecution, kClient)
  KEEL_RPC(DescribeWorkflowExecution, kRead)
  KEEL_RPC(ListWorkflowExecutions, kRead)
  KEEL_WAITING_RPC(GetWorkflowExecutionHistory, kRead)
  KEEL_RPC(QueryWorkflow, kRead)
  KEEL_RPC(RespondWorkflowTaskFailed, kWorker)
  KEEL_RPC(RespondQueryTaskCompleted, kWorker)
  KEEL_RPC(RecordActivityTaskHeartbeat, kWorker)
  KEEL_RPC(RespondActivityTaskFailed, kWorker)
  KEEL_RPC(RespondActivityTaskCanceled, kWorker)
  KEEL_RPC(ShutdownWorker, kWorker)
#undef KEEL_RPC
#undef KEEL_WAITING_RPC

// The callback calls; the waiting ones (start and wait, result) end, with nothing new
// yet, before their caller's deadline (see GiveUp).
#define KEEL_CALLBACK_RPC(Name, AccessKind, ...)                                                            \
  grpc::ServerUnaryReactor* Name(grpc::CallbackServerContext* context, const grpc::ByteBuffer* request,       \
                                 grpc::ByteBuffer* response) override {                                       \
    [[maybe_unused]] const Duration max_wait = std::max(Duration::zero(), GiveUp(context) - Clock::System().Now()); \
    return HandleAsync<v1::Name##Request, v1::Name##Response>(                                               \
        context, Access::AccessKind, #Name, request, response,                                               \
        [this, max_wait](const v1::Name##Request& req, auto done) {                                          \
          engine_.Name(req, __VA_ARGS__ __VA_OPT__(, ) std::move(done));                                    \
        });                                                                                                   \
  }
  KEEL_CALLBACK_RPC(StartWorkflowExecution, kClient, max_wait)
  KEEL_CALLBACK_RPC(GetWorkflowExecutionResult, kRead, max_wait)
  KEEL_CALLBACK_RPC(RespondWorkflowTaskCompleted, kWorker)
  KEEL_CALLBACK_RPC(RespondActivityTaskCompleted, kWorker)
#undef KEEL_CALLBACK_RPC

  // When a waiting call gives up, empty: 2 s before its caller's deadline (a quarter of
  // the time left, for a caller in a hurry), so that the empty response reaches the
  // caller in time. The deadline is wall time; a call without one gets time_point::max.
  static Time GiveUp(grpc::ServerContextBase* context) {
    const Time deadline = context->deadline();
    const Time now = Clock::System().Now();
    const Duration margin =
        deadline > now ? std::min<Duration>(std::chrono::seconds(2), (deadline - now) / 4) : Duration::zero();
    return deadline - margin;
  }

  // Polls end when their worker hangs up (PollReactor), and end empty shortly before the
  // worker's own deadline (its poll timeout may be shorter than --poll-timeout).
#define KEEL_POLL_RPC(Name)                                                                                   \
  grpc::ServerUnaryReactor* Name(grpc::CallbackServerContext* context, const grpc::ByteBuffer* request,       \
                                 grpc::ByteBuffer* response) override {                                       \
    const Duration max_wait = std::max(Duration::zero(), GiveUp(context) - Clock::System().Now());            \
    auto* reactor = new PollReactor();                                                                         \
    return HandleAsync<v1::Name##Request, v1::Name##Response>(                                               \
        context, Access::kWorker, #Name, request, response,                                                   \
        [this, max_wait, cancel = reactor->cancel](const v1::Name##Request& req, auto done) {                \
          engine_.Name(req, max_wait, cancel, std::move(done));                                              \
        },                                                                                                    \
        reactor);                                                                                             \
  }
  KEEL_POLL_RPC(PollWorkflowTaskQueue)
  KEEL_POLL_RPC(PollActivityTaskQueue)
#undef KEEL_POLL_RPC

  // A worker's polls and completions, and a client's starts, as messages
  // (worker_stream.h); each message is authorized for its principal.
  WorkerStreamReactor* WorkerStream(grpc::CallbackServerContext* context) override {
    auto principal = Authorize(context, Access::kClientOrWorker, "WorkerStream");
    if (!principal.ok()) return streams_.Serve(context, remote::ToGrpc(principal.status()), nullptr);
    return streams_.Serve(context, grpc::Status::OK, *principal);
  }

 private:
  // The caller's principal, or why it may not make this call (logged).
  Result<const Principal*> Authorize(grpc::ServerContextBase* context, Access access, const char* method) {
    std::string_view authorization;
    const auto& metadata = context->client_metadata();
    if (auto it = metadata.find("authorization"); it != metadata.end()) {
      authorization = std::string_view(it->second.data(), it->second.size());
    }
    auto principal = auth_.Check(authorization, access, method);
    if (!principal.ok()) {
      Log().warn("keeld: {} refused from {}: {}", method, context->peer(), principal.status().message());
    }
    return principal;
  }

  // Parses the request, then `call(request, done)` starts the engine call; `done`
  // finishes the gRPC call, on whatever thread the engine calls it. The request lives
  // until then.
  template <typename Req, typename Resp, typename Fn>
  grpc::ServerUnaryReactor* HandleAsync(grpc::CallbackServerContext* context, Access access, const char* method,
                                        const grpc::ByteBuffer* bytes, grpc::ByteBuffer* response, Fn&& call,
                                        grpc::ServerUnaryReactor* reactor = nullptr) {
    if (!reactor) reactor = context->DefaultReactor();
    auto principal = Authorize(context, access, method);
    if (!principal.ok()) {
      reactor->Finish(remote::ToGrpc(principal.status()));
      return reactor;
    }
    auto request = std::make_shared<Req>();
    grpc::ByteBuffer copy(*bytes);  // shares the slices; parsing consumes the buffer
    if (!grpc::SerializationTraits<Req>::Deserialize(&copy, request.get()).ok()) {
      reactor->Finish(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                                   std::string("the ") + method +
                                       " request is not a valid message (or one of its strings is not UTF-8)"));
      return reactor;
    }
    call(*request, [reactor, response, method, who = *principal, request](Result<Resp> result) {
      if (!result.ok()) {
        Log().debug("keeld: {} by {}: {}", method, who->name, result.status().ToString());
        reactor->Finish(remote::ToGrpc(result.status()));
        return;
      }
      bool own_buffer = false;
      reactor->Finish(grpc::SerializationTraits<Resp>::Serialize(*result, response, &own_buffer));
    });
    return reactor;
  }

  template <typename Fn, typename Resp>
  grpc::Status Handle(grpc::ServerContext* context, Access access, const char* method, Fn&& call, Resp* response) {
    auto principal = Authorize(context, access, method);
    if (!principal.ok()) return remote::ToGrpc(principal.status());
    auto result = call();
    if (!result.ok()) {
      Log().debug("keeld: {} by {}: {}", method, (*principal)->name, result.status().ToString());
      return remote::ToGrpc(result.status());
    }
    *response = std::move(result).value();
    return grpc::Status::OK;
  }

  Engine& engine_;
  const TokenAuth& auth_;
  WorkerStreams streams_;
};

Result<std::unique_ptr<Server>> Server::Start(ServerOptions options) {
  std::unique_ptr<Server> server(new Server());
  if (!options.tokens_file.empty()) {
    KEEL_ASSIGN_OR_RETURN(server->auth_, TokenAuth::Load(options.tokens_file));
  } else if (!IsLoopback(options.listen)) {
    return FailedPrecondition("refusing to listen on " + options.listen +
                              " without --tokens: anyone who can reach it could run and read workflows; "
                              "give a tokens file or listen on a loopback address");
  }
  if (options.tls_cert_file.empty() != options.tls_key_file.empty()) {
    return InvalidArgument("--tls-cert and --tls-key go together");
  }
  std::shared_ptr<grpc::ServerCredentials> credentials = grpc::InsecureServerCredentials();
  if (!options.tls_cert_file.empty()) {
    Status st;
    grpc::SslServerCredentialsOptions ssl;
    ssl.pem_key_cert_pairs.push_back({ReadFile(options.tls_key_file, &st), ReadFile(options.tls_cert_file, &st)});
    KEEL_RETURN_IF_ERROR(st);
    // gRPC would only fail to listen, without saying why.
    if (ssl.pem_key_cert_pairs[0].cert_chain.find("-----BEGIN CERTIFICATE-----") == std::string::npos) {
      return InvalidArgument("--tls-cert " + options.tls_cert_file + " holds no PEM certificate");
    }
    if (ssl.pem_key_cert_pairs[0].private_key.find("PRIVATE KEY-----") == std::string::npos) {
      return InvalidArgument("--tls-key " + options.tls_key_file + " holds no PEM private key");
    }
    credentials = grpc::SslServerCredentials(ssl);
  }
  KEEL_ASSIGN_OR_RETURN(server->engine_, Engine::Open(options.engine));
  server->service_ = std::make_unique<Service>(*server->engine_, server->auth_);

  PrepareGrpcRuntime();
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort(options.listen, credentials, &port);
  builder.RegisterService(server->service_.get());
  // Payloads are limited to 2 MiB by the engine; a request carries a few of them.
  builder.SetMaxReceiveMessageSize(16 * 1024 * 1024);
  builder.SetMaxSendMessageSize(64 * 1024 * 1024);
  // Long polls hold a thread each; with gRPC's default of 2 idle pollers almost every
  // other call started a new thread (10,000 in a 5 s benchmark). Keep them instead.
  builder.SetSyncServerOption(grpc::ServerBuilder::SyncServerOption::MAX_POLLERS, 256);
  builder.AddChannelArgument(GRPC_ARG_ENABLE_CHANNELZ, 0);  // nothing reads it; it counts every call
  // Workers ping every 30 s while their polls wait (ConnectOptions::keepalive). gRPC's
  // default takes a ping without data at most every 5 minutes and disconnects a client
  // that pings more often; take them every 5 s, also when no call is under way.
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS, 5000);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  server->grpc_ = builder.BuildAndStart();
  if (!server->grpc_ || port == 0) {
    return Unavailable("cannot listen on " + options.listen + " (address in use or not available)");
  }
  auto colon = options.listen.rfind(':');
  server->address_ = options.listen.substr(0, colon) + ":" + std::to_string(port);
  if (!server->auth_.enabled()) {
    Log().warn("keeld: no --tokens file: authentication is off; listening on loopback only ({})", server->address_);
  }
  return server;
}

Server::~Server() { Shutdown(std::chrono::seconds(1)); }

void Server::Shutdown(Duration grace) {
  if (shut_down_) return;
  shut_down_ = true;
  // Polls and waiting requests return at once (UNAVAILABLE); other calls may finish.
  if (engine_) engine_->BeginShutdown();
  if (service_) service_->StopStreams();
  if (grpc_) {
    grpc_->Shutdown(Clock::System().Now() + grace);
    grpc_->Wait();
  }
  engine_.reset();
}

void Server::Wait() {
  if (grpc_) grpc_->Wait();
}

}  // namespace keel::server
