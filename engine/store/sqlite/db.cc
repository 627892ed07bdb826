#include "engine/store/sqlite/db.h"

#include <sqlite3.h>

#include <mutex>
#include <utility>

namespace keel::store::sqlite {
namespace {

// SQLITE_STATIC: bound text and blobs are not copied (callers keep them alive until the
// statement is reset), which saves an allocation and a copy per bound value.
const char* NonNullData(std::string_view value) {
  // A null pointer would bind SQL NULL rather than an empty string or blob.
  return value.data() != nullptr ? value.data() : "";
}

// Turns off SQLite's memory statistics, which take a global mutex on every allocation
// (about a third of the writer's CPU time in benchmarks). sqlite3_config only works
// before SQLite initializes; if something in the process initialized it first, the call
// fails harmlessly and the statistics stay on.
void ConfigureSqliteOnce() {
  static std::once_flag once;
  std::call_once(once, [] { sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0); });
}

}  // namespace

std::string_view ResultCodeName(int rc) {
  switch (rc & 0xff) {
    case SQLITE_OK:
      return "SQLITE_OK";
    case SQLITE_ERROR:
      return "SQLITE_ERROR";
    case SQLITE_INTERNAL:
      return "SQLITE_INTERNAL";
    case SQLITE_PERM:
      return "SQLITE_PERM";
    case SQLITE_ABORT:
      return "SQLITE_ABORT";
    case SQLITE_BUSY:
      return "SQLITE_BUSY";
    case SQLITE_LOCKED:
      return "SQLITE_LOCKED";
    case SQLITE_NOMEM:
      return "SQLITE_NOMEM";
    case SQLITE_READONLY:
      return "SQLITE_READONLY";
    case SQLITE_INTERRUPT:
      return "SQLITE_INTERRUPT";
    case SQLITE_IOERR:
      return "SQLITE_IOERR";
    case SQLITE_CORRUPT:
      return "SQLITE_CORRUPT";
    case SQLITE_NOTFOUND:
      return "SQLITE_NOTFOUND";
    case SQLITE_FULL:
      return "SQLITE_FULL";
    case SQLITE_CANTOPEN:
      return "SQLITE_CANTOPEN";
    case SQLITE_PROTOCOL:
      return "SQLITE_PROTOCOL";
    case SQLITE_SCHEMA:
      return "SQLITE_SCHEMA";
    case SQLITE_TOOBIG:
      return "SQLITE_TOOBIG";
    case SQLITE_CONSTRAINT:
      return "SQLITE_CONSTRAINT";
    case SQLITE_MISMATCH:
      return "SQLITE_MISMATCH";
    case SQLITE_MISUSE:
      return "SQLITE_MISUSE";
    case SQLITE_NOLFS:
      return "SQLITE_NOLFS";
    case SQLITE_AUTH:
      return "SQLITE_AUTH";
    case SQLITE_RANGE:
      return "SQLITE_RANGE";
    case SQLITE_NOTADB:
      return "SQLITE_NOTADB";
    case SQLITE_ROW:
      return "SQLITE_ROW";
    case SQLITE_DONE:
      return "SQLITE_DONE";
    default:
      return "SQLITE_UNKNOWN";
  }
}

// ---- Statement ----

Statement::Statement(Db* db, sqlite3_stmt* stmt, std::string sql)
    : db_(db), stmt_(stmt), sql_(std::move(sql)) {}

Statement::~Statement() { sqlite3_finalize(stmt_); }

void Statement::NoteBindError(int rc, int index) {
  if (rc != SQLITE_OK && bind_error_ == 0) {
    bind_error_ = rc;
    bind_error_index_ = index;
  }
}

Statement& Statement::BindInt64(int index, int64_t value) {
  NoteBindError(sqlite3_bind_int64(stmt_, index, value), index);
  return *this;
}

Statement& Statement::BindText(int index, std::string_view value) {
  NoteBindError(sqlite3_bind_text64(stmt_, index, NonNullData(value), value.size(), SQLITE_STATIC,
                                    SQLITE_UTF8),
                index);
  return *this;
}

Statement& Statement::BindBlob(int index, std::string_view value) {
  NoteBindError(sqlite3_bind_blob64(stmt_, index, NonNullData(value), value.size(), SQLITE_STATIC),
                index);
  return *this;
}

Statement& Statement::BindNull(int index) {
  NoteBindError(sqlite3_bind_null(stmt_, index), index);
  return *this;
}

Result<bool> Statement::Step() {
  if (bind_error_ != 0) {
    return db_->Error(bind_error_, "binding parameter " + std::to_string(bind_error_index_) +
                                       " of \"" + sql_ + "\"");
  }
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return db_->Error(rc, "\"" + sql_ + "\"");
}

Status Statement::Run() {
  while (true) {
    KEEL_ASSIGN_OR_RETURN(bool row, Step());
    if (!row) return Status::Ok();
  }
}

int64_t Statement::ColumnInt64(int index) const { return sqlite3_column_int64(stmt_, index); }

std::string_view Statement::ColumnText(int index) const {
  // Ask for the pointer before the size: the pointer call may convert the value.
  const unsigned char* data = sqlite3_column_text(stmt_, index);
  int size = sqlite3_column_bytes(stmt_, index);
  if (data == nullptr) return {};
  return {reinterpret_cast<const char*>(data), static_cast<size_t>(size)};
}

std::string_view Statement::ColumnBlob(int index) const {
  const void* data = sqlite3_column_blob(stmt_, index);
  int size = sqlite3_column_bytes(stmt_, index);
  if (data == nullptr) return {};
  return {static_cast<const char*>(data), static_cast<size_t>(size)};
}

bool Statement::ColumnIsNull(int index) const {
  return sqlite3_column_type(stmt_, index) == SQLITE_NULL;
}

void Statement::Reset() {
  // sqlite3_reset repeats the last step's error, which was already reported.
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
  bind_error_ = 0;
  bind_error_index_ = 0;
}

// ---- Db ----

Db::Db(sqlite3* db, std::string path) : db_(db), path_(std::move(path)) {}

Db::~Db() {
  // Statements must be finalized before the connection closes, or close fails.
  statements_.clear();
  sqlite3_close_v2(db_);
}

Result<std::unique_ptr<Db>> Db::Open(const std::string& path, Mode mode, const std::string& vfs) {
  ConfigureSqliteOnce();
  int flags = SQLITE_OPEN_NOMUTEX;
  flags |=
      mode == Mode::kReadOnly ? SQLITE_OPEN_READONLY : (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
  sqlite3* handle = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &handle, flags, vfs.empty() ? nullptr : vfs.c_str());
  // Even a failed open usually returns a handle, which must be closed; wrapping it first
  // also lets Error() read SQLite's message.
  std::unique_ptr<Db> db(new Db(handle, path));
  if (handle == nullptr) {
    return ResourceExhausted("opening database " + path + ": out of memory");
  }
  if (rc != SQLITE_OK) return db->Error(rc, "opening the database");
  sqlite3_extended_result_codes(handle, 1);
  // Only this process touches the file (the lock file sees to that), but a reader may
  // briefly wait for the writer while it recovers or checkpoints the WAL.
  sqlite3_busy_timeout(handle, 5000);
  return db;
}

Status Db::Exec(std::string_view sql) {
  std::string text(sql);  // sqlite3_exec needs a terminated string
  char* message = nullptr;
  int rc = sqlite3_exec(db_, text.c_str(), nullptr, nullptr, &message);
  sqlite3_free(message);  // Error() reads the same message from the connection
  if (rc != SQLITE_OK) return Error(rc, "\"" + text + "\"");
  return Status::Ok();
}

Result<std::string> Db::QueryText(std::string_view sql) {
  KEEL_ASSIGN_OR_RETURN(Statement * statement, Prepare(sql));
  ResetGuard reset(statement);
  KEEL_ASSIGN_OR_RETURN(bool row, statement->Step());
  if (!row) return std::string();
  return std::string(statement->ColumnText(0));
}

Result<int64_t> Db::QueryInt64(std::string_view sql) {
  KEEL_ASSIGN_OR_RETURN(Statement * statement, Prepare(sql));
  ResetGuard reset(statement);
  KEEL_ASSIGN_OR_RETURN(bool row, statement->Step());
  if (!row) return int64_t{0};
  return statement->ColumnInt64(0);
}

Result<Statement*> Db::Prepare(std::string_view sql) {
  auto it = statements_.find(sql);
  if (it != statements_.end()) return it->second.get();
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()),
                              SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
  if (rc != SQLITE_OK) {
    sqlite3_finalize(stmt);
    return Error(rc, "preparing \"" + std::string(sql) + "\"");
  }
  if (stmt == nullptr) return Internal("preparing an empty statement on " + path_);
  auto statement = std::make_unique<Statement>(this, stmt, std::string(sql));
  Statement* result = statement.get();
  statements_.emplace(std::string(sql), std::move(statement));
  return result;
}

int Db::Changes() const { return sqlite3_changes(db_); }

bool Db::IsReadOnly() const { return sqlite3_db_readonly(db_, "main") == 1; }

bool Db::InTransaction() const { return sqlite3_get_autocommit(db_) == 0; }

std::string Db::LastErrorMessage() const { return sqlite3_errmsg(db_); }

Status Db::Error(int rc, std::string_view what) const {
  std::string message = "sqlite error in " + std::string(what) + " on " + path_ + ": " +
                        (db_ != nullptr ? sqlite3_errmsg(db_) : sqlite3_errstr(rc)) + " (" +
                        std::string(ResultCodeName(rc));
  if ((rc & 0xff) != rc) message += ", extended code " + std::to_string(rc);
  message += ")";
  switch (rc & 0xff) {
    case SQLITE_CONSTRAINT:
      if (rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY) {
        return AlreadyExists(std::move(message));
      }
      return Internal(std::move(message));
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_IOERR:
      return Unavailable(std::move(message));
    case SQLITE_FULL:
    case SQLITE_NOMEM:
      return ResourceExhausted(std::move(message));
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return DataLoss(std::move(message));
    case SQLITE_READONLY:
    case SQLITE_CANTOPEN:
    case SQLITE_PERM:
      return FailedPrecondition(std::move(message));
    default:
      return Internal(std::move(message));
  }
}

}  // namespace keel::store::sqlite
