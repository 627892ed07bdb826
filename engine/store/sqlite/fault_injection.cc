#include "engine/store/sqlite/fault_injection.h"

#include <sqlite3.h>

#include <atomic>
#include <mutex>

namespace keel::store {
namespace {

constexpr char kVfsName[] = "keel-fault-injection";

// Countdown to the next injected failure; 0 = disarmed. Decremented by every call of its
// kind, so "the nth call from now" holds even with several files in use.
std::atomic<int64_t> write_countdown{0};
std::atomic<int64_t> sync_countdown{0};
std::atomic<int64_t> write_count{0};
std::atomic<int64_t> sync_count{0};
std::atomic<int64_t> failure_count{0};

// True when this call is the armed one. fetch_sub on a disarmed (0) counter would make it
// negative, so only decrement while positive.
bool ShouldFail(std::atomic<int64_t>& countdown) {
  int64_t current = countdown.load();
  while (current > 0) {
    if (countdown.compare_exchange_weak(current, current - 1)) {
      if (current == 1) {
        failure_count.fetch_add(1);
        return true;
      }
      return false;
    }
  }
  return false;
}

sqlite3_vfs* BaseVfs(sqlite3_vfs* vfs) { return static_cast<sqlite3_vfs*>(vfs->pAppData); }

// Our sqlite3_file, followed in the same allocation by the base VFS's file.
struct FaultFile {
  sqlite3_file base;
};

sqlite3_file* Real(sqlite3_file* file) {
  return reinterpret_cast<sqlite3_file*>(reinterpret_cast<FaultFile*>(file) + 1);
}

// ---- io methods: forward to the real file, except for armed writes and syncs ----

int FileClose(sqlite3_file* f) { return Real(f)->pMethods->xClose(Real(f)); }
int FileRead(sqlite3_file* f, void* buf, int amount, sqlite3_int64 offset) {
  return Real(f)->pMethods->xRead(Real(f), buf, amount, offset);
}
int FileWrite(sqlite3_file* f, const void* buf, int amount, sqlite3_int64 offset) {
  write_count.fetch_add(1);
  if (ShouldFail(write_countdown)) return SQLITE_IOERR_WRITE;
  return Real(f)->pMethods->xWrite(Real(f), buf, amount, offset);
}
int FileTruncate(sqlite3_file* f, sqlite3_int64 size) {
  return Real(f)->pMethods->xTruncate(Real(f), size);
}
int FileSync(sqlite3_file* f, int flags) {
  sync_count.fetch_add(1);
  if (ShouldFail(sync_countdown)) return SQLITE_IOERR_FSYNC;
  return Real(f)->pMethods->xSync(Real(f), flags);
}
int FileSize(sqlite3_file* f, sqlite3_int64* size) {
  return Real(f)->pMethods->xFileSize(Real(f), size);
}
int FileLock(sqlite3_file* f, int lock) { return Real(f)->pMethods->xLock(Real(f), lock); }
int FileUnlock(sqlite3_file* f, int lock) { return Real(f)->pMethods->xUnlock(Real(f), lock); }
int FileCheckReservedLock(sqlite3_file* f, int* out) {
  return Real(f)->pMethods->xCheckReservedLock(Real(f), out);
}
int FileControl(sqlite3_file* f, int op, void* arg) {
  return Real(f)->pMethods->xFileControl(Real(f), op, arg);
}
int FileSectorSize(sqlite3_file* f) { return Real(f)->pMethods->xSectorSize(Real(f)); }
int FileDeviceCharacteristics(sqlite3_file* f) {
  return Real(f)->pMethods->xDeviceCharacteristics(Real(f));
}
int FileShmMap(sqlite3_file* f, int region, int size, int extend, void volatile** out) {
  const sqlite3_io_methods* m = Real(f)->pMethods;
  if (m->iVersion < 2 || m->xShmMap == nullptr) return SQLITE_IOERR_SHMMAP;
  return m->xShmMap(Real(f), region, size, extend, out);
}
int FileShmLock(sqlite3_file* f, int offset, int n, int flags) {
  return Real(f)->pMethods->xShmLock(Real(f), offset, n, flags);
}
void FileShmBarrier(sqlite3_file* f) { Real(f)->pMethods->xShmBarrier(Real(f)); }
int FileShmUnmap(sqlite3_file* f, int delete_flag) {
  return Real(f)->pMethods->xShmUnmap(Real(f), delete_flag);
}
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

int VfsOpen(sqlite3_vfs* vfs, sqlite3_filename name, sqlite3_file* file, int flags,
            int* out_flags) {
  sqlite3_vfs* base = BaseVfs(vfs);
  int rc = base->xOpen(base, name, Real(file), flags, out_flags);
  // pMethods stays null unless the real open worked, so SQLite will not call xClose.
  file->pMethods = (rc == SQLITE_OK && Real(file)->pMethods != nullptr) ? &kIoMethods : nullptr;
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
void* VfsDlOpen(sqlite3_vfs* vfs, const char* name) {
  return BaseVfs(vfs)->xDlOpen(BaseVfs(vfs), name);
}
void VfsDlError(sqlite3_vfs* vfs, int n, char* out) {
  BaseVfs(vfs)->xDlError(BaseVfs(vfs), n, out);
}
void (*VfsDlSym(sqlite3_vfs* vfs, void* handle, const char* symbol))(void) {
  return BaseVfs(vfs)->xDlSym(BaseVfs(vfs), handle, symbol);
}
void VfsDlClose(sqlite3_vfs* vfs, void* handle) { BaseVfs(vfs)->xDlClose(BaseVfs(vfs), handle); }
int VfsRandomness(sqlite3_vfs* vfs, int n, char* out) {
  return BaseVfs(vfs)->xRandomness(BaseVfs(vfs), n, out);
}
int VfsSleep(sqlite3_vfs* vfs, int micros) { return BaseVfs(vfs)->xSleep(BaseVfs(vfs), micros); }
int VfsCurrentTime(sqlite3_vfs* vfs, double* out) {
  return BaseVfs(vfs)->xCurrentTime(BaseVfs(vfs), out);
}
int VfsGetLastError(sqlite3_vfs* vfs, int n, char* out) {
  return BaseVfs(vfs)->xGetLastError(BaseVfs(vfs), n, out);
}
int VfsCurrentTimeInt64(sqlite3_vfs* vfs, sqlite3_int64* out) {
  return BaseVfs(vfs)->xCurrentTimeInt64(BaseVfs(vfs), out);
}

}  // namespace

std::string FaultInjection::Register() {
  static std::once_flag once;
  std::call_once(once, [] {
    sqlite3_vfs* base = sqlite3_vfs_find(nullptr);
    // Intentionally leaked: SQLite keeps the pointer for the life of the process.
    auto* vfs = new sqlite3_vfs{};
    vfs->iVersion = 2;  // no system-call overrides: tests never replace syscalls
    vfs->szOsFile = static_cast<int>(sizeof(FaultFile)) + base->szOsFile;
    vfs->mxPathname = base->mxPathname;
    vfs->zName = kVfsName;
    vfs->pAppData = base;
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
  });
  return kVfsName;
}

void FaultInjection::ArmWriteFailure(int64_t n) { write_countdown.store(n); }
void FaultInjection::ArmSyncFailure(int64_t n) { sync_countdown.store(n); }
void FaultInjection::Disarm() {
  write_countdown.store(0);
  sync_countdown.store(0);
}

int64_t FaultInjection::writes() { return write_count.load(); }
int64_t FaultInjection::syncs() { return sync_count.load(); }
int64_t FaultInjection::injected_failures() { return failure_count.load(); }

}  // namespace keel::store
