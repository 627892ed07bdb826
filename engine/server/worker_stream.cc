#include "engine/server/worker_stream.h"

#include <algorithm>
#include <memory>

#include "engine/log.h"
#include "engine/remote/grpc_status.h"
#include "engine/remote/worker_stream_protocol.h"
#include "keel/v1/workflow_service.grpc.pb.h"

namespace keel::server {

namespace {

const char* CallName(v1::WorkerStreamRequest::CallCase call) {
  switch (call) {
    case v1::WorkerStreamRequest::kPollWorkflowTaskQueue: return "PollWorkflowTaskQueue";
    case v1::WorkerStreamRequest::kPollActivityTaskQueue: return "PollActivityTaskQueue";
    case v1::WorkerStreamRequest::kRespondWorkflowTaskCompleted: return "RespondWorkflowTaskCompleted";
    case v1::WorkerStreamRequest::kRespondActivityTaskCompleted: return "RespondActivityTaskCompleted";
    case v1::WorkerStreamRequest::kStartWorkflowExecution: return "StartWorkflowExecution";
    case v1::WorkerStreamRequest::CALL_NOT_SET: break;
  }
  return "nothing";
}

}  // namespace

// One stream: read a request, start its engine call, write the answer, read the next.
class WorkerStreams::Stream final : public WorkerStreamReactor {
 public:
  Stream(WorkerStreams& streams, grpc::CallbackServerContext* context, const Principal& principal)
      : streams_(streams), context_(context), principal_(principal) {}

  // After registering: reads the first request, or ends at once when keeld is stopping.
  void Begin(bool stopping) {
    std::lock_guard<std::mutex> g(mu_);
    if (state_ == State::kEnded) return;  // Stop came first
    if (stopping) {
      EndUnprocessedLocked();
      return;
    }
    StartRead(&in_);
  }

  void Stop() {
    std::lock_guard<std::mutex> g(mu_);
    stopping_ = true;
    if (state_ == State::kReading) EndUnprocessedLocked();
  }

  void OnReadDone(bool ok) override {
    std::shared_ptr<PollCancel> hung_up;
    {
      std::lock_guard<std::mutex> g(mu_);
      // Ended by Stop while this read waited: a message that came anyway is left
      // unprocessed, as the stream's end told the worker.
      if (state_ == State::kEnded) return;
      if (!ok) {  // the worker closed the stream or hung up
        EndLocked(grpc::Status::OK);
        return;
      }
      state_ = State::kCalling;
      cancel_ = std::make_shared<PollCancel>();
      if (hung_up_) hung_up = cancel_;
    }
    if (hung_up) hung_up->Cancel();  // OnCancel ran before this read's reaction
    Dispatch();
  }

  void OnWriteDone(bool ok) override {
    std::lock_guard<std::mutex> g(mu_);
    if (!ok) {
      EndLocked(grpc::Status(grpc::StatusCode::CANCELLED, "the worker is gone"));
    } else if (stopping_) {
      EndUnprocessedLocked();
    } else {
      state_ = State::kReading;
      in_.Clear();
      StartRead(&in_);
    }
  }

  // The worker hung up: a poll it waits on ends now, handing it no task.
  void OnCancel() override {
    std::shared_ptr<PollCancel> cancel;
    {
      std::lock_guard<std::mutex> g(mu_);
      hung_up_ = true;
      cancel = cancel_;
    }
    if (cancel) cancel->Cancel();
  }

  void OnDone() override {
    {
      std::lock_guard<std::mutex> g(streams_.mu_);
      streams_.open_.erase(this);
    }
    delete this;
  }

 private:
  enum class State { kReading, kCalling, kWriting, kEnded };

  void Dispatch() {
    Engine& engine = streams_.engine_;
    request_.Clear();
    grpc::ByteBuffer bytes(in_);  // shares the slices; parsing consumes the buffer
    if (!grpc::SerializationTraits<v1::WorkerStreamRequest>::Deserialize(&bytes, &request_).ok()) {
      v1::WorkerStreamResponse response;
      response.set_code(static_cast<int>(grpc::StatusCode::INVALID_ARGUMENT));
      response.set_message("the WorkerStream request is not a valid message (or one of its strings is not UTF-8)");
      Send(std::move(response));
      return;
    }
    Duration max_wait = Duration::max();
    if (request_.has_max_wait()) {  // clamped first: a huge one would overflow
      const int64_t seconds = std::clamp<int64_t>(request_.max_wait().seconds(), 0, int64_t{1} << 32);
      max_wait = std::max(Duration::zero(), std::chrono::seconds(seconds) +
                                                std::chrono::nanoseconds(request_.max_wait().nanos()));
    }
    if (!Permitted()) return;
    switch (request_.call_case()) {
      case v1::WorkerStreamRequest::kStartWorkflowExecution:
        engine.StartWorkflowExecution(request_.start_workflow_execution(), max_wait,
                                      Answer(&v1::WorkerStreamResponse::mutable_start_workflow_execution));
        return;
      case v1::WorkerStreamRequest::kPollWorkflowTaskQueue:
        engine.PollWorkflowTaskQueue(request_.poll_workflow_task_queue(), max_wait, cancel_,
                                     Answer(&v1::WorkerStreamResponse::mutable_poll_workflow_task_queue));
        return;
      case v1::WorkerStreamRequest::kPollActivityTaskQueue:
        engine.PollActivityTaskQueue(request_.poll_activity_task_queue(), max_wait, cancel_,
                                     Answer(&v1::WorkerStreamResponse::mutable_poll_activity_task_queue));
        return;
      case v1::WorkerStreamRequest::kRespondWorkflowTaskCompleted:
        engine.RespondWorkflowTaskCompleted(
            request_.respond_workflow_task_completed(),
            Answer(&v1::WorkerStreamResponse::mutable_respond_workflow_task_completed));
        return;
      case v1::WorkerStreamRequest::kRespondActivityTaskCompleted:
        engine.RespondActivityTaskCompleted(
            request_.respond_activity_task_completed(),
            Answer(&v1::WorkerStreamResponse::mutable_respond_activity_task_completed));
        return;
      case v1::WorkerStreamRequest::CALL_NOT_SET:
        break;
    }
    v1::WorkerStreamResponse response;
    response.set_code(static_cast<int>(grpc::StatusCode::INVALID_ARGUMENT));
    response.set_message("the WorkerStream request names no call (a poll, a completion or a start)");
    Send(std::move(response));
  }

  // Whether the stream's principal may make this message's call; if not, answers it with
  // PERMISSION_DENIED (logged, as for a refused call of its own).
  bool Permitted() {
    const auto call = request_.call_case();
    if (call == v1::WorkerStreamRequest::CALL_NOT_SET) return true;  // answered as malformed
    const bool start = call == v1::WorkerStreamRequest::kStartWorkflowExecution;
    // The same refusal as for the call of its own, so a caller sees one reason either way.
    Status st = TokenAuth::Permit(principal_, start ? Access::kClient : Access::kWorker, CallName(call));
    if (st.ok()) return true;
    Log().warn("keeld: {} on WorkerStream refused from {}: {}", CallName(call), context_->peer(), st.message());
    v1::WorkerStreamResponse response;
    response.set_code(static_cast<int>(grpc::StatusCode::PERMISSION_DENIED));
    response.set_message(st.message());
    Send(std::move(response));
    return false;
  }

  // The engine's callback: the answer is written back. Like every engine callback it may
  // run under a run's lock; it only starts the write. The request lives until then.
  template <typename Resp>
  Engine::Callback<Resp> Answer(Resp* (v1::WorkerStreamResponse::*field)()) {
    return [this, field](Result<Resp> result) {
      v1::WorkerStreamResponse response;
      if (result.ok()) {
        *(response.*field)() = std::move(result).value();
      } else {
        Log().debug("keeld: WorkerStream call by {}: {}", principal_.name, result.status().ToString());
        grpc::Status status = remote::ToGrpc(result.status());
        response.set_code(status.error_code());
        response.set_message(status.error_message());
      }
      Send(std::move(response));
    };
  }

  void Send(const v1::WorkerStreamResponse& response) {
    std::lock_guard<std::mutex> g(mu_);
    bool own_buffer = false;
    out_.Clear();
    (void)grpc::SerializationTraits<v1::WorkerStreamResponse>::Serialize(response, &out_, &own_buffer);
    cancel_.reset();
    state_ = State::kWriting;
    StartWrite(&out_);
  }

  void EndLocked(const grpc::Status& status) {
    state_ = State::kEnded;
    Finish(status);
  }

  // keeld is stopping and no message is being processed: any the worker sent since its
  // last answer never will be (worker_stream.h).
  void EndUnprocessedLocked() {
    context_->AddTrailingMetadata(remote::kUnprocessedKey, "1");
    EndLocked(grpc::Status(grpc::StatusCode::UNAVAILABLE, "keeld is stopping"));
  }

  WorkerStreams& streams_;
  grpc::CallbackServerContext* const context_;
  const Principal& principal_;  // who opened the stream
  std::mutex mu_;
  State state_ = State::kReading;
  bool stopping_ = false;
  bool hung_up_ = false;  // OnCancel ran
  grpc::ByteBuffer in_;               // the request as read
  v1::WorkerStreamRequest request_;   // parsed; lives until its call answers
  grpc::ByteBuffer out_;              // the answer being written
  std::shared_ptr<PollCancel> cancel_;  // the call under way (a poll uses it)
};

namespace {

// A refused stream: finished at once with the reason.
class Refused final : public WorkerStreamReactor {
 public:
  explicit Refused(const grpc::Status& status) { Finish(status); }
  void OnDone() override { delete this; }
};

}  // namespace

WorkerStreamReactor* WorkerStreams::Serve(grpc::CallbackServerContext* context, const grpc::Status& refused,
                                          const Principal* principal) {
  if (!refused.ok()) return new Refused(refused);
  auto* stream = new Stream(*this, context, *principal);
  bool stopping;
  {
    std::lock_guard<std::mutex> g(mu_);
    open_.insert(stream);
    stopping = stopping_;
  }
  stream->Begin(stopping);
  return stream;
}

void WorkerStreams::Stop() {
  std::lock_guard<std::mutex> g(mu_);
  stopping_ = true;
  for (Stream* stream : open_) stream->Stop();
}

}  // namespace keel::server
