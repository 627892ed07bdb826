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
  for (auto& stream : idle_) Close(std::move(stream), true);
}

std::unique_ptr<WorkerStreamClient::Stream> WorkerStreamClient::Open() {
  auto stream = std::make_unique<Stream>();
  prepare_(stream->context);
  stream->rw = stub_.AsyncWorkerStream(&stream->context, &stream->cq, kStarted);
  stream->pending = 1;  // kStarted
  return stream;
}

WorkerStreamClient::Ended WorkerStreamClient::Close(std::unique_ptr<Stream> stream, bool cancel) {
  if (cancel) stream->context.TryCancel();
  grpc::Status status;
  stream->rw->Finish(&status, kFinished);
  ++stream->pending;
  void* tag;
  bool ok;
  while (stream->pending > 0 && stream->cq.Next(&tag, &ok)) --stream->pending;
  stream->cq.Shutdown();
  while (stream->cq.Next(&tag, &ok)) {
  }
  return {status, stream->context.GetServerTrailingMetadata().count(kUnprocessedKey) > 0};
}

void WorkerStreamClient::CancelPolls(const std::string& identity) {
  std::lock_guard<std::mutex> g(mu_);
  cancelled_.insert(identity);
  for (auto [it, end] = polls_.equal_range(identity); it != end; ++it) it->second->context.TryCancel();
}

Result<v1::WorkerStreamResponse> WorkerStreamClient::Call(const v1::WorkerStreamRequest& request,
                                                          Duration timeout, bool* sent,
                                                          const std::string& identity) {
  *sent = false;
  std::unique_ptr<Stream> stream;
  {
    std::lock_guard<std::mutex> g(mu_);
    if (!identity.empty() && cancelled_.count(identity)) {
      return Status(StatusCode::kCancelled, "the worker's polls were cancelled");
    }
    if (!idle_.empty()) {
      stream = std::move(idle_.back());
      idle_.pop_back();
    }
  }
  if (!stream) stream = Open();
  Stream* const s = stream.get();
  std::multimap<std::string, Stream*>::iterator registered;
  if (!identity.empty()) {
    std::lock_guard<std::mutex> g(mu_);
    registered = polls_.emplace(identity, s);
    if (cancelled_.count(identity)) s->context.TryCancel();  // CancelPolls came in between
  }
  auto unregister = [&] {
    if (identity.empty()) return;
    std::lock_guard<std::mutex> g(mu_);
    polls_.erase(registered);
  };

  const Time deadline = Clock::System().Now() + timeout;
  void* tag;
  bool ok;
  if (s->pending > 0) {  // a new stream: gRPC takes the first write only once it started
    const bool came = s->Next(deadline, &tag, &ok);
    if (!came || !ok) {
      unregister();
      Ended end = Close(std::move(stream), /*cancel=*/!came);
      return end.status.ok() ? Unavailable("cannot open a worker stream to keeld") : FromGrpc(end.status);
    }
  }
  v1::WorkerStreamResponse response;
  s->rw->Write(request, kWritten);
  s->rw->Read(&response, kRead);
  s->pending += 2;
  bool write_done = false, written = false, read = false;
  while (s->pending > 0) {
    if (!s->Next(deadline, &tag, &ok)) {
      unregister();
      Close(std::move(stream), true);
      *sent = !write_done || written;  // a write not yet confirmed may have left
      return Status(StatusCode::kDeadlineExceeded, "no answer from keeld in time");
    }
    if (tag == kWritten) {
      write_done = true;
      written = ok;
    }
    if (tag == kRead) read = ok;
  }
  unregister();
  if (!written || !read) {
    // The stream ended (a failed read means the call is over): keeld's status says
    // whether it refused the stream or left the message unprocessed.
    Ended end = Close(std::move(stream), /*cancel=*/read);
    const auto code = end.status.error_code();
    const bool refused = code == grpc::StatusCode::UNAUTHENTICATED || code == grpc::StatusCode::PERMISSION_DENIED;
    *sent = written && !refused && !end.unprocessed;
    if (refused) return FromGrpc(end.status);
    return Unavailable("the worker stream to keeld ended" +
                       (end.status.ok() ? std::string() : ": " + end.status.error_message()));
  }
  {
    std::lock_guard<std::mutex> g(mu_);
    idle_.push_back(std::move(stream));
  }
  *sent = true;
  if (response.code() != 0) {
    return FromGrpc(grpc::Status(static_cast<grpc::StatusCode>(response.code()), response.message()));
  }
  return response;
}

}  // namespace keel::remote
