// What keeld and the worker agree on for WorkerStream beyond the proto messages.
#pragma once

namespace keel::remote {

// keeld ends a stream with this trailing metadata when the message it was sent last was
// not processed (keeld was stopping): the worker may send it again by other means.
inline constexpr char kUnprocessedKey[] = "keel-unprocessed";

}  // namespace keel::remote
