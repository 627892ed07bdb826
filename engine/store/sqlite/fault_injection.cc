#include "engine/store/sqlite/fault_injection.h"

#include <sqlite3.h>

#include <atomic>
#include <memory>

#include "engine/store/sqlite/vfs_shim.h"

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

// Every file's writes and syncs count down towards the armed failure.
class FaultShim final : public FileShim {
 public:
  int Write(sqlite3_file* real, const void* buf, int amount, sqlite3_int64 offset) override {
    write_count.fetch_add(1);
    if (ShouldFail(write_countdown)) return SQLITE_IOERR_WRITE;
    return FileShim::Write(real, buf, amount, offset);
  }
  int Sync(sqlite3_file* real, int flags) override {
    sync_count.fetch_add(1);
    if (ShouldFail(sync_countdown)) return SQLITE_IOERR_FSYNC;
    return FileShim::Sync(real, flags);
  }
};

}  // namespace

std::string FaultInjection::Register() {
  return RegisterVfsShim(kVfsName, "", [](sqlite3_filename, int) { return std::make_unique<FaultShim>(); });
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
