// The worker's side of WorkerStream (keel.v1.WorkflowService.WorkerStream): a pool of
// open streams, each carrying one call at a time, driven by the calling thread on the
// stream's own completion queue (as a synchronous gRPC call is). A caller takes an idle
// stream, or opens one; a stream that fails or runs out of time is dropped. Thread-safe.
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "engine/clock.h"
#include "engine/status.h"
#include "keel/v1/workflow_service.grpc.pb.h"

namespace keel::remote {

class WorkerStreamClient {
 public:
  // `prepare` adds a new stream's metadata (the token).
  WorkerStreamClient(v1::WorkflowService::Stub& stub, std::function<void(grpc::ClientContext&)> prepare);
  ~WorkerStreamClient();  // ends the idle streams; no call may be under way

  // Sends `request` and waits up to `timeout` for its answer. `sent` says whether it
  // reached the stream: one that did not may be made again by other means.
  Result<v1::WorkerStreamResponse> Call(const v1::WorkerStreamRequest& request, Duration timeout, bool* sent);

 private:
  struct Stream;
  std::unique_ptr<Stream> Open();
  static void Drop(std::unique_ptr<Stream> stream);

  v1::WorkflowService::Stub& stub_;
  std::function<void(grpc::ClientContext&)> prepare_;
  std::mutex mu_;
  std::vector<std::unique_ptr<Stream>> idle_;
};

}  // namespace keel::remote
