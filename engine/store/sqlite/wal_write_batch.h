// WalWriteBatch: a VFS that gathers the writes SQLite makes to a WAL file and writes each
// run of consecutive ones with one system call. A commit writes every frame as two
// writes (its 24-byte header, then the page), so a commit of ten pages made twenty
// writes; now it makes one, just before its fsync.
//
// Gathered bytes reach the file before anything could observe them: before any read,
// sync, truncate, size query, file control or close of that file, and before a write
// elsewhere in it. For synchronous=FULL only: other connections learn of new frames only
// after the commit's sync (SQLite syncs the WAL before it publishes the frames in the WAL
// index), whereas with NORMAL or OFF the frames are published with no call this VFS sees.
// Likewise a WAL file without powersafe overwrite (the URI parameter psow=0) is written
// as it comes: SQLite then writes a commit's last bytes after its sync.
#pragma once

#include <cstdint>
#include <string>

namespace keel::store {

class WalWriteBatch {
 public:
  // Registers the VFS over `base` (empty: SQLite's default) once, and returns its name.
  static std::string Register(const std::string& base = "");

  // Writes SQLite made to WAL files through these VFSes, and the writes that reached the
  // files, since the process started (for tests and benchmarks).
  static int64_t writes_gathered();
  static int64_t writes_made();
};

}  // namespace keel::store
