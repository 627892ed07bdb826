// The on-disk schema is a frozen contract: the schema of a freshly migrated database must
// equal tests/golden/schema.sql. A change here means a migration changed the format; if
// that is intended (a new NNNN_*.sql), update the golden file as the failure explains.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include "engine/store/sqlite/db.h"
#include "engine/store/sqlite_store.h"
#include "tests/support/temp_dir.h"

namespace keel::store {
namespace {

using sqlite::Db;
using sqlite::ResetGuard;
using sqlite::Statement;

const std::string kGoldenPath = std::string(KEEL_SOURCE_DIR) + "/tests/golden/schema.sql";

std::string HexId(int64_t id) {
  std::ostringstream out;
  out << "0x" << std::hex << std::uppercase << id;
  return out.str();
}

// The schema as SQL text: the identifying pragmas, then every object of sqlite_master.
Result<std::string> DumpSchema(Db& db) {
  std::string dump =
      "-- The schema of a freshly migrated Keel database, checked by\n"
      "-- tests/engine/store/schema_golden_test.cc. Do not edit by hand.\n";
  KEEL_ASSIGN_OR_RETURN(int64_t application_id, db.QueryInt64("PRAGMA application_id"));
  KEEL_ASSIGN_OR_RETURN(int64_t user_version, db.QueryInt64("PRAGMA user_version"));
  dump += "PRAGMA application_id = " + std::to_string(application_id) + ";  -- " +
          HexId(application_id) + "\n";
  dump += "PRAGMA user_version = " + std::to_string(user_version) + ";\n";
  KEEL_ASSIGN_OR_RETURN(Statement * s,
                        db.Prepare("SELECT type, name, tbl_name, sql FROM sqlite_master"
                                   " ORDER BY type, name"));
  ResetGuard reset(s);
  while (true) {
    KEEL_ASSIGN_OR_RETURN(bool row, s->Step());
    if (!row) break;
    dump += "\n-- " + std::string(s->ColumnText(0)) + " " + std::string(s->ColumnText(1)) + " on " +
            std::string(s->ColumnText(2)) + "\n";
    if (s->ColumnIsNull(3)) {
      dump += "-- (created automatically, no SQL)\n";
    } else {
      dump += std::string(s->ColumnText(3)) + ";\n";
    }
  }
  return dump;
}

TEST(SchemaGoldenTest, FreshDatabaseMatchesGoldenSchema) {
  keel::testing::TempDir dir;
  std::string path = dir.File("keel.db");
  {
    SqliteStoreOptions options;
    options.path = path;
    auto store = SqliteStore::Open(options);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
  }
  auto db = Db::Open(path, Db::Mode::kReadOnly);
  ASSERT_TRUE(db.ok()) << db.status().ToString();
  Result<std::string> actual = DumpSchema(**db);
  ASSERT_TRUE(actual.ok()) << actual.status().ToString();

  if (std::getenv("KEEL_UPDATE_GOLDEN") != nullptr) {
    std::ofstream(kGoldenPath, std::ios::binary) << *actual;
    GTEST_SKIP() << "wrote " << kGoldenPath;
  }
  std::ifstream in(kGoldenPath, std::ios::binary);
  ASSERT_TRUE(in.good()) << "cannot read " << kGoldenPath;
  std::string golden((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(*actual, golden)
      << "The schema of a freshly migrated database differs from " << kGoldenPath << ".\n"
      << "Landed migrations must never change; a new migration must update the golden file.\n"
      << "If the change is intended, rerun this test with KEEL_UPDATE_GOLDEN=1 (or copy the\n"
      << "dump below into the file) and commit it with the migration.\n"
      << "---- actual schema ----\n"
      << *actual << "---- end ----";
}

}  // namespace
}  // namespace keel::store
