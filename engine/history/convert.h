// Conversions between the keel.v1 protos and Keel's C++ value types (payloads, times,
// durations, failures-free). Used at the edges: runtime, engine, store codec.
#pragma once

#include "engine/clock.h"
#include "engine/payload.h"
#include "google/protobuf/duration.pb.h"
#include "google/protobuf/timestamp.pb.h"
#include "keel/v1/common.pb.h"

namespace keel {

v1::Payload ToProto(const Payload& p);
Payload FromProto(const v1::Payload& p);
v1::Payloads ToProto(const Payloads& p);
Payloads FromProto(const v1::Payloads& p);

google::protobuf::Timestamp ToProtoTime(Time t);
Time FromProtoTime(const google::protobuf::Timestamp& t);
google::protobuf::Duration ToProtoDuration(Duration d);
Duration FromProtoDuration(const google::protobuf::Duration& d);

}  // namespace keel
