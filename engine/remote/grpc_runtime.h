// Process-wide settings of the gRPC runtime that Keel's gRPC code (keeld's server, the
// remote frontend) applies once, before its first call.
#pragma once

namespace keel {

// Turns off absl::Mutex deadlock detection. Debian builds abseil without NDEBUG, so every
// lock of every gRPC-internal mutex also updated a process-wide lock graph under one
// global lock (~5% of keeld's CPU and contention between its threads). Idempotent and
// thread-safe.
void PrepareGrpcRuntime();

}  // namespace keel
