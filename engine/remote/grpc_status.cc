#include "engine/remote/grpc_status.h"

namespace keel::remote {

grpc::Status ToGrpc(const Status& status) {
  if (status.ok()) return grpc::Status::OK;
  grpc::StatusCode code;
  switch (status.code()) {
    case StatusCode::kNondeterminism: code = grpc::StatusCode::FAILED_PRECONDITION; break;
    default: code = static_cast<grpc::StatusCode>(static_cast<int>(status.code())); break;
  }
  return grpc::Status(code, status.message());
}

Status FromGrpc(const grpc::Status& status) {
  if (status.ok()) return Status::Ok();
  int code = static_cast<int>(status.error_code());
  if (code < 0 || code > static_cast<int>(StatusCode::kUnauthenticated)) code = static_cast<int>(StatusCode::kUnknown);
  return Status(static_cast<StatusCode>(code), status.error_message());
}

}  // namespace keel::remote
