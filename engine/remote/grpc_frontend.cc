#include "engine/grpc_frontend.h"

#include <cstdlib>
#include <fstream>
#include <sstream>

#include <grpcpp/grpcpp.h>

#include "engine/remote/grpc_status.h"
#include "keel/v1/workflow_service.grpc.pb.h"

namespace keel {

namespace {

class GrpcFrontendImpl final : public Frontend {
 public:
  GrpcFrontendImpl(ConnectOptions options, std::shared_ptr<grpc::Channel> channel)
      : options_(std::move(options)), stub_(v1::WorkflowService::NewStub(channel)) {}

#define KEEL_UNARY(Name, Timeout)                                                   \
  Result<v1::Name##Response> Name(const v1::Name##Request& request) override {      \
    return Call<v1::Name##Response>(request, Timeout, &v1::WorkflowService::Stub::Name); \
  }
  KEEL_UNARY(StartWorkflowExecution, options_.call_timeout)
  KEEL_UNARY(SignalWorkflowExecution, options_.call_timeout)
  KEEL_UNARY(SignalWithStartWorkflowExecution, options_.call_timeout)
  KEEL_UNARY(RequestCancelWorkflowExecution, options_.call_timeout)
  KEEL_UNARY(TerminateWorkflowExecution, options_.call_timeout)
  KEEL_UNARY(DescribeWorkflowExecution, options_.call_timeout)
  KEEL_UNARY(ListWorkflowExecutions, options_.call_timeout)
  KEEL_UNARY(GetWorkflowExecutionHistory, options_.poll_timeout)
  KEEL_UNARY(GetWorkflowExecutionResult, options_.poll_timeout)
  KEEL_UNARY(QueryWorkflow, options_.poll_timeout)
  KEEL_UNARY(PollWorkflowTaskQueue, options_.poll_timeout)
  KEEL_UNARY(RespondWorkflowTaskCompleted, options_.call_timeout)
  KEEL_UNARY(RespondWorkflowTaskFailed, options_.call_timeout)
  KEEL_UNARY(RespondQueryTaskCompleted, options_.call_timeout)
  KEEL_UNARY(PollActivityTaskQueue, options_.poll_timeout)
  KEEL_UNARY(RecordActivityTaskHeartbeat, options_.call_timeout)
  KEEL_UNARY(RespondActivityTaskCompleted, options_.call_timeout)
  KEEL_UNARY(RespondActivityTaskFailed, options_.call_timeout)
  KEEL_UNARY(RespondActivityTaskCanceled, options_.call_timeout)
  KEEL_UNARY(ShutdownWorker, options_.call_timeout)
#undef KEEL_UNARY

 private:
  template <typename Resp, typename Req, typename Method>
  Result<Resp> Call(const Req& request, Duration timeout, Method method) {
    grpc::ClientContext context;
    context.set_deadline(Clock::System().Now() + timeout);
    if (!options_.token.empty()) context.AddMetadata("authorization", "Bearer " + options_.token);
    Resp response;
    grpc::Status st = (stub_.get()->*method)(&context, request, &response);
    if (!st.ok()) return remote::FromGrpc(st);
    return response;
  }

  ConnectOptions options_;
  std::unique_ptr<v1::WorkflowService::Stub> stub_;
};

}  // namespace

Result<std::unique_ptr<Frontend>> ConnectToServer(ConnectOptions options) {
  if (options.address.empty()) return InvalidArgument("no server address");
  if (options.token.empty()) {
    if (const char* env = std::getenv("KEEL_TOKEN")) options.token = env;
  }
  std::shared_ptr<grpc::ChannelCredentials> credentials;
  if (options.tls_ca_file.empty()) {
    credentials = grpc::InsecureChannelCredentials();
  } else {
    std::ifstream in(options.tls_ca_file);
    if (!in) return InvalidArgument("cannot read CA file " + options.tls_ca_file);
    std::stringstream pem;
    pem << in.rdbuf();
    grpc::SslCredentialsOptions ssl;
    ssl.pem_root_certs = pem.str();
    credentials = grpc::SslCredentials(ssl);
  }
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(64 * 1024 * 1024);  // histories can be large
  args.SetMaxSendMessageSize(16 * 1024 * 1024);
  auto channel = grpc::CreateCustomChannel(options.address, credentials, args);
  return std::unique_ptr<Frontend>(std::make_unique<GrpcFrontendImpl>(std::move(options), channel));
}

}  // namespace keel
