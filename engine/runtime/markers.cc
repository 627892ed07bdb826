#include "engine/runtime/markers.h"

#include "engine/history/convert.h"

namespace keel::internal {

v1::Command SideEffectMarker(int64_t seq, const Payloads& value) {
  v1::Command c;
  auto* m = c.mutable_record_marker();
  m->set_marker_name(kSideEffectMarker);
  *(*m->mutable_details())["id"].add_payloads() = ToProto(ToPayload(seq));
  (*m->mutable_details())["data"] = ToProto(value);
  return c;
}

v1::Command PatchMarker(const std::string& change_id, bool deprecated) {
  v1::Command c;
  auto* m = c.mutable_record_marker();
  m->set_marker_name(kPatchMarker);
  *(*m->mutable_details())["patch_id"].add_payloads() = ToProto(ToPayload(change_id));
  *(*m->mutable_details())["deprecated"].add_payloads() = ToProto(ToPayload(deprecated));
  return c;
}

std::optional<int64_t> SideEffectSeq(const v1::MarkerRecordedEventAttributes& m) {
  if (m.marker_name() != kSideEffectMarker) return std::nullopt;
  auto it = m.details().find("id");
  if (it == m.details().end() || it->second.payloads_size() == 0) return std::nullopt;
  return FromPayload<int64_t>(FromProto(it->second.payloads(0)));
}

Payloads SideEffectValue(const v1::MarkerRecordedEventAttributes& m) {
  auto it = m.details().find("data");
  return it == m.details().end() ? Payloads{} : FromProto(it->second);
}

std::optional<std::string> PatchId(const v1::MarkerRecordedEventAttributes& m) {
  if (m.marker_name() != kPatchMarker) return std::nullopt;
  auto it = m.details().find("patch_id");
  if (it == m.details().end() || it->second.payloads_size() == 0) return std::nullopt;
  return FromPayload<std::string>(FromProto(it->second.payloads(0)));
}

bool IsPatchMarker(const v1::HistoryEvent& e) {
  return e.has_marker_recorded() && e.marker_recorded().marker_name() == kPatchMarker;
}

bool IsDeprecatedPatchMarker(const v1::Command& c) {
  if (!c.has_record_marker() || c.record_marker().marker_name() != kPatchMarker) return false;
  auto it = c.record_marker().details().find("deprecated");
  return it != c.record_marker().details().end() && it->second.payloads_size() > 0 &&
         FromPayload<bool>(FromProto(it->second.payloads(0)));
}

}  // namespace keel::internal
