// SqliteStore::Open: a fresh database is stamped as Keel's, and every file it must not use
// (locked, read-only, not SQLite, another application's, from a newer Keel) is refused
// with a message that says why.
#include <fcntl.h>
#include <grp.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include "engine/store/sqlite/db.h"
#include "engine/store/sqlite_store.h"
#include "tests/support/temp_dir.h"

namespace keel::store {
namespace {

using sqlite::Db;

constexpr int64_t kKeelApplicationId = 0x4B45454C;
constexpr uid_t kNobody = 65534;

bool Contains(const Status& status, const std::string& text) {
  return status.message().find(text) != std::string::npos;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

SqliteStoreOptions Options(const std::string& path) {
  SqliteStoreOptions options;
  options.path = path;
  return options;
}

Status OpenAndClose(const std::string& path) {
  Result<std::unique_ptr<SqliteStore>> store = SqliteStore::Open(Options(path));
  return store.status();
}

// Creates a Keel database at `path` holding one committed transition.
void CreateDatabase(const std::string& path) {
  Result<std::unique_ptr<SqliteStore>> store = SqliteStore::Open(Options(path));
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  Transition t;
  t.add_timers.push_back({{1, TimerKind::kUserTimer, 5}, 100});
  ASSERT_TRUE((*store)->Commit(std::move(t)).ok());
}

// Opens `path` where file permissions apply. Root ignores them, so when the tests run as
// root the open happens in a child process that has become user `nobody` first; the
// child reports its Status through a pipe. Sets *skip when privileges cannot be dropped.
Status OpenWithoutPrivileges(const std::string& path, std::string* skip) {
  if (geteuid() != 0) return OpenAndClose(path);
  int fds[2];
  if (pipe(fds) != 0) return Internal("pipe failed");
  pid_t pid = fork();
  if (pid == 0) {
    close(fds[0]);
    std::string report;
    if (setgroups(0, nullptr) != 0 || setgid(kNobody) != 0 || setuid(kNobody) != 0) {
      report = "skip";
    } else {
      Status status = OpenAndClose(path);
      report = std::to_string(static_cast<int>(status.code())) + "\n" + status.message();
    }
    ssize_t ignored = write(fds[1], report.data(), report.size());
    (void)ignored;
    _exit(0);
  }
  close(fds[1]);
  std::string report;
  char buffer[512];
  ssize_t n;
  while ((n = read(fds[0], buffer, sizeof(buffer))) > 0) report.append(buffer, n);
  close(fds[0]);
  int wait_status = 0;
  waitpid(pid, &wait_status, 0);
  if (report == "skip") {
    *skip = "running as root and cannot drop privileges to uid 65534";
    return Status::Ok();
  }
  size_t newline = report.find('\n');
  if (newline == std::string::npos) return Internal("child reported nothing: " + report);
  return Status(static_cast<StatusCode>(std::stoi(report.substr(0, newline))),
                report.substr(newline + 1));
}

// Restores permissions so that TempDir can delete its contents.
class PermissionRestorer {
 public:
  explicit PermissionRestorer(std::string dir) : dir_(std::move(dir)) {}
  ~PermissionRestorer() {
    chmod(dir_.c_str(), 0700);
    for (const auto& entry : std::filesystem::directory_iterator(dir_)) {
      chmod(entry.path().c_str(), 0600);
    }
  }

 private:
  std::string dir_;
};

class SqliteStoreOpenTest : public ::testing::Test {
 protected:
  std::string Path() const { return dir_.File("keel.db"); }
  keel::testing::TempDir dir_;
};

TEST_F(SqliteStoreOpenTest, FreshOpenStampsApplicationIdAndSchemaVersion) {
  ASSERT_TRUE(OpenAndClose(Path()).ok());
  auto db = Db::Open(Path(), Db::Mode::kReadOnly);
  ASSERT_TRUE(db.ok()) << db.status().ToString();
  EXPECT_EQ(*(*db)->QueryInt64("PRAGMA application_id"), kKeelApplicationId);
  EXPECT_EQ(*(*db)->QueryInt64("PRAGMA user_version"), SqliteStore::LatestSchemaVersion());
  EXPECT_GE(SqliteStore::LatestSchemaVersion(), 1);
  EXPECT_EQ(*(*db)->QueryText("PRAGMA journal_mode"), "wal");
}

TEST_F(SqliteStoreOpenTest, ReopenKeepsDataAndVersion) {
  CreateDatabase(Path());
  auto store = SqliteStore::Open(Options(Path()));
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  EXPECT_EQ((*store)->LoadTimers(0, 1000)->size(), 1u);
}

TEST_F(SqliteStoreOpenTest, CreatesMissingDirectories) {
  std::string path = dir_.File("a/b/keel.db");
  auto store = SqliteStore::Open(Options(path));
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  EXPECT_TRUE(std::filesystem::exists(path));
  EXPECT_TRUE(std::filesystem::exists(path + ".lock"));
}

TEST_F(SqliteStoreOpenTest, SecondOpenOfTheSamePathIsRefusedUntilTheFirstCloses) {
  {
    auto first = SqliteStore::Open(Options(Path()));
    ASSERT_TRUE(first.ok()) << first.status().ToString();

    auto second = SqliteStore::Open(Options(Path()));
    ASSERT_FALSE(second.ok());
    EXPECT_EQ(second.status().code(), StatusCode::kFailedPrecondition);
    EXPECT_TRUE(Contains(second.status(), "database " + Path() +
                                              " is in use by another Keel process (lock file " +
                                              Path() + ".lock)"))
        << second.status().ToString();
  }
  EXPECT_TRUE(OpenAndClose(Path()).ok());
}

TEST_F(SqliteStoreOpenTest, ReadOnlyFileIsRefused) {
  CreateDatabase(Path());
  PermissionRestorer restore(dir_.path());
  ASSERT_EQ(chmod(Path().c_str(), 0444), 0);
  ASSERT_EQ(chmod(dir_.path().c_str(), 0555), 0);  // and no WAL may be created beside it

  std::string skip;
  Status status = OpenWithoutPrivileges(Path(), &skip);
  if (!skip.empty()) GTEST_SKIP() << skip;
  EXPECT_EQ(status.code(), StatusCode::kFailedPrecondition) << status.ToString();
  EXPECT_TRUE(Contains(status, "database " + Path() + " is read-only")) << status.ToString();
}

TEST_F(SqliteStoreOpenTest, ReadOnlyDirectoryIsRefused) {
  CreateDatabase(Path());
  PermissionRestorer restore(dir_.path());
  // The file itself stays writable by whoever opens it; only its directory (where the WAL
  // must be created) is read-only.
  if (geteuid() == 0) {
    ASSERT_EQ(chown(Path().c_str(), kNobody, kNobody), 0);
  }
  ASSERT_EQ(chmod(Path().c_str(), 0644), 0);
  ASSERT_EQ(chmod(dir_.path().c_str(), 0555), 0);

  std::string skip;
  Status status = OpenWithoutPrivileges(Path(), &skip);
  if (!skip.empty()) GTEST_SKIP() << skip;
  EXPECT_EQ(status.code(), StatusCode::kFailedPrecondition) << status.ToString();
  EXPECT_TRUE(Contains(status, "database " + Path() + " is read-only")) << status.ToString();
}

TEST_F(SqliteStoreOpenTest, GarbageFileIsDataLossAndLeftUntouched) {
  std::string garbage;
  for (int i = 0; i < 512; ++i) garbage += "not a database! ";
  {
    std::ofstream out(Path(), std::ios::binary);
    out << garbage;
  }
  Status status = OpenAndClose(Path());
  EXPECT_EQ(status.code(), StatusCode::kDataLoss) << status.ToString();
  EXPECT_TRUE(Contains(status, Path() + " is not a Keel database or is corrupt: "))
      << status.ToString();
  EXPECT_EQ(ReadFile(Path()), garbage);
}

TEST_F(SqliteStoreOpenTest, DatabaseOfAnotherApplicationIsRefused) {
  {
    auto db = Db::Open(Path(), Db::Mode::kReadWriteCreate);
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    ASSERT_TRUE((*db)->Exec("PRAGMA application_id = 1234; CREATE TABLE notes (text TEXT);").ok());
  }
  Status status = OpenAndClose(Path());
  EXPECT_EQ(status.code(), StatusCode::kFailedPrecondition) << status.ToString();
  EXPECT_TRUE(Contains(status, Path() + " is not a Keel database")) << status.ToString();

  // Left as it was: no Keel tables, no WAL switch.
  auto db = Db::Open(Path(), Db::Mode::kReadOnly);
  ASSERT_TRUE(db.ok());
  EXPECT_EQ(*(*db)->QueryInt64("SELECT count(*) FROM sqlite_master"), 1);
  EXPECT_EQ(*(*db)->QueryText("PRAGMA journal_mode"), "delete");
}

// Another program (not a Keel engine) holds an exclusive SQLite lock on a file not yet in
// WAL mode: after the busy timeout (5 s) the open is refused with a message that says so.
TEST_F(SqliteStoreOpenTest, ADatabaseLockedByAnotherProgramIsRefusedClearly) {
  auto other = Db::Open(Path(), Db::Mode::kReadWriteCreate);
  ASSERT_TRUE(other.ok()) << other.status().ToString();
  ASSERT_TRUE((*other)->Exec("BEGIN EXCLUSIVE").ok());
  Status status = OpenAndClose(Path());
  EXPECT_EQ(status.code(), StatusCode::kUnavailable) << status.ToString();
  EXPECT_TRUE(Contains(status, "database " + Path() + " is locked by another program")) << status.ToString();
  ASSERT_TRUE((*other)->Exec("ROLLBACK").ok());
  other->reset();
  EXPECT_TRUE(OpenAndClose(Path()).ok());
}

TEST_F(SqliteStoreOpenTest, SqliteFileWithTablesButNoApplicationIdIsRefused) {
  {
    auto db = Db::Open(Path(), Db::Mode::kReadWriteCreate);
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    ASSERT_TRUE((*db)->Exec("CREATE TABLE notes (text TEXT);").ok());
  }
  Status status = OpenAndClose(Path());
  EXPECT_EQ(status.code(), StatusCode::kFailedPrecondition) << status.ToString();
  EXPECT_TRUE(Contains(status, "is not a Keel database")) << status.ToString();
}

TEST_F(SqliteStoreOpenTest, EmptyFileBecomesAKeelDatabase) {
  { std::ofstream out(Path()); }
  EXPECT_TRUE(OpenAndClose(Path()).ok());
}

TEST_F(SqliteStoreOpenTest, NewerSchemaVersionIsRefused) {
  CreateDatabase(Path());
  {
    auto db = Db::Open(Path(), Db::Mode::kReadWriteCreate);
    ASSERT_TRUE(db.ok());
    ASSERT_TRUE((*db)->Exec("PRAGMA user_version = 99").ok());
  }
  Status status = OpenAndClose(Path());
  EXPECT_EQ(status.code(), StatusCode::kFailedPrecondition) << status.ToString();
  EXPECT_TRUE(Contains(status, "database " + Path() + " has schema version 99, newer than this build supports (" +
                                   std::to_string(SqliteStore::LatestSchemaVersion()) +
                                   "); use a newer Keel"))
      << status.ToString();
}

TEST_F(SqliteStoreOpenTest, InvalidOptionsAreRefused) {
  EXPECT_EQ(SqliteStore::Open(Options("")).status().code(), StatusCode::kInvalidArgument);
  SqliteStoreOptions no_group = Options(Path());
  no_group.max_group = 0;
  EXPECT_EQ(SqliteStore::Open(no_group).status().code(), StatusCode::kInvalidArgument);
  SqliteStoreOptions no_readers = Options(Path());
  no_readers.read_connections = 0;
  EXPECT_EQ(SqliteStore::Open(no_readers).status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace keel::store
