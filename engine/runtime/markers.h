// Markers: how SideEffect and Patched record their outcome in the history (a
// MarkerRecorded event with named details), built and read in one place.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "engine/payload.h"
#include "keel/v1/command.pb.h"
#include "keel/v1/history.pb.h"

namespace keel::internal {

inline constexpr char kSideEffectMarker[] = "SideEffect";  // details: id (sequence), data
inline constexpr char kPatchMarker[] = "Version";           // details: patch_id, deprecated

v1::Command SideEffectMarker(int64_t seq, const Payloads& value);
v1::Command PatchMarker(const std::string& change_id, bool deprecated);

std::optional<int64_t> SideEffectSeq(const v1::MarkerRecordedEventAttributes& m);
Payloads SideEffectValue(const v1::MarkerRecordedEventAttributes& m);
std::optional<std::string> PatchId(const v1::MarkerRecordedEventAttributes& m);

bool IsPatchMarker(const v1::HistoryEvent& e);
bool IsDeprecatedPatchMarker(const v1::Command& c);

}  // namespace keel::internal
