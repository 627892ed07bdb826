// The worker's side of WorkerStream (keel.v1.WorkflowService.WorkerStream): a pool of
// open streams, each carrying one call at a time, driven by the calling thread on the
// stream's own completion queue (as a synchronous gRPC call is), with the request's send
// and the answer's receipt in one batch of gRPC's core API. A caller takes an idle
// stream, or opens one; a stream that fails or runs out of time is dropped. Thread-safe.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "engine/clock.h"
#include "engine/remote/worker_stream_protocol.h"
#include "engine/status.h"
#include "keel/v1/workflow_service.grpc.pb.h"

namespace keel::remote {

class WorkerStreamClient {
 public:
  // `prepare` adds a new stream's metadata (the token). A stream idle in the pool for
  // `look_after` or longer is checked for an end before it is used (a look at its queue
  // costs a system call). One that keeld ended sooner is seen ending when used; for a
  // stream to end unseen and be used, keeld must go away and be reachable again, which
  // takes longer than the default.
  // A stream left idle for `close_after` (the least recently used first) is closed when
  // another goes back to the pool, so that a worker whose calls at once grew for a while
  // does not keep their streams open on keeld for good.
  // A stub and its channel (null: not looked at); both outlive the client.
  struct Connection {
    v1::WorkflowService::Stub* stub;
    grpc::Channel* channel = nullptr;
  };
  // The streams open on `connections` in turn (at least one), skipping one whose channel
  // is failing (waiting to connect again) when another is not.
  WorkerStreamClient(std::vector<Connection> connections, std::function<void(grpc::ClientContext&)> prepare,
                     Duration look_after = std::chrono::milliseconds(50),
                     Duration close_after = std::chrono::minutes(5));
  WorkerStreamClient(v1::WorkflowService::Stub& stub, std::function<void(grpc::ClientContext&)> prepare,
                     Duration look_after = std::chrono::milliseconds(50),
                     Duration close_after = std::chrono::minutes(5))
      : WorkerStreamClient(std::vector<Connection>{{&stub}}, std::move(prepare), look_after, close_after) {}
  ~WorkerStreamClient();  // ends the idle streams; no call may be under way

  // Sends `request` and waits up to `timeout` for its answer. `sent` says whether keeld
  // may have processed it; one it certainly did not may be made again by other means. A
  // poll names its worker's `identity` (CancelPolls); a completion passes "".
  Result<v1::WorkerStreamResponse> Call(const v1::WorkerStreamRequest& request, Duration timeout, bool* sent,
                                        const std::string& identity = "");

  // Opens streams until the pool holds `n` (a worker: one per thread that makes calls),
  // so that the first calls do not each open one; a second hint opens only what the pool
  // lacks. Does not wait for them: a call that takes one not yet started waits for its
  // start, as for a stream it opens itself.
  void Prepare(size_t n);

  // For tests: the streams in the pool, and opened so far; waits until each pooled one has
  // ended (keeld ended it), false if `deadline` came first.
  size_t idle_streams() const;
  size_t opened_streams() const;
  bool AwaitIdleEnds(Time deadline);

  // Ends the polls of `identity` under way, now and later (a worker shutting down, when
  // keeld may not be reachable to end them itself). They fail with CANCELLED.
  void CancelPolls(const std::string& identity);

 private:
  struct Stream;
  std::unique_ptr<Stream> Open();
  v1::WorkflowService::Stub& NextStub();  // where the next stream opens
  // An idle stream that is still open, dropping those that ended while idle; or null.
  std::unique_ptr<Stream> TakeIdle(Time now);
  // Back to the pool after an answer; closes the least recently used if idle too long.
  void Pool(std::unique_ptr<Stream> stream);
  // Ends the stream and takes every completion from its queue; `cancel` first when it
  // may still be open (else it is cancelled when its end has not come by `give_up`).
  // Returns its status, and whether keeld marked its last message unprocessed.
  struct Ended {
    grpc::Status status;
    bool unprocessed = false;
  };
  static constexpr Duration kCloseWait = std::chrono::seconds(5);
  static Ended Close(std::unique_ptr<Stream> stream, bool cancel);
  static Ended Close(std::unique_ptr<Stream> stream, bool cancel, Time give_up);

  const std::vector<Connection> connections_;
  std::function<void(grpc::ClientContext&)> prepare_;
  const Duration look_after_;
  const Duration close_after_;
  mutable std::mutex mu_;
  std::vector<std::unique_ptr<Stream>> idle_;  // the most recently used last
  std::multimap<std::string, Stream*> polls_;  // polls under way, by identity
  size_t opened_ = 0;
  size_t next_connection_ = 0;
  std::set<std::string> cancelled_;            // identities given to CancelPolls
};

}  // namespace keel::remote
