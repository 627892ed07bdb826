// keeld's side of WorkerStream: a worker's polls and completions, and a client's starts,
// as messages on an open stream (keel.v1.WorkerStreamRequest), one call at a time per
// stream. Each message is answered by the engine's async call of the same name, so no
// thread waits for it.
#pragma once

#include <mutex>
#include <set>
#include <string>

#include <grpcpp/grpcpp.h>

#include "engine/engine.h"
#include "engine/server/auth.h"
#include "keel/v1/workflow_service.pb.h"

namespace keel::server {

// Raw messages, parsed here: an unparsable one gets INVALID_ARGUMENT and the stream goes on.
using WorkerStreamReactor = grpc::ServerBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer>;

// keeld's open worker streams. Thread-safe.
class WorkerStreams {
 public:
  explicit WorkerStreams(Engine& engine) : engine_(engine) {}

  // Serves one stream opened by `principal` (which outlives the stream), or finishes it
  // at once with `refused` when that is not OK. Each message needs the role of the call
  // of its name; a refused one is answered with PERMISSION_DENIED. The reactor deletes
  // itself when gRPC is done with the call.
  WorkerStreamReactor* Serve(grpc::CallbackServerContext* context, const grpc::Status& refused,
                             const Principal* principal);

  // keeld is stopping: idle streams end now with UNAVAILABLE (gRPC's shutdown would wait
  // its whole grace period for them), busy ones after their answer, new ones at once.
  // Each such end carries the trailing metadata "keel-unprocessed" (kUnprocessedKey):
  // a message the worker sent since its last answer was not processed, and it makes the
  // call again on its own, which waits for keeld to come back.
  void Stop();

  class Stream;

 private:
  friend class Stream;
  Engine& engine_;
  std::mutex mu_;
  std::set<Stream*> open_;
  bool stopping_ = false;
};

}  // namespace keel::server
