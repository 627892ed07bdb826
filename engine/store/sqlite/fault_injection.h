// FaultInjection: a SQLite VFS that wraps the default one and can be armed to fail the
// Nth file write or sync with SQLITE_IOERR, so tests can prove that a failed commit
// reports an error and writes nothing (leveldb's fault-injection Env is the model).
// One process-wide instance; its counters and arming are atomics, safe from any thread.
#pragma once

#include <cstdint>
#include <string>

namespace keel::store {

class FaultInjection {
 public:
  // Registers the VFS (once; later calls are no-ops) and returns its name, to be passed
  // as SqliteStoreOptions::vfs. The VFS behaves exactly like the default until armed.
  static std::string Register();

  // The nth xWrite (or xSync) from now, across every file opened through this VFS,
  // fails with SQLITE_IOERR_WRITE (SQLITE_IOERR_FSYNC) without touching the file; n = 1
  // is the next one. The failure fires once, then the VFS is disarmed for that kind.
  static void ArmWriteFailure(int64_t n);
  static void ArmSyncFailure(int64_t n);
  static void Disarm();

  // Calls seen since Register (failed ones included), and failures injected so far.
  static int64_t writes();
  static int64_t syncs();
  static int64_t injected_failures();
};

}  // namespace keel::store
