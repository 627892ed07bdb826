#include "engine/grpc_frontend.h"

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <sstream>
#include <thread>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "engine/log.h"
#include "engine/remote/grpc_runtime.h"
#include "engine/remote/grpc_status.h"
#include "engine/remote/worker_stream_client.h"
#include "keel/v1/workflow_service.grpc.pb.h"

namespace keel {

namespace {

constexpr int kMostPreparedStreams = 256;
constexpr int kMostStreamConnections = 64;
constexpr size_t kMaxSendBytes = 16 * 1024 * 1024;  // a request; payloads are limited to 2 MiB

class GrpcFrontendImpl final : public Frontend {
 public:
  // `more_channels`: the other connections the worker streams are spread over.
  GrpcFrontendImpl(ConnectOptions options, std::shared_ptr<grpc::Channel> channel,
                   std::vector<std::shared_ptr<grpc::Channel>> more_channels)
      : options_(std::move(options)),
        channel_(channel),
        stub_(v1::WorkflowService::NewStub(channel)),
        more_channels_(std::move(more_channels)),
        more_stubs_(NewStubs(more_channels_)),
        stream_(StreamConnections(), [this](grpc::ClientContext& context) {
          if (!options_.token.empty()) context.AddMetadata("authorization", "Bearer " + options_.token);
        }) {}
  ~GrpcFrontendImpl() override {
    {
      std::lock_guard<std::mutex> g(listeners_mu_);
      stop_watching_ = true;
    }
    if (watcher_.joinable()) watcher_.join();
  }

  // Opens worker streams ahead (a client's starts and a worker's polls and completions
  // take them; every other call opens nothing of its own), up to a bound: a worker with
  // thousands of activity threads seldom has them all calling at once, and streams
  // beyond the bound still open as calls need them.
  void PrepareConcurrentCalls(int n) override {
    stream_.Prepare(static_cast<size_t>(std::clamp(n, 0, kMostPreparedStreams)));
  }

  // Started with the first listener (a worker's): clients that never listen pay nothing.
  int AddReconnectListener(std::function<void()> fn) override {
    std::lock_guard<std::mutex> g(listeners_mu_);
    const int handle = ++last_listener_;
    listeners_.emplace(handle, std::move(fn));
    if (!watcher_.joinable()) watcher_ = std::thread([this] { WatchConnection(); });
    return handle;
  }
  void RemoveReconnectListener(int handle) override {
    std::lock_guard<std::mutex> calling(calling_mu_);  // waits for a call under way
    std::lock_guard<std::mutex> g(listeners_mu_);
    listeners_.erase(handle);
  }

  // The two completions a worker sends most, and a client's start, go as messages on the
  // worker stream while keeld is reachable; otherwise (or when the message never left) as
  // calls of their own. A worker's results are delivered through a keeld restart (Deliver).
  Result<v1::RespondWorkflowTaskCompletedResponse> RespondWorkflowTaskCompleted(
      const v1::RespondWorkflowTaskCompletedRequest& request) override {
    return StreamOrDeliver(request, &v1::WorkerStreamRequest::mutable_respond_workflow_task_completed,
                           &v1::WorkerStreamResponse::mutable_respond_workflow_task_completed,
                           &v1::WorkflowService::Stub::RespondWorkflowTaskCompleted);
  }
  Result<v1::RespondActivityTaskCompletedResponse> RespondActivityTaskCompleted(
      const v1::RespondActivityTaskCompletedRequest& request) override {
    return StreamOrDeliver(request, &v1::WorkerStreamRequest::mutable_respond_activity_task_completed,
                           &v1::WorkerStreamResponse::mutable_respond_activity_task_completed,
                           &v1::WorkflowService::Stub::RespondActivityTaskCompleted);
  }
  Result<v1::RespondWorkflowTaskFailedResponse> RespondWorkflowTaskFailed(
      const v1::RespondWorkflowTaskFailedRequest& request) override {
    return Deliver<v1::RespondWorkflowTaskFailedResponse>(request, &v1::WorkflowService::Stub::RespondWorkflowTaskFailed);
  }
  Result<v1::RespondActivityTaskFailedResponse> RespondActivityTaskFailed(
      const v1::RespondActivityTaskFailedRequest& request) override {
    return Deliver<v1::RespondActivityTaskFailedResponse>(request, &v1::WorkflowService::Stub::RespondActivityTaskFailed);
  }
  Result<v1::RespondActivityTaskCanceledResponse> RespondActivityTaskCanceled(
      const v1::RespondActivityTaskCanceledRequest& request) override {
    return Deliver<v1::RespondActivityTaskCanceledResponse>(request,
                                                            &v1::WorkflowService::Stub::RespondActivityTaskCanceled);
  }

#define KEEL_UNARY(Name, Timeout)                                                   \
  Result<v1::Name##Response> Name(const v1::Name##Request& request) override {      \
    return Call<v1::Name##Response>(request, Timeout, &v1::WorkflowService::Stub::Name); \
  }
  KEEL_UNARY(SignalWorkflowExecution, options_.call_timeout)
  KEEL_UNARY(SignalWithStartWorkflowExecution, options_.call_timeout)
  KEEL_UNARY(RequestCancelWorkflowExecution, options_.call_timeout)
  KEEL_UNARY(TerminateWorkflowExecution, options_.call_timeout)
  KEEL_UNARY(DescribeWorkflowExecution, options_.call_timeout)
  KEEL_UNARY(ListWorkflowExecutions, options_.call_timeout)
  KEEL_UNARY(QueryWorkflow, options_.poll_timeout)
  KEEL_UNARY(RespondQueryTaskCompleted, options_.call_timeout)
  KEEL_UNARY(RecordActivityTaskHeartbeat, options_.call_timeout)
#undef KEEL_UNARY

  // Long waits. Their own deadline (options_.poll_timeout) may come before keeld's poll
  // timeout (keeld --poll-timeout). keeld ends each wait before the caller's deadline; a
  // wait that ran out anyway while keeld was reachable ended with nothing new, as keeld's
  // own timeout would have, and callers ask again.
  Result<v1::StartWorkflowExecutionResponse> StartWorkflowExecution(
      const v1::StartWorkflowExecutionRequest& request) override {
    auto start = [this](const v1::StartWorkflowExecutionRequest& r) {
      return StreamOrCall(r, &v1::WorkerStreamRequest::mutable_start_workflow_execution,
                          &v1::WorkerStreamResponse::mutable_start_workflow_execution,
                          &v1::WorkflowService::Stub::StartWorkflowExecution, /*waits=*/r.wait_for_result());
    };
    auto response = start(request);
    if (request.wait_for_result() && WaitRanOut(response) && !request.request_id().empty()) {
      // keeld normally ends the wait before our deadline. If it did not, ask again without
      // waiting: the same request id gives back the run this start made (or makes it), and
      // the caller waits for that run's result.
      v1::StartWorkflowExecutionRequest again = request;
      again.set_wait_for_result(false);
      return start(again);
    }
    return response;
  }
  Result<v1::GetWorkflowExecutionResultResponse> GetWorkflowExecutionResult(
      const v1::GetWorkflowExecutionResultRequest& request) override {
    if (!request.wait()) {  // a plain read that runs out is an error, not "still running"
      return Call<v1::GetWorkflowExecutionResultResponse>(request, options_.poll_timeout,
                                                          &v1::WorkflowService::Stub::GetWorkflowExecutionResult);
    }
    return LongWait<v1::GetWorkflowExecutionResultResponse>(
        request, &v1::WorkflowService::Stub::GetWorkflowExecutionResult, [&] {
          v1::GetWorkflowExecutionResultResponse still;
          still.set_status(v1::WORKFLOW_EXECUTION_STATUS_RUNNING);
          still.set_run_id(request.workflow_execution().run_id());
          return still;
        });
  }
  Result<v1::GetWorkflowExecutionHistoryResponse> GetWorkflowExecutionHistory(
      const v1::GetWorkflowExecutionHistoryRequest& request) override {
    // Only a wait for new events may end empty; a plain read that runs out is an error.
    if (!request.wait_new_event()) {
      return Call<v1::GetWorkflowExecutionHistoryResponse>(request, options_.poll_timeout,
                                                           &v1::WorkflowService::Stub::GetWorkflowExecutionHistory);
    }
    return LongWait<v1::GetWorkflowExecutionHistoryResponse>(
        request, &v1::WorkflowService::Stub::GetWorkflowExecutionHistory, [&] {
          v1::GetWorkflowExecutionHistoryResponse none;
          *none.mutable_history()->mutable_workflow_execution() = request.workflow_execution();
          return none;
        });
  }

  Result<v1::PollWorkflowTaskQueueResponse> PollWorkflowTaskQueue(
      const v1::PollWorkflowTaskQueueRequest& request) override {
    return PollOnStream(request, &v1::WorkerStreamRequest::mutable_poll_workflow_task_queue,
                        &v1::WorkerStreamResponse::mutable_poll_workflow_task_queue,
                        &v1::WorkflowService::Stub::PollWorkflowTaskQueue);
  }
  Result<v1::PollActivityTaskQueueResponse> PollActivityTaskQueue(
      const v1::PollActivityTaskQueueRequest& request) override {
    return PollOnStream(request, &v1::WorkerStreamRequest::mutable_poll_activity_task_queue,
                        &v1::WorkerStreamResponse::mutable_poll_activity_task_queue,
                        &v1::WorkflowService::Stub::PollActivityTaskQueue);
  }

  // Like the engine's: ends the worker's polls, now and later. keeld ends those it holds
  // (first, so it hands them no more tasks); the ones still waiting for keeld to be
  // reachable end here.
  Result<v1::ShutdownWorkerResponse> ShutdownWorker(const v1::ShutdownWorkerRequest& request) override {
    auto response = Call<v1::ShutdownWorkerResponse>(request, options_.call_timeout,
                                                     &v1::WorkflowService::Stub::ShutdownWorker);
    {
      std::lock_guard<std::mutex> g(polls_mu_);
      shut_down_.insert(request.identity());
      for (auto [it, end] = polls_.equal_range(request.identity()); it != end; ++it) it->second->TryCancel();
    }
    stream_.CancelPolls(request.identity());
    return response;
  }

 private:
  bool shut_down(const std::string& identity) {
    std::lock_guard<std::mutex> g(polls_mu_);
    return shut_down_.count(identity) > 0;
  }

  // A call on the worker stream, when keeld is reachable; nothing when the message never
  // left (the caller then makes the call on its own).
  std::optional<Result<v1::WorkerStreamResponse>> OnStream(const v1::WorkerStreamRequest& message, Duration timeout,
                                                           const std::string& poll_identity = "") {
    if (channel_->GetState(false) != GRPC_CHANNEL_READY) return std::nullopt;
    bool sent = false;
    auto answer = stream_.Call(message, timeout, &sent, poll_identity);
    if (!sent) return std::nullopt;
    return answer;
  }

  // A call on the stream, or as a call of its own. One that `waits` (a start that waits
  // for the result) has the poll timeout and ends, as keeld's GiveUp does for a call, a
  // little before it.
  template <typename Req, typename Resp, typename Method>
  Result<Resp> StreamOrCall(const Req& request, Req* (v1::WorkerStreamRequest::*put)(),
                            Resp* (v1::WorkerStreamResponse::*take)(), Method method, bool waits = false) {
    v1::WorkerStreamRequest message;
    *(message.*put)() = request;
    if (waits) SetMaxWait(message);
    const Duration timeout = waits ? options_.poll_timeout : options_.call_timeout;
    if (auto answer = OnStream(message, timeout)) {
      if (!answer->ok()) return answer->status();
      return std::move(*((*answer).value().*take)());
    }
    return Call<Resp>(request, timeout, method);
  }

  // A worker's result on the stream; delivered as a call of its own when the message
  // never left, or when it may have left but no answer came (keeld went away or is
  // stopping).
  template <typename Req, typename Resp, typename Method>
  Result<Resp> StreamOrDeliver(const Req& request, Req* (v1::WorkerStreamRequest::*put)(),
                               Resp* (v1::WorkerStreamResponse::*take)(), Method method) {
    KEEL_RETURN_IF_ERROR(CheckSendSize(request));
    const Time deadline = Clock::System().Now() + options_.deliver_wait;
    v1::WorkerStreamRequest message;
    *(message.*put)() = request;
    if (auto answer = OnStream(message, options_.call_timeout)) {
      if (answer->ok()) return std::move(*((*answer).value().*take)());
      if (!WorthRetrying(answer->status().code())) return answer->status();
    }
    return Deliver<Resp>(request, method, deadline);
  }

  // A result gRPC would refuse to send (RESOURCE_EXHAUSTED, like a full disk on keeld's
  // side) is refused here as what it is: it never will be sent. (keeld's own payload
  // limit is lower: at most 15 MiB.)
  static Status CheckSendSize(const google::protobuf::MessageLite& request) {
    const size_t bytes = request.ByteSizeLong();
    if (bytes <= kMaxSendBytes) return Status::Ok();
    return InvalidArgument("the request is " + std::to_string(bytes) + " bytes, over gRPC's send limit of " +
                           std::to_string(kMaxSendBytes) + " bytes");
  }

  static bool KeeldAway(StatusCode code) {
    return code == StatusCode::kUnavailable || code == StatusCode::kDeadlineExceeded;
  }

  // Whether a result keeld did not take may be taken later: keeld is away, or its store
  // is full or out of memory (SQLITE_FULL, SQLITE_NOMEM), which an operator can mend.
  // (One over the send limit never gets here: CheckSendSize.)
  static bool WorthRetrying(StatusCode code) {
    return KeeldAway(code) || code == StatusCode::kResourceExhausted;
  }

  template <typename Resp, typename Req, typename Method>
  Result<Resp> Deliver(const Req& request, Method method) {
    return Deliver<Resp>(request, method, Clock::System().Now() + options_.deliver_wait);
  }

  // A worker's result must reach keeld, or keeld runs its task again when the task's
  // timeout expires (and an activity's side effect happens twice). While keeld is away
  // or stopping (or cannot write, see WorthRetrying), each attempt waits for the
  // connection (wait_for_ready) and the next goes out when keeld is back, until
  // `deadline`. Sending one again that keeld did record is harmless: keeld refuses the
  // repeat with NOT_FOUND and records nothing.
  template <typename Resp, typename Req, typename Method>
  Result<Resp> Deliver(const Req& request, Method method, Time deadline) {
    KEEL_RETURN_IF_ERROR(CheckSendSize(request));
    bool waited = false;
    for (;;) {
      if (!waited && channel_->GetState(true) != GRPC_CHANNEL_READY &&
          !channel_->WaitForConnected(std::min(deadline, Clock::System().Now() + options_.connect_wait))) {
        waited = true;
        WaitingResults(+1);
      }
      const Time now = Clock::System().Now();
      grpc::ClientContext context;
      // A reachable keeld gets the call's usual time; waiting for one that is away is
      // bounded by the deadline (but lasts connect_wait at least, so one attempt is made).
      const bool ready = channel_->GetState(false) == GRPC_CHANNEL_READY;
      Prepare(context, ready ? options_.call_timeout
                             : std::min(options_.call_timeout, std::max<Duration>(deadline - now, options_.connect_wait)));
      context.set_wait_for_ready(true);
      Resp response;
      grpc::Status st = (stub_.get()->*method)(&context, request, &response);
      if (st.ok() || !WorthRetrying(static_cast<StatusCode>(st.error_code()))) {
        if (waited) WaitingResults(-1);
        if (!st.ok()) return remote::FromGrpc(st);
        return response;
      }
      if (!waited) {
        waited = true;
        WaitingResults(+1);
      }
      if (Clock::System().Now() >= deadline) {
        WaitingResults(-1, /*reached=*/false);
        Log().error("a worker result was not delivered: keeld at {} did not take it for {:g} s ({}); keeld runs "
                    "the task again when its timeout expires",
                    options_.address, std::chrono::duration<double>(options_.deliver_wait).count(),
                    ForLog(st.error_message()));
        return Unavailable("keeld at " + options_.address + " did not take the result in time: " + st.error_message());
      }
      // A keeld that is stopping still holds the connection and refuses each call: wait
      // for the connection to change (keeld gone) before the next attempt, or a second.
      if (channel_->GetState(false) == GRPC_CHANNEL_READY) {
        (void)channel_->WaitForStateChange(GRPC_CHANNEL_READY,
                                           std::min(deadline, Clock::System().Now() + std::chrono::seconds(1)));
      }
    }
  }

  // Calls the listeners when the channel is ready again after it left the ready state
  // (keeld went away and is back, or the connection broke and was made again). It also
  // makes the channel connect again: a worker whose activity slots are all busy has no
  // call under way that would. Waits in slices so that the destructor is not kept waiting.
  void WatchConnection() {
    grpc_connectivity_state last = channel_->GetState(false);
    bool ever_ready = last == GRPC_CHANNEL_READY;
    bool lost = false;
    for (;;) {
      {
        std::lock_guard<std::mutex> g(listeners_mu_);
        if (stop_watching_) return;
      }
      if (!channel_->WaitForStateChange(last, Clock::System().Now() + std::chrono::milliseconds(250))) continue;
      const grpc_connectivity_state now = channel_->GetState(/*try_to_connect=*/true);
      // Left the ready state since it was last ready (a change from ready to ready is a
      // loss and a return between two looks).
      if (ever_ready && (last == GRPC_CHANNEL_READY || now != GRPC_CHANNEL_READY)) lost = true;
      ever_ready |= now == GRPC_CHANNEL_READY;
      last = now;
      if (now != GRPC_CHANNEL_READY || !lost) continue;
      lost = false;
      Log().info("keeld at {} is reachable again", options_.address);
      std::lock_guard<std::mutex> calling(calling_mu_);
      std::vector<std::function<void()>> fns;
      {
        std::lock_guard<std::mutex> g(listeners_mu_);
        for (const auto& [handle, fn] : listeners_) fns.push_back(fn);
      }
      for (const auto& fn : fns) fn();
    }
  }

  // Says once when results start waiting for keeld, and once when they reached it.
  void WaitingResults(int change, bool reached = true) {
    std::lock_guard<std::mutex> g(polls_mu_);
    const int before = waiting_results_;
    waiting_results_ += change;
    if (before == 0 && waiting_results_ > 0) {
      Log().warn("keeld at {} is not reachable, is stopping or cannot write: the worker's results wait for it "
                 "(up to {:g} s)",
                 options_.address, std::chrono::duration<double>(options_.deliver_wait).count());
    } else if (before > 0 && waiting_results_ == 0 && reached) {
      Log().info("keeld at {} is back: the worker's waiting results went out", options_.address);
    }
  }

  // keeld ends a wait on the stream a little before the caller stops waiting for it.
  void SetMaxWait(v1::WorkerStreamRequest& message) const {
    const Duration margin = std::min<Duration>(std::chrono::seconds(2), options_.poll_timeout / 4);
    const auto wait = std::chrono::duration_cast<std::chrono::nanoseconds>(options_.poll_timeout - margin);
    message.mutable_max_wait()->set_seconds(wait.count() / 1000000000);
    message.mutable_max_wait()->set_nanos(static_cast<int32_t>(wait.count() % 1000000000));
  }

  // A poll on the stream ends, empty, a little before the worker stops waiting for it
  // (SetMaxWait). One that cannot go out on the stream, or fails
  // because the stream broke, is made as a call of its own, which waits for keeld to
  // come back.
  template <typename Req, typename Resp, typename Method>
  Result<Resp> PollOnStream(const Req& request, Req* (v1::WorkerStreamRequest::*put)(),
                            Resp* (v1::WorkerStreamResponse::*take)(), Method method) {
    if (shut_down(request.identity())) return Resp();
    v1::WorkerStreamRequest message;
    *(message.*put)() = request;
    SetMaxWait(message);
    auto answer = OnStream(message, options_.poll_timeout, request.identity());
    if (!answer || (!answer->ok() && answer->status().code() == StatusCode::kUnavailable)) {
      return Poll<Resp>(request, method);
    }
    if (!answer->ok() && answer->status().code() == StatusCode::kDeadlineExceeded) {
      if (channel_->GetState(false) == GRPC_CHANNEL_READY) return Resp();  // as keeld's own timeout: no task
      return Unavailable("keeld at " + options_.address + " did not answer a poll in time");
    }
    if (!answer->ok()) return answer->status();
    return std::move(*((*answer).value().*take)());
  }

  template <typename Resp, typename Req, typename Method>
  Result<Resp> Call(const Req& request, Duration timeout, Method method) {
    // A call that fails at once does not drive the connection forward: without this
    // wait, a keeld that came back is only noticed by gRPC's 5 s background poller.
    if (channel_->GetState(true) != GRPC_CHANNEL_READY) {
      (void)channel_->WaitForConnected(Clock::System().Now() + std::min(timeout, options_.connect_wait));
    }
    grpc::ClientContext context;
    Prepare(context, timeout);
    Resp response;
    grpc::Status st = (stub_.get()->*method)(&context, request, &response);
    if (!st.ok()) return remote::FromGrpc(st);
    return response;
  }

  // Whether a long wait ran out while keeld was reachable (rather than keeld being away).
  template <typename Resp>
  bool WaitRanOut(const Result<Resp>& response) {
    return !response.ok() && response.status().code() == StatusCode::kDeadlineExceeded &&
           channel_->GetState(false) == GRPC_CHANNEL_READY;
  }
  template <typename Resp, typename Req, typename Method, typename Empty>
  Result<Resp> LongWait(const Req& request, Method method, Empty empty) {
    auto response = Call<Resp>(request, options_.poll_timeout, method);
    if (WaitRanOut(response)) return empty();
    return response;
  }

  // A poll waits for keeld to be reachable (a restart, a worker started before keeld)
  // instead of failing at once: it goes out as soon as the channel reconnects, and a
  // worker does not pile up failures and back off further while keeld is away.
  template <typename Resp, typename Req, typename Method>
  Result<Resp> Poll(const Req& request, Method method) {
    grpc::ClientContext context;
    Prepare(context, options_.poll_timeout);
    context.set_wait_for_ready(true);
    {
      std::lock_guard<std::mutex> g(polls_mu_);
      if (shut_down_.count(request.identity())) return Resp();
      polls_.emplace(request.identity(), &context);
    }
    Resp response;
    grpc::Status st = (stub_.get()->*method)(&context, request, &response);
    bool shut_down = false;
    {
      std::lock_guard<std::mutex> g(polls_mu_);
      for (auto [it, end] = polls_.equal_range(request.identity()); it != end; ++it) {
        if (it->second == &context) {
          polls_.erase(it);
          break;
        }
      }
      shut_down = shut_down_.count(request.identity()) > 0;
    }
    if (shut_down && st.error_code() == grpc::StatusCode::CANCELLED) return Resp();  // as the engine: no task
    if (st.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED) {
      if (channel_->GetState(false) == GRPC_CHANNEL_READY) return Resp();  // as keeld's own timeout: no task
      return Unavailable("keeld at " + options_.address + " was not reachable for the whole poll (" +
                         std::to_string(std::chrono::duration_cast<std::chrono::seconds>(options_.poll_timeout).count()) +
                         " s)");
    }
    if (!st.ok()) return remote::FromGrpc(st);
    return response;
  }

  void Prepare(grpc::ClientContext& context, Duration timeout) const {
    context.set_deadline(Clock::System().Now() + timeout);
    if (!options_.token.empty()) context.AddMetadata("authorization", "Bearer " + options_.token);
  }

  static std::vector<std::unique_ptr<v1::WorkflowService::Stub>> NewStubs(
      const std::vector<std::shared_ptr<grpc::Channel>>& channels) {
    std::vector<std::unique_ptr<v1::WorkflowService::Stub>> stubs;
    for (const auto& channel : channels) stubs.push_back(v1::WorkflowService::NewStub(channel));
    return stubs;
  }
  std::vector<remote::WorkerStreamClient::Connection> StreamConnections() const {
    std::vector<remote::WorkerStreamClient::Connection> connections{{stub_.get(), channel_.get()}};
    for (size_t i = 0; i < more_stubs_.size(); ++i) connections.push_back({more_stubs_[i].get(), more_channels_[i].get()});
    return connections;
  }

  ConnectOptions options_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::WorkflowService::Stub> stub_;
  std::vector<std::shared_ptr<grpc::Channel>> more_channels_;  // (these two before stream_)
  std::vector<std::unique_ptr<v1::WorkflowService::Stub>> more_stubs_;
  std::mutex polls_mu_;
  std::multimap<std::string, grpc::ClientContext*> polls_;  // in flight, by worker identity
  std::set<std::string> shut_down_;                          // identities given to ShutdownWorker
  int waiting_results_ = 0;                                  // Deliver calls waiting for keeld
  std::mutex listeners_mu_;
  std::map<int, std::function<void()>> listeners_;  // AddReconnectListener's, by handle
  int last_listener_ = 0;
  bool stop_watching_ = false;
  std::mutex calling_mu_;  // held while the listeners are called
  std::thread watcher_;
  remote::WorkerStreamClient stream_;
};

}  // namespace

Result<std::unique_ptr<Frontend>> ConnectToServer(ConnectOptions options) {
  if (options.address.empty()) return InvalidArgument("no server address");
  if (options.keepalive < Duration::zero()) return InvalidArgument("keepalive must not be negative (0: no pings)");
  if (options.keepalive > Duration::zero() && options.keepalive_timeout <= Duration::zero()) {
    return InvalidArgument("keepalive_timeout must be positive when keepalive is on");
  }
  if (options.stream_connections < 1 || options.stream_connections > kMostStreamConnections) {
    return InvalidArgument("stream_connections must be 1 to " + std::to_string(kMostStreamConnections) + ", not " +
                           std::to_string(options.stream_connections));
  }
  PrepareGrpcRuntime();
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
  args.SetMaxSendMessageSize(static_cast<int>(kMaxSendBytes));
  // After keeld restarts, try to reach it again soon: gRPC's default backoff grows to
  // two minutes between attempts, so a restarted keeld could sit unused that long.
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 1000);
  // Nothing reads channelz, which counts every call. (gRPC's retries stay on: they
  // include the transparent retry of a call that never reached keeld.)
  args.SetInt(GRPC_ARG_ENABLE_CHANNELZ, 0);
  // gRPC keeps what a call sends until keeld's first answer, for its retries. Past the
  // default 256 KiB it stops, and gRPC 1.51 then never ends a worker stream cancelled
  // later (its close waited for good): room for the largest message we send.
  args.SetInt(GRPC_ARG_PER_RPC_RETRY_BUFFER_SIZE, static_cast<int>(2 * kMaxSendBytes));
  if (options.keepalive > Duration::zero()) {
    auto ms = [](Duration d) {
      return static_cast<int>(std::clamp<int64_t>(
          std::chrono::duration_cast<std::chrono::milliseconds>(d).count(), 1, INT32_MAX));
    };
    args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, ms(options.keepalive));
    args.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, ms(options.keepalive_timeout));
    // A long poll sends no data for up to a minute: keep pinging through it (gRPC's
    // default stops after 2 pings without data).
    args.SetInt(GRPC_ARG_HTTP2_MAX_PINGS_WITHOUT_DATA, 0);
    // Also a connection without a call: a worker's polls may all be on the others, and
    // the first connection is the one whose loss tells it to report its activities.
    args.SetInt(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  }
  // No idle timeout (gRPC's default: 30 minutes without calls). A connection gone idle
  // and back would look lost to the reconnection watch (AddReconnectListener).
  args.SetInt(GRPC_ARG_CLIENT_IDLE_TIMEOUT_MS, INT32_MAX);
  auto channel = grpc::CreateCustomChannel(options.address, credentials, args);
  // Each with a subchannel pool of its own, so that it gets a connection of its own.
  std::vector<std::shared_ptr<grpc::Channel>> more_channels;
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  for (int i = 1; i < options.stream_connections; ++i) {
    more_channels.push_back(grpc::CreateCustomChannel(options.address, credentials, args));
  }
  return std::unique_ptr<Frontend>(
      std::make_unique<GrpcFrontendImpl>(std::move(options), channel, std::move(more_channels)));
}

}  // namespace keel
