// SqliteStore::Open: the lock file, the identity and version checks, the writer's pragmas
// and the migrations. Every refusal names the path and says what to do (README.md lists
// them).

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <utility>

#include "engine/store/sqlite/db.h"
#include "engine/store/sqlite/lock_file.h"
#include "engine/store/sqlite/migrations.h"
#include "engine/store/sqlite/wal_write_batch.h"
#include "engine/store/sqlite_store.h"

namespace keel::store {
namespace {

using sqlite::Db;

// PRAGMA application_id of every Keel database: 'KEEL' in ASCII.
constexpr int64_t kApplicationId = 0x4B45454C;

// True when the database file, or the directory that must hold its WAL, cannot be
// written by this process. SQLite reports that as CANTOPEN or READONLY depending on the
// moment it notices; this turns both into one clear message.
bool IsReadOnlyPlace(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::exists(path, ec) && access(path.c_str(), W_OK) != 0) return true;
  std::string dir = std::filesystem::path(path).parent_path().string();
  if (dir.empty()) dir = ".";
  return access(dir.c_str(), W_OK) != 0;
}

Status ReadOnlyError(const std::string& path, const Status& cause) {
  std::string message = "database " + path +
                        " is read-only: Keel needs write access to the file and to its"
                        " directory (for the -wal and -shm files)";
  if (!cause.ok()) message += "; " + cause.message();
  return FailedPrecondition(std::move(message));
}

// SQLite reports a read-only file or directory as a FailedPrecondition-class error
// (READONLY, CANTOPEN, PERM) at whichever step first needs to write.
Status Reword(const std::string& path, Status status) {
  if (status.code() == StatusCode::kFailedPrecondition && IsReadOnlyPlace(path)) {
    return ReadOnlyError(path, status);
  }
  // Keel's own engines are kept out by the lock file; SQLite's lock is held by something
  // else (an sqlite3 shell in a transaction, a backup tool) past the busy timeout.
  if (status.code() == StatusCode::kUnavailable &&
      status.message().find("SQLITE_BUSY") != std::string::npos) {
    return Unavailable("database " + path +
                       " is locked by another program (not a Keel engine, which would hold " + path +
                       ".lock); end its transaction or close it, then try again (" + status.message() + ")");
  }
  return status;
}

std::string Hex(int64_t value) {
  char buffer[32];
  std::snprintf(buffer, sizeof(buffer), "0x%llX", static_cast<unsigned long long>(value));
  return buffer;
}

// Refuses files that are not SQLite, are corrupt, belong to another application or come
// from a newer Keel. Only reads: a foreign file must be left untouched.
Status CheckIdentity(Db& db) {
  const std::string& path = db.path();
  Result<int64_t> application_id = db.QueryInt64("PRAGMA application_id");
  if (!application_id.ok()) {
    if (application_id.status().code() == StatusCode::kDataLoss) {
      return DataLoss(path + " is not a Keel database or is corrupt: " + db.LastErrorMessage());
    }
    return Reword(path, application_id.status());
  }
  KEEL_ASSIGN_OR_RETURN(int64_t objects, db.QueryInt64("SELECT count(*) FROM sqlite_master"));
  bool fresh = *application_id == 0 && objects == 0;
  if (*application_id != kApplicationId && !fresh) {
    return FailedPrecondition(path + " is not a Keel database (its application_id is " +
                              Hex(*application_id) + ", Keel's is " + Hex(kApplicationId) +
                              "); pass the path of a Keel database or of a new file");
  }
  KEEL_ASSIGN_OR_RETURN(int64_t version, db.QueryInt64("PRAGMA user_version"));
  if (version > SqliteStore::LatestSchemaVersion()) {
    return FailedPrecondition("database " + db.path() + " has schema version " + std::to_string(version) +
                              ", newer than this build supports (" +
                              std::to_string(SqliteStore::LatestSchemaVersion()) +
                              "); use a newer Keel");
  }
  return Status::Ok();
}

const char* SynchronousPragma(Synchronous synchronous) {
  switch (synchronous) {
    case Synchronous::kOff:
      return "PRAGMA synchronous = OFF";
    case Synchronous::kNormal:
      return "PRAGMA synchronous = NORMAL";
    case Synchronous::kFull:
      return "PRAGMA synchronous = FULL";
  }
  return "PRAGMA synchronous = FULL";
}

}  // namespace

int SqliteStore::LatestSchemaVersion() {
  auto migrations = sqlite::Migrations();
  return migrations.empty() ? 0 : migrations.back().version;
}

Status SqliteStore::ConfigureWriter(Db& db, Synchronous synchronous) {
  // WAL: readers never block the writer, and a commit is one append + one fsync.
  KEEL_ASSIGN_OR_RETURN(std::string mode, db.QueryText("PRAGMA journal_mode = WAL"));
  if (mode != "wal") {
    return FailedPrecondition("cannot switch database " + db.path() +
                              " to WAL mode (journal mode stays '" + mode + "')");
  }
  KEEL_RETURN_IF_ERROR(db.Exec(SynchronousPragma(synchronous)));
  // Keel keeps its own invariants (see README.md); foreign keys would only cost lookups.
  // 16 MiB of page cache keeps the hot index pages of a busy engine in memory.
  return db.Exec(
      "PRAGMA foreign_keys = OFF;"
      "PRAGMA temp_store = MEMORY;"
      "PRAGMA cache_size = -16384;");
}

Status SqliteStore::Migrate(Db& db) {
  KEEL_ASSIGN_OR_RETURN(int64_t version, db.QueryInt64("PRAGMA user_version"));
  int expected = 1;
  for (const sqlite::Migration& migration : sqlite::Migrations()) {
    if (migration.version != expected++) {
      return Internal("migration " + std::string(migration.name) +
                      " is out of sequence: migrations must be numbered 0001, 0002, ...");
    }
    if (migration.version <= version) continue;
    // One transaction per migration, including the version bump: a crash leaves the
    // database at the previous version, never half-migrated.
    Status status = db.Exec("BEGIN IMMEDIATE");
    if (status.ok()) status = db.Exec(migration.sql);
    if (status.ok()) {
      status = db.Exec("PRAGMA user_version = " + std::to_string(migration.version) +
                       "; PRAGMA application_id = " + std::to_string(kApplicationId) + ";");
    }
    if (status.ok()) status = db.Exec("COMMIT");
    if (!status.ok()) {
      if (db.InTransaction()) (void)db.Exec("ROLLBACK");
      return status.WithContext("applying migration " + std::string(migration.name));
    }
  }
  return Status::Ok();
}

Result<std::unique_ptr<SqliteStore>> SqliteStore::Open(SqliteStoreOptions options) {
  if (options.path.empty()) return InvalidArgument("SqliteStoreOptions.path is empty");
  if (options.max_group < 1) return InvalidArgument("SqliteStoreOptions.max_group must be >= 1");
  if (options.read_connections < 1) {
    return InvalidArgument("SqliteStoreOptions.read_connections must be >= 1");
  }
  const std::string& path = options.path;

  std::filesystem::path dir = std::filesystem::path(path).parent_path();
  if (!dir.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) {
      return FailedPrecondition("cannot create directory " + dir.string() + " for database " +
                                path + ": " + ec.message());
    }
  }

  KEEL_ASSIGN_OR_RETURN(std::unique_ptr<sqlite::LockFile> lock, sqlite::LockFile::Acquire(path));

  std::string writer_vfs = options.vfs;
  if (options.synchronous == Synchronous::kFull && options.batch_wal_writes) {
    writer_vfs = WalWriteBatch::Register(options.vfs);
    if (writer_vfs.empty()) return InvalidArgument("no SQLite VFS named '" + options.vfs + "'");
  }
  Result<std::unique_ptr<Db>> opened = Db::Open(path, Db::Mode::kReadWriteCreate, writer_vfs);
  if (!opened.ok()) return Reword(path, opened.status());
  std::unique_ptr<Db> db = std::move(opened).value();
  // SQLite silently falls back to read-only when the OS refuses writes.
  if (db->IsReadOnly()) return ReadOnlyError(path, Status::Ok());

  KEEL_RETURN_IF_ERROR(CheckIdentity(*db));  // rewords its SQLite errors itself
  KEEL_RETURN_IF_ERROR(Reword(path, ConfigureWriter(*db, options.synchronous)));
  KEEL_RETURN_IF_ERROR(Reword(path, Migrate(*db)));

  return std::unique_ptr<SqliteStore>(
      new SqliteStore(std::move(options), std::move(lock), std::move(db)));
}

}  // namespace keel::store
