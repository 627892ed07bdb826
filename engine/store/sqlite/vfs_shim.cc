#include "engine/store/sqlite/vfs_shim.h"

#include <mutex>

namespace keel::store {

int FileShim::Read(sqlite3_file* real, void* buf, int amount, sqlite3_int64 offset) {
  return real->pMethods->xRead(real, buf, amount, offset);
}
int FileShim::Write(sqlite3_file* real, const void* buf, int amount, sqlite3_int64 offset) {
  return real->pMethods->xWrite(real, buf, amount, offset);
}
int FileShim::Truncate(sqlite3_file* real, sqlite3_int64 size) { return real->pMethods->xTruncate(real, size); }
int FileShim::Sync(sqlite3_file* real, int flags) { return real->pMethods->xSync(real, flags); }
int FileShim::FileSize(sqlite3_file* real, sqlite3_int64* size) { return real->pMethods->xFileSize(real, size); }
int FileShim::FileControl(sqlite3_file* real, int op, void* arg) {
  return real->pMethods->xFileControl(real, op, arg);
}
int FileShim::BeforeClose(sqlite3_file*) { return SQLITE_OK; }

namespace {

// What the VFS's pAppData points to.
struct ShimVfs {
  sqlite3_vfs vfs;
  sqlite3_vfs* base;
  std::string name;
  MakeFileShim make;
};

sqlite3_vfs* BaseVfs(sqlite3_vfs* vfs) { return static_cast<ShimVfs*>(vfs->pAppData)->base; }

// Our sqlite3_file, followed in the same allocation by the base VFS's file.
struct ShimmedFile {
  sqlite3_file base;
  FileShim* shim;
};

sqlite3_file* Real(sqlite3_file* file) {
  return reinterpret_cast<sqlite3_file*>(reinterpret_cast<ShimmedFile*>(file) + 1);
}
FileShim& Shim(sqlite3_file* file) { return *reinterpret_cast<ShimmedFile*>(file)->shim; }

// ---- io methods: the shim's, or forwarded to the real file ----

int FileClose(sqlite3_file* f) {
  int rc = Shim(f).BeforeClose(Real(f));
  int closed = Real(f)->pMethods->xClose(Real(f));
  delete reinterpret_cast<ShimmedFile*>(f)->shim;
  return rc != SQLITE_OK ? rc : closed;
}
int FileRead(sqlite3_file* f, void* buf, int amount, sqlite3_int64 offset) {
  return Shim(f).Read(Real(f), buf, amount, offset);
}
int FileWrite(sqlite3_file* f, const void* buf, int amount, sqlite3_int64 offset) {
  return Shim(f).Write(Real(f), buf, amount, offset);
}
int FileTruncate(sqlite3_file* f, sqlite3_int64 size) { return Shim(f).Truncate(Real(f), size); }
int FileSync(sqlite3_file* f, int flags) { return Shim(f).Sync(Real(f), flags); }
int FileSize(sqlite3_file* f, sqlite3_int64* size) { return Shim(f).FileSize(Real(f), size); }
int FileLock(sqlite3_file* f, int lock) { return Real(f)->pMethods->xLock(Real(f), lock); }
int FileUnlock(sqlite3_file* f, int lock) { return Real(f)->pMethods->xUnlock(Real(f), lock); }
int FileCheckReservedLock(sqlite3_file* f, int* out) {
  return Real(f)->pMethods->xCheckReservedLock(Real(f), out);
}
int FileControl(sqlite3_file* f, int op, void* arg) { return Shim(f).FileControl(Real(f), op, arg); }
int FileSectorSize(sqlite3_file* f) { return Real(f)->pMethods->xSectorSize(Real(f)); }
int FileDeviceCharacteristics(sqlite3_file* f) { return Real(f)->pMethods->xDeviceCharacteristics(Real(f)); }
int FileShmMap(sqlite3_file* f, int region, int size, int extend, void volatile** out) {
  const sqlite3_io_methods* m = Real(f)->pMethods;
  if (m->iVersion < 2 || m->xShmMap == nullptr) return SQLITE_IOERR_SHMMAP;
  return m->xShmMap(Real(f), region, size, extend, out);
}
int FileShmLock(sqlite3_file* f, int offset, int n, int flags) {
  return Real(f)->pMethods->xShmLock(Real(f), offset, n, flags);
}
void FileShmBarrier(sqlite3_file* f) { Real(f)->pMethods->xShmBarrier(Real(f)); }
int FileShmUnmap(sqlite3_file* f, int delete_flag) { return Real(f)->pMethods->xShmUnmap(Real(f), delete_flag); }
int FileFetch(sqlite3_file* f, sqlite3_int64 offset, int amount, void** out) {
  const sqlite3_io_methods* m = Real(f)->pMethods;
  if (m->iVersion < 3 || m->xFetch == nullptr) {
    *out = nullptr;  // "no mapping": SQLite falls back to xRead
    return SQLITE_OK;
  }
  return m->xFetch(Real(f), offset, amount, out);
}
int FileUnfetch(sqlite3_file* f, sqlite3_int64 offset, void* p) {
  const sqlite3_io_methods* m = Real(f)->pMethods;
  if (m->iVersion < 3 || m->xUnfetch == nullptr) return SQLITE_OK;
  return m->xUnfetch(Real(f), offset, p);
}

const sqlite3_io_methods kIoMethods = {
    3,
    FileClose,
    FileRead,
    FileWrite,
    FileTruncate,
    FileSync,
    FileSize,
    FileLock,
    FileUnlock,
    FileCheckReservedLock,
    FileControl,
    FileSectorSize,
    FileDeviceCharacteristics,
    FileShmMap,
    FileShmLock,
    FileShmBarrier,
    FileShmUnmap,
    FileFetch,
    FileUnfetch,
};

// ---- vfs methods: forward to the base VFS (it may read its own pAppData) ----

int VfsOpen(sqlite3_vfs* vfs, sqlite3_filename name, sqlite3_file* file, int flags, int* out_flags) {
  sqlite3_vfs* base = BaseVfs(vfs);
  int rc = base->xOpen(base, name, Real(file), flags, out_flags);
  // pMethods stays null unless the real open worked, so SQLite will not call xClose.
  if (rc != SQLITE_OK || Real(file)->pMethods == nullptr) {
    file->pMethods = nullptr;
    return rc;
  }
  reinterpret_cast<ShimmedFile*>(file)->shim = static_cast<ShimVfs*>(vfs->pAppData)->make(name, flags).release();
  file->pMethods = &kIoMethods;
  return rc;
}
int VfsDelete(sqlite3_vfs* vfs, const char* name, int sync_dir) {
  return BaseVfs(vfs)->xDelete(BaseVfs(vfs), name, sync_dir);
}
int VfsAccess(sqlite3_vfs* vfs, const char* name, int flags, int* out) {
  return BaseVfs(vfs)->xAccess(BaseVfs(vfs), name, flags, out);
}
int VfsFullPathname(sqlite3_vfs* vfs, const char* name, int n, char* out) {
  return BaseVfs(vfs)->xFullPathname(BaseVfs(vfs), name, n, out);
}
void* VfsDlOpen(sqlite3_vfs* vfs, const char* name) { return BaseVfs(vfs)->xDlOpen(BaseVfs(vfs), name); }
void VfsDlError(sqlite3_vfs* vfs, int n, char* out) { BaseVfs(vfs)->xDlError(BaseVfs(vfs), n, out); }
void (*VfsDlSym(sqlite3_vfs* vfs, void* handle, const char* symbol))(void) {
  return BaseVfs(vfs)->xDlSym(BaseVfs(vfs), handle, symbol);
}
void VfsDlClose(sqlite3_vfs* vfs, void* handle) { BaseVfs(vfs)->xDlClose(BaseVfs(vfs), handle); }
int VfsRandomness(sqlite3_vfs* vfs, int n, char* out) { return BaseVfs(vfs)->xRandomness(BaseVfs(vfs), n, out); }
int VfsSleep(sqlite3_vfs* vfs, int micros) { return BaseVfs(vfs)->xSleep(BaseVfs(vfs), micros); }
int VfsCurrentTime(sqlite3_vfs* vfs, double* out) { return BaseVfs(vfs)->xCurrentTime(BaseVfs(vfs), out); }
int VfsGetLastError(sqlite3_vfs* vfs, int n, char* out) {
  return BaseVfs(vfs)->xGetLastError(BaseVfs(vfs), n, out);
}
int VfsCurrentTimeInt64(sqlite3_vfs* vfs, sqlite3_int64* out) {
  return BaseVfs(vfs)->xCurrentTimeInt64(BaseVfs(vfs), out);
}

}  // namespace

std::string RegisterVfsShim(const std::string& name, const std::string& base_name, MakeFileShim make) {
  static std::mutex mu;
  std::lock_guard<std::mutex> g(mu);
  if (sqlite3_vfs_find(name.c_str()) != nullptr) return name;
  sqlite3_vfs* base = sqlite3_vfs_find(base_name.empty() ? nullptr : base_name.c_str());
  if (base == nullptr) return "";
  // Intentionally leaked: SQLite keeps the pointer for the life of the process.
  auto* shim = new ShimVfs{};
  shim->base = base;
  shim->name = name;
  shim->make = std::move(make);
  sqlite3_vfs* vfs = &shim->vfs;
  vfs->iVersion = 2;  // no system-call overrides: nothing here replaces syscalls
  vfs->szOsFile = static_cast<int>(sizeof(ShimmedFile)) + base->szOsFile;
  vfs->mxPathname = base->mxPathname;
  vfs->zName = shim->name.c_str();
  vfs->pAppData = shim;
  vfs->xOpen = VfsOpen;
  vfs->xDelete = VfsDelete;
  vfs->xAccess = VfsAccess;
  vfs->xFullPathname = VfsFullPathname;
  vfs->xDlOpen = VfsDlOpen;
  vfs->xDlError = VfsDlError;
  vfs->xDlSym = VfsDlSym;
  vfs->xDlClose = VfsDlClose;
  vfs->xRandomness = VfsRandomness;
  vfs->xSleep = VfsSleep;
  vfs->xCurrentTime = VfsCurrentTime;
  vfs->xGetLastError = VfsGetLastError;
  vfs->xCurrentTimeInt64 = base->iVersion >= 2 ? VfsCurrentTimeInt64 : nullptr;
  sqlite3_vfs_register(vfs, /*makeDflt=*/0);
  return name;
}

}  // namespace keel::store
