#include "engine/history/convert.h"

namespace keel {

v1::Payload ToProto(const Payload& p) {
  v1::Payload out;
  for (const auto& [k, v] : p.metadata) (*out.mutable_metadata())[k] = v;
  out.set_data(p.data);
  return out;
}

Payload FromProto(const v1::Payload& p) {
  Payload out;
  for (const auto& [k, v] : p.metadata()) out.metadata[k] = v;
  out.data = p.data();
  return out;
}

v1::Payloads ToProto(const Payloads& p) {
  v1::Payloads out;
  for (const auto& x : p) *out.add_payloads() = ToProto(x);
  return out;
}

Payloads FromProto(const v1::Payloads& p) {
  Payloads out;
  out.reserve(p.payloads_size());
  for (const auto& x : p.payloads()) out.push_back(FromProto(x));
  return out;
}

google::protobuf::Timestamp ToProtoTime(Time t) {
  auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
  google::protobuf::Timestamp out;
  int64_t secs = ns / 1000000000;
  int64_t nanos = ns % 1000000000;
  if (nanos < 0) {
    nanos += 1000000000;
    --secs;
  }
  out.set_seconds(secs);
  out.set_nanos(static_cast<int32_t>(nanos));
  return out;
}

Time FromProtoTime(const google::protobuf::Timestamp& t) {
  return Time(std::chrono::duration_cast<Duration>(std::chrono::seconds(t.seconds()) +
                                                   std::chrono::nanoseconds(t.nanos())));
}

google::protobuf::Duration ToProtoDuration(Duration d) {
  auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(d).count();
  google::protobuf::Duration out;
  out.set_seconds(ns / 1000000000);
  out.set_nanos(static_cast<int32_t>(ns % 1000000000));
  return out;
}

Duration FromProtoDuration(const google::protobuf::Duration& d) {
  return std::chrono::duration_cast<Duration>(std::chrono::seconds(d.seconds()) +
                                              std::chrono::nanoseconds(d.nanos()));
}

}  // namespace keel
