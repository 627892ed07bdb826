// VfsShim: a SQLite VFS over another one. Each file it opens forwards every call to the
// base VFS's file, except those its FileShim takes over: the calls that touch the file's
// contents. FaultInjection (tests) and WalWriteBatch are such shims.
#pragma once

#include <sqlite3.h>

#include <functional>
#include <memory>
#include <string>

namespace keel::store {

// One open file's shim. The defaults forward to `real`, the base VFS's file.
class FileShim {
 public:
  virtual ~FileShim() = default;
  virtual int Read(sqlite3_file* real, void* buf, int amount, sqlite3_int64 offset);
  virtual int Write(sqlite3_file* real, const void* buf, int amount, sqlite3_int64 offset);
  virtual int Truncate(sqlite3_file* real, sqlite3_int64 size);
  virtual int Sync(sqlite3_file* real, int flags);
  virtual int FileSize(sqlite3_file* real, sqlite3_int64* size);
  virtual int FileControl(sqlite3_file* real, int op, void* arg);
  // Before the real file is closed.
  virtual int BeforeClose(sqlite3_file* real);
};

// Registers the VFS `name` over the VFS `base` (empty: SQLite's default) unless a VFS of
// that name exists; `make` gives each file opened through it its shim, from the open's
// file name (null for a temporary file) and flags (SQLITE_OPEN_WAL, ...). Returns `name`,
// or "" when `base` is unknown.
using MakeFileShim = std::function<std::unique_ptr<FileShim>(sqlite3_filename name, int open_flags)>;
std::string RegisterVfsShim(const std::string& name, const std::string& base, MakeFileShim make);

}  // namespace keel::store
