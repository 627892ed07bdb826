// The one table between Keel's StatusCode and gRPC's status codes (same numbers for the
// codes they share; kNondeterminism travels as FAILED_PRECONDITION).
#pragma once

#include <grpcpp/support/status.h>

#include "engine/status.h"

namespace keel::remote {

grpc::Status ToGrpc(const Status& status);
Status FromGrpc(const grpc::Status& status);

}  // namespace keel::remote
