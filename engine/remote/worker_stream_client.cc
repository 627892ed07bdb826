#include "engine/remote/worker_stream_client.h"

#include "engine/remote/grpc_status.h"

namespace keel::remote {

namespace {
// Completion-queue tags; each stream has its own queue.
void* const kStarted = reinterpret_cast<void*>(1);
void* const kWritten = reinterpret_cast<void*>(2);
void* const kRead = reinterpret_cast<void*>(3);
void* const kFinished = reinterpret_cast<void*>(4);
}  // namespace

struct WorkerStreamClient::Stream {
  grpc::ClientContext context;
  grpc::CompletionQueue cq;
  std::unique_ptr<grpc::ClientAsyncReaderWriter<v1::WorkerStreamRequest, v1::WorkerStreamResponse>> rw;
  int pending = 0;  // operations started and not yet taken from cq

  // Waits for the next completion until `deadline`; false when it passed.
  bool Next(Time deadline, void** tag, bool* ok) {
    if (cq.AsyncNext(tag, ok, deadline) != grpc::CompletionQueue::GOT_EVENT) return false;
    --pending;
    return true;
  }
};

WorkerStreamClient::WorkerStreamClient(v1::WorkflowService::Stub& stub,
                                       std::function<void(grpc::ClientContext&)> prepare)
    : stub_(stub), prepare_(std::move(prepare)) {}

WorkerStreamClient::~WorkerStreamClient() {
  for (auto& stream : idle_) Drop(std::move(stream));
}

std::unique_ptr<WorkerStreamClient::Stream> WorkerStreamClient::Open() {
  auto stream = std::make_unique<Stream>();
  prepare_(stream->context);
  stream->rw = stub_.AsyncWorkerStream(&stream->context, &stream->cq, kStarted);
  stream->pending = 1;  // kStarted
  return stream;
}

// Cancels the stream and takes every completion from its queue before it goes away.
void WorkerStreamClient::Drop(std::unique_ptr<Stream> stream) {
  stream->context.TryCancel();
  grpc::Status status;
  stream->rw->Finish(&status, kFinished);
  ++stream->pending;
  void* tag;
  bool ok;
  while (stream->pending > 0 && stream->cq.Next(&tag, &ok)) --stream->pending;
  stream->cq.Shutdown();
  while (stream->cq.Next(&tag, &ok)) {
  }
}

Result<v1::WorkerStreamResponse> WorkerStreamClient::Call(const v1::WorkerStreamRequest& request,
                                                          Duration timeout, bool* sent) {
  *sent = false;
  std::unique_ptr<Stream> stream;
  {
    std::lock_guard<std::mutex> g(mu_);
    if (!idle_.empty()) {
      stream = std::move(idle_.back());
      idle_.pop_back();
    }
  }
  if (!stream) stream = Open();
  const Time deadline = Clock::System().Now() + timeout;
  void* tag;
  bool ok;
  if (stream->pending > 0) {  // a new stream: gRPC takes the first write only once it started
    if (!stream->Next(deadline, &tag, &ok) || !ok) {
      Drop(std::move(stream));
      return Unavailable("cannot open a worker stream to keeld");
    }
  }
  v1::WorkerStreamResponse response;
  stream->rw->Write(request, kWritten);
  stream->rw->Read(&response, kRead);
  stream->pending += 2;
  bool written = false, read = false;
  while (stream->pending > 0) {
    if (!stream->Next(deadline, &tag, &ok)) {
      Drop(std::move(stream));
      *sent = written;
      return Status(StatusCode::kDeadlineExceeded, "no answer from keeld in time");
    }
    if (tag == kWritten) written = ok;
    if (tag == kRead) read = ok;
  }
  *sent = written;
  if (!written || !read) {
    Drop(std::move(stream));
    return Unavailable("the worker stream to keeld ended");
  }
  {
    std::lock_guard<std::mutex> g(mu_);
    idle_.push_back(std::move(stream));
  }
  if (response.code() != 0) {
    return FromGrpc(grpc::Status(static_cast<grpc::StatusCode>(response.code()), response.message()));
  }
  return response;
}

}  // namespace keel::remote
