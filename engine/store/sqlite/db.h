// Db and Statement: a thin RAII wrapper over one sqlite3 connection and its prepared
// statements; the only code in Keel that includes <sqlite3.h>. SQLite errors become
// keel::Status values that name the database path. A Db and its Statements are not
// thread-safe (connections are opened NOMUTEX): one thread uses a connection at a time.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

#include "engine/status.h"

struct sqlite3;
struct sqlite3_stmt;

namespace keel::store::sqlite {

class Db;

// One prepared statement, owned by the Db that prepared it. Bind errors are remembered
// and reported by the next Step/Run, so binding reads as a plain sequence of calls.
class Statement {
 public:
  Statement(Db* db, sqlite3_stmt* stmt, std::string sql);
  ~Statement();
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  // Parameters are 1-based, as in SQLite. Text and blobs are not copied: they must stay
  // alive until the statement is reset.
  Statement& BindInt64(int index, int64_t value);
  Statement& BindText(int index, std::string_view value);
  Statement& BindBlob(int index, std::string_view value);
  Statement& BindNull(int index);

  // true: a row is available through the Column* getters; false: done.
  Result<bool> Step();
  // Steps to completion, ignoring any rows.
  Status Run();

  // Columns are 0-based. Views stay valid until the next Step or Reset.
  int64_t ColumnInt64(int index) const;
  std::string_view ColumnText(int index) const;
  std::string_view ColumnBlob(int index) const;
  bool ColumnIsNull(int index) const;

  // Rewinds and clears the bindings. A statement left mid-query pins its connection's
  // read snapshot, which keeps the WAL from being checkpointed, so reset after every use.
  void Reset();

  const std::string& sql() const { return sql_; }

 private:
  void NoteBindError(int rc, int index);

  Db* db_;
  sqlite3_stmt* stmt_;
  std::string sql_;
  int bind_error_ = 0;  // the first failing sqlite3_bind_* result code, 0 if none
  int bind_error_index_ = 0;
};

// Resets a statement when it goes out of scope (see Statement::Reset for why).
class ResetGuard {
 public:
  explicit ResetGuard(Statement* statement) : statement_(statement) {}
  ~ResetGuard() { statement_->Reset(); }
  ResetGuard(const ResetGuard&) = delete;
  ResetGuard& operator=(const ResetGuard&) = delete;

 private:
  Statement* statement_;
};

class Db {
 public:
  enum class Mode { kReadWriteCreate, kReadOnly };

  // `vfs` empty = SQLite's default VFS.
  static Result<std::unique_ptr<Db>> Open(const std::string& path, Mode mode,
                                          const std::string& vfs = "");
  ~Db();
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;

  // Runs one or more statements that need no parameters (pragmas, BEGIN, migrations).
  Status Exec(std::string_view sql);
  // The first column of the first row of `sql`, as text ("" when there is no row).
  Result<std::string> QueryText(std::string_view sql);
  // The first column of the first row of `sql`, as an integer (0 when there is no row).
  Result<int64_t> QueryInt64(std::string_view sql);

  // A statement prepared once per connection and cached by its SQL text.
  Result<Statement*> Prepare(std::string_view sql);

  // Rows changed by the last INSERT, UPDATE or DELETE on this connection.
  int Changes() const;
  // True when SQLite opened the file read-only (e.g. it is write-protected).
  bool IsReadOnly() const;
  // True while a transaction is open (SQLite rolls back by itself on some I/O errors).
  bool InTransaction() const;

  // SQLite's message for the last failed call on this connection ("file is not a
  // database"), for errors that the caller rewords.
  std::string LastErrorMessage() const;

  // A Status for SQLite result code `rc` (extended codes are on), saying what failed and
  // on which database, with SQLite's message.
  Status Error(int rc, std::string_view what) const;

  const std::string& path() const { return path_; }

 private:
  Db(sqlite3* db, std::string path);

  // Transparent hashing: Prepare looks up by string_view without building a string.
  struct SqlHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>()(s); }
  };

  sqlite3* db_;
  std::string path_;
  std::unordered_map<std::string, std::unique_ptr<Statement>, SqlHash, std::equal_to<>> statements_;
};

// The primary result code's symbolic name ("SQLITE_IOERR_WRITE") for an extended code.
std::string_view ResultCodeName(int rc);

}  // namespace keel::store::sqlite
