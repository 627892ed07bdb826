// Request validation shared by every entry point: ids, names, durations, times, retry
// policies and sizes get a clear INVALID_ARGUMENT before anything is read or written.
// Bounds exist so that no later arithmetic on a value can overflow (times are int64
// nanoseconds, which end in 2262).
#pragma once

#include <google/protobuf/duration.pb.h>
#include <google/protobuf/timestamp.pb.h>

#include <string>

#include "engine/status.h"
#include "keel/v1/common.pb.h"

namespace keel::core {

inline constexpr size_t kMaxIdBytes = 255;
// Free text a caller attaches (a reason, a binary checksum): kept in history, so bounded.
inline constexpr size_t kMaxTextBytes = 4096;
// The longest timeout or interval: 100 years.
inline constexpr int64_t kMaxDurationSeconds = 100LL * 365 * 24 * 3600;
// Timestamps given in requests: from the epoch to the year 2200.
inline constexpr int64_t kMaxTimeSeconds = 7258118400;

// A workflow id, type name, task queue, signal name...: printable, at most 255 bytes;
// empty only when !required.
Status ValidateName(const std::string& value, const char* what, bool required = true);
// Free text of at most kMaxTextBytes.
Status ValidateText(const std::string& value, const char* what);
// Not negative, nanos in [0, 1e9), at most kMaxDurationSeconds. Unset (zero) is valid.
Status ValidateDuration(const google::protobuf::Duration& d, const char* what);
// Between the epoch and kMaxTimeSeconds.
Status ValidateTime(const google::protobuf::Timestamp& t, const char* what);
// Intervals valid (initial at most a year: the default maximum is 100 times it), a
// backoff coefficient of 0 (default) or a finite value >= 1, attempts not negative.
Status ValidateRetryPolicy(const v1::RetryPolicy& p, const char* what);
// A failure reported by a worker: at most `max_bytes`, a sane next_retry_delay, all of
// its text UTF-8.
Status ValidateFailure(const v1::Failure& f, size_t max_bytes, const char* what);
// A memo and search attributes as a start, a continue-as-new or a child carries them:
// names as ValidateName, each map within max_bytes.
Status ValidateMemoAndSearchAttributes(const google::protobuf::Map<std::string, v1::Payload>& memo,
                                       const google::protobuf::Map<std::string, v1::Payload>& search_attributes,
                                       size_t max_bytes);
// A serialized size against a limit ("memo is 3000000 bytes, over the limit of ...").
Status ValidateSize(size_t bytes, size_t max_bytes, const char* what);

}  // namespace keel::core
