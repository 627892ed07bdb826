#include "engine/remote/worker_stream_client.h"

#include <grpc/byte_buffer_reader.h>
#include <grpc/grpc.h>
#include <grpcpp/impl/codegen/completion_queue_tag.h>

#include <stdexcept>

#include "engine/log.h"
#include "engine/remote/grpc_status.h"

namespace keel::remote {

namespace {

void* const kStarted = reinterpret_cast<void*>(1);  // the C++ API's tag for the stream's start

// A batch of gRPC's core API on a stream's queue. The stream's calls are such batches, so
// that the calling thread wakes once per call: with a Write and a Read of the C++ API it
// woke twice in two calls of three, as the write's completion came on its own.
struct CoreTag final : grpc::internal::CompletionQueueTag {
  bool FinalizeResult(void** tag, bool*) override {
    *tag = this;
    return true;
  }
};

grpc_byte_buffer* Serialize(const google::protobuf::MessageLite& message) {
  grpc_slice slice = grpc_slice_malloc(message.ByteSizeLong());
  message.SerializeWithCachedSizesToArray(GRPC_SLICE_START_PTR(slice));
  grpc_byte_buffer* buffer = grpc_raw_byte_buffer_create(&slice, 1);
  grpc_slice_unref(slice);
  return buffer;
}

bool Parse(grpc_byte_buffer* buffer, google::protobuf::MessageLite* message) {
  grpc_byte_buffer_reader reader;
  if (!grpc_byte_buffer_reader_init(&reader, buffer)) return false;
  grpc_slice all = grpc_byte_buffer_reader_readall(&reader);
  grpc_byte_buffer_reader_destroy(&reader);
  const bool ok = message->ParseFromArray(GRPC_SLICE_START_PTR(all), static_cast<int>(GRPC_SLICE_LENGTH(all)));
  grpc_slice_unref(all);
  return ok;
}

std::string ToString(grpc_slice slice) {
  return std::string(reinterpret_cast<const char*>(GRPC_SLICE_START_PTR(slice)), GRPC_SLICE_LENGTH(slice));
}

}  // namespace

// The C++ API only opens the stream; its messages and its end are batches of the core API.
// The end (initial metadata and status) is asked for at once, so that a stream that ends
// while idle in the pool says so before it is used (EndedWhileIdle).
struct WorkerStreamClient::Stream {
  grpc::ClientContext context;
  grpc::CompletionQueue cq;
  std::unique_ptr<grpc::ClientAsyncReaderWriter<v1::WorkerStreamRequest, v1::WorkerStreamResponse>> rw;
  int pending = 0;           // batches started and not yet taken from cq
  bool start_taken = false;  // kStarted taken from cq
  bool started = false;      // ... and it was ok
  bool ended = false;        // `finished` taken: the status is known
  bool watching = false;     // the `finished` batch was started
  bool cancelled = false;    // by CancelPolls (guarded by the client's mu_)
  Time idle_since;           // put in the pool
  CoreTag exchanged, finished;
  // The call under way: its request, and its answer (null after the batch: the stream ended).
  grpc_byte_buffer* send = nullptr;
  grpc_byte_buffer* recv = nullptr;
  grpc_metadata_array initial_metadata, trailing_metadata;
  grpc_status_code status = GRPC_STATUS_UNKNOWN;
  grpc_slice status_details = grpc_empty_slice();

  Stream() {
    grpc_metadata_array_init(&initial_metadata);
    grpc_metadata_array_init(&trailing_metadata);
  }
  ~Stream() {  // after Close: no batch is under way
    ClearMessages();
    grpc_metadata_array_destroy(&initial_metadata);
    grpc_metadata_array_destroy(&trailing_metadata);
    grpc_slice_unref(status_details);
  }
  void ClearMessages() {
    if (send) grpc_byte_buffer_destroy(send);
    if (recv) grpc_byte_buffer_destroy(recv);
    send = recv = nullptr;
  }
  bool Start(const grpc_op* ops, size_t n, CoreTag* tag) {
    if (grpc_call_start_batch(context.c_call(), ops, n, tag, nullptr) != GRPC_CALL_OK) return false;
    ++pending;
    return true;
  }
  // Asks for the stream's end. (gRPC's core also holds back every message until the
  // initial metadata it follows is asked for.)
  void Watch() {
    grpc_op ops[2] = {};
    ops[0].op = GRPC_OP_RECV_INITIAL_METADATA;
    ops[0].data.recv_initial_metadata.recv_initial_metadata = &initial_metadata;
    ops[1].op = GRPC_OP_RECV_STATUS_ON_CLIENT;
    ops[1].data.recv_status_on_client.trailing_metadata = &trailing_metadata;
    ops[1].data.recv_status_on_client.status = &status;
    ops[1].data.recv_status_on_client.status_details = &status_details;
    watching = Start(ops, 2, &finished);
  }

  // Waits for the next completion until `deadline` (noting the start and the end); false
  // when it passed.
  bool Next(Time deadline, void** tag, bool* ok) {
    if (cq.AsyncNext(tag, ok, deadline) != grpc::CompletionQueue::GOT_EVENT) return false;
    Took(*tag, *ok);
    return true;
  }
  void Took(void* tag, bool ok) {
    --pending;
    if (tag == kStarted) {
      start_taken = true;
      started = ok;
    }
    if (tag == &finished) ended = true;
  }
  // Whether the stream ended while it sat idle (keeld stopped or went away): a look at
  // the queue that does not wait.
  bool EndedWhileIdle() {
    void* tag;
    bool ok;
    while (!ended && cq.AsyncNext(&tag, &ok, gpr_time_0(GPR_CLOCK_MONOTONIC)) == grpc::CompletionQueue::GOT_EVENT) {
      Took(tag, ok);
    }
    return ended;
  }
};

WorkerStreamClient::WorkerStreamClient(std::vector<Connection> connections,
                                       std::function<void(grpc::ClientContext&)> prepare, Duration look_after,
                                       Duration close_after)
    : connections_(std::move(connections)),
      prepare_(std::move(prepare)),
      look_after_(look_after),
      close_after_(close_after) {
  if (connections_.empty()) throw std::invalid_argument("WorkerStreamClient: no connection");
}

size_t WorkerStreamClient::idle_streams() const {
  std::lock_guard<std::mutex> g(mu_);
  return idle_.size();
}

size_t WorkerStreamClient::opened_streams() const {
  std::lock_guard<std::mutex> g(mu_);
  return opened_;
}

bool WorkerStreamClient::AwaitIdleEnds(Time deadline) {
  std::lock_guard<std::mutex> g(mu_);
  for (auto& stream : idle_) {
    void* tag;
    bool ok;
    while (!stream->ended) {
      if (!stream->Next(deadline, &tag, &ok)) return false;
    }
  }
  return true;
}

// Cancelled all at once, so that together they wait at most kCloseWait.
WorkerStreamClient::~WorkerStreamClient() {
  for (auto& stream : idle_) stream->context.TryCancel();
  const Time give_up = Clock::System().Now() + kCloseWait;
  for (auto& stream : idle_) Close(std::move(stream), true, give_up);
}

// A stream on a failing channel would fail at once (it does not wait for the channel to
// connect again), and the call would be made on its own; one on a channel that is idle or
// connecting waits for the connection. (The states are read outside mu_, which every
// call takes.)
v1::WorkflowService::Stub& WorkerStreamClient::NextStub() {
  size_t first;
  {
    std::lock_guard<std::mutex> g(mu_);
    ++opened_;
    first = next_connection_++;
  }
  for (size_t tried = 0; tried < connections_.size(); ++tried) {
    const Connection& c = connections_[(first + tried) % connections_.size()];
    const auto state = c.channel ? c.channel->GetState(/*try_to_connect=*/true) : GRPC_CHANNEL_READY;
    if (state != GRPC_CHANNEL_TRANSIENT_FAILURE && state != GRPC_CHANNEL_SHUTDOWN) {
      if (tried > 0) {  // the next stream goes to the one after, not to this one again
        std::lock_guard<std::mutex> g(mu_);
        if (next_connection_ == first + 1) next_connection_ = first + tried + 1;
      }
      return *c.stub;
    }
  }
  return *connections_[0].stub;
}

std::unique_ptr<WorkerStreamClient::Stream> WorkerStreamClient::Open() {
  v1::WorkflowService::Stub& stub = NextStub();
  auto stream = std::make_unique<Stream>();
  prepare_(stream->context);
  stream->rw = stub.AsyncWorkerStream(&stream->context, &stream->cq, kStarted);
  stream->pending = 1;  // kStarted
  stream->Watch();
  return stream;
}

WorkerStreamClient::Ended WorkerStreamClient::Close(std::unique_ptr<Stream> stream, bool cancel) {
  return Close(std::move(stream), cancel, Clock::System().Now() + kCloseWait);
}

WorkerStreamClient::Ended WorkerStreamClient::Close(std::unique_ptr<Stream> stream, bool cancel, Time give_up) {
  Stream& s = *stream;
  const bool cancelled = cancel || !s.watching;
  if (cancelled) s.context.TryCancel();
  void* tag;
  bool ok;
  // An ended stream's status comes at once from keeld; a peer that ends the stream without
  // one (not gRPC) is cancelled after a while, so that the caller is not held for good.
  while (s.pending > 0 && s.Next(give_up, &tag, &ok)) {
  }
  if (s.pending > 0 && !cancelled) {
    s.context.TryCancel();
    const Time last = Clock::System().Now() + kCloseWait;
    while (s.pending > 0 && s.Next(last, &tag, &ok)) {
    }
  }
  if (s.pending > 0) {
    // gRPC 1.51 has not ended it even though it was cancelled (seen when a stream's first
    // message outgrew gRPC's retry buffer; ConnectToServer now makes room for any). Its
    // queue and context must outlive its batches, so it is left to gRPC rather than
    // destroyed under it, and nothing waits for it any longer.
    Log().warn("a worker stream to keeld did not end after it was cancelled; it is left open");
    (void)stream.release();
    return {grpc::Status(grpc::StatusCode::UNKNOWN, "the worker stream did not end"), false};
  }
  s.cq.Shutdown();
  while (s.cq.Next(&tag, &ok)) {
  }
  if (!s.watching) return {grpc::Status(grpc::StatusCode::UNKNOWN, "the worker stream's end could not be read"), false};
  bool unprocessed = false;
  for (size_t i = 0; i < s.trailing_metadata.count; ++i) {
    if (grpc_slice_str_cmp(s.trailing_metadata.metadata[i].key, kUnprocessedKey) == 0) unprocessed = true;
  }
  return {grpc::Status(static_cast<grpc::StatusCode>(s.status), ToString(s.status_details)), unprocessed};
}

void WorkerStreamClient::Prepare(size_t n) {
  for (size_t have = idle_streams(); have < n; ++have) Pool(Open());
}

void WorkerStreamClient::CancelPolls(const std::string& identity) {
  std::lock_guard<std::mutex> g(mu_);
  cancelled_.insert(identity);
  for (auto [it, end] = polls_.equal_range(identity); it != end; ++it) {
    it->second->cancelled = true;
    it->second->context.TryCancel();
  }
}

std::unique_ptr<WorkerStreamClient::Stream> WorkerStreamClient::TakeIdle(Time now) {
  while (true) {
    std::unique_ptr<Stream> stream;
    {
      std::lock_guard<std::mutex> g(mu_);
      if (idle_.empty()) return nullptr;
      stream = std::move(idle_.back());
      idle_.pop_back();
    }
    // One not used yet (Prepare's) is looked at too: it may have failed to start.
    const bool look = !stream->start_taken || now - stream->idle_since >= look_after_;
    const bool failed = stream->ended || (look && stream->EndedWhileIdle()) ||
                        (stream->start_taken && !stream->started);
    if (!failed) return stream;
    Close(std::move(stream), false);
  }
}

Result<v1::WorkerStreamResponse> WorkerStreamClient::Call(const v1::WorkerStreamRequest& request,
                                                          Duration timeout, bool* sent,
                                                          const std::string& identity) {
  *sent = false;
  {
    std::lock_guard<std::mutex> g(mu_);
    if (!identity.empty() && cancelled_.count(identity)) {
      return Status(StatusCode::kCancelled, "the worker's polls were cancelled");
    }
  }
  const Time now = Clock::System().Now();
  std::unique_ptr<Stream> stream = TakeIdle(now);
  if (!stream) stream = Open();
  Stream* const s = stream.get();
  std::multimap<std::string, Stream*>::iterator registered;
  if (!identity.empty()) {
    std::lock_guard<std::mutex> g(mu_);
    registered = polls_.emplace(identity, s);
    if (cancelled_.count(identity)) {  // CancelPolls came in between
      s->cancelled = true;
      s->context.TryCancel();
    }
  }
  bool cancelled = false;  // by CancelPolls, perhaps after the answer came: not pooled
  auto unregister = [&] {
    if (identity.empty()) return;
    std::lock_guard<std::mutex> g(mu_);
    polls_.erase(registered);
    cancelled = s->cancelled;
  };
  // Nothing was sent: the stream did not start, or could not take the message.
  auto not_sent = [&](bool cancel) -> Status {
    unregister();
    Ended end = Close(std::move(stream), cancel);
    return end.status.ok() ? Unavailable("cannot open a worker stream to keeld") : FromGrpc(end.status);
  };

  const Time deadline = now + timeout;
  void* tag;
  bool ok;
  while (!s->start_taken) {  // a new stream: one that cannot start says so before a send
    if (!s->Next(deadline, &tag, &ok)) return not_sent(true);
  }
  if (!s->started || s->ended) return not_sent(false);  // (its end came with its start)
  s->ClearMessages();
  s->send = Serialize(request);
  grpc_op ops[2] = {};
  ops[0].op = GRPC_OP_SEND_MESSAGE;
  ops[0].data.send_message.send_message = s->send;
  ops[1].op = GRPC_OP_RECV_MESSAGE;
  ops[1].data.recv_message.recv_message = &s->recv;
  if (!s->Start(ops, 2, &s->exchanged)) return not_sent(true);
  bool exchanged = false;
  while (true) {  // the stream's end may come first
    if (!s->Next(deadline, &tag, &ok)) {
      unregister();
      Close(std::move(stream), true);
      *sent = true;  // it may have left
      return Status(StatusCode::kDeadlineExceeded, "no answer from keeld in time");
    }
    if (tag == &s->exchanged) {
      exchanged = ok;
      break;
    }
  }
  unregister();
  if (!exchanged || s->recv == nullptr) {
    // The stream ended, or the batch failed (on either side: a failed batch does not say
    // whether the message left). keeld's status says whether it refused the stream or
    // left the message unprocessed; otherwise it may have been processed. (A stream that
    // ended while idle was dropped before this call.)
    Ended end = Close(std::move(stream), /*cancel=*/false);
    const auto code = end.status.error_code();
    // (UNIMPLEMENTED: a keeld without WorkerStream, whose handler never ran.)
    const bool refused = code == grpc::StatusCode::UNAUTHENTICATED || code == grpc::StatusCode::PERMISSION_DENIED ||
                         code == grpc::StatusCode::UNIMPLEMENTED;
    *sent = !refused && !end.unprocessed;
    if (refused) return FromGrpc(end.status);
    return Unavailable("the worker stream to keeld ended" +
                       (end.status.ok() ? std::string() : ": " + end.status.error_message()));
  }
  *sent = true;
  v1::WorkerStreamResponse response;
  const bool parsed = Parse(s->recv, &response);
  s->ClearMessages();
  if (!parsed) {
    Close(std::move(stream), true);
    return Internal("keeld's answer on the worker stream is not a valid message");
  }
  if (cancelled || s->ended) {  // the end came with the answer: not for another call
    Close(std::move(stream), true);
  } else {
    Pool(std::move(stream));
  }
  if (response.code() != 0) {
    return FromGrpc(grpc::Status(static_cast<grpc::StatusCode>(response.code()), response.message()));
  }
  return response;
}

void WorkerStreamClient::Pool(std::unique_ptr<Stream> stream) {
  Stream* const s = stream.get();
  s->idle_since = Clock::System().Now();
  std::unique_ptr<Stream> unused;  // the least recently used, idle too long
  {
    std::lock_guard<std::mutex> g(mu_);
    if (!idle_.empty() && s->idle_since - idle_.front()->idle_since >= close_after_) {
      unused = std::move(idle_.front());
      idle_.erase(idle_.begin());
    }
    idle_.push_back(std::move(stream));
  }
  if (unused) Close(std::move(unused), true);
}

}  // namespace keel::remote
