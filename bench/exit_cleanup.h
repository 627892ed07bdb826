// Exit cleanup for keel-bench: the run's temporary database directory is removed and its
// child processes (keeld, the worker) are killed and reaped also when keel-bench is
// interrupted (SIGINT, SIGTERM, SIGHUP) or aborts. The normal paths clean up with RAII
// (TempDbDir, ChildProcess); this covers the signals. Call from the main thread only.
#pragma once

#include <sys/types.h>

#include <string>

namespace keel::bench {

// The directory and database files (db_path plus -wal, -shm, ...) to remove on a signal.
void ArmDirCleanup(const std::string& dir, const std::string& db_path);
void DisarmDirCleanup();

// A child to SIGKILL and reap on a signal (at most a few at once).
void TrackChild(pid_t pid);
void UntrackChild(pid_t pid);

}  // namespace keel::bench
