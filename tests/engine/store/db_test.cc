// The SQLite wrapper: values round-trip through bind and column getters, statements are
// prepared once per connection, and errors become Statuses that name the database.
#include "engine/store/sqlite/db.h"

#include <gtest/gtest.h>

#include <string>

#include "tests/support/temp_dir.h"

namespace keel::store::sqlite {
namespace {

class DbTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto db = Db::Open(dir_.File("test.db"), Db::Mode::kReadWriteCreate);
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    db_ = std::move(db).value();
    ASSERT_TRUE(db_->Exec("CREATE TABLE t (k INTEGER PRIMARY KEY, s TEXT, b BLOB)").ok());
  }

  keel::testing::TempDir dir_;
  std::unique_ptr<Db> db_;
};

TEST_F(DbTest, ValuesRoundTrip) {
  const std::string blob("a\0b", 3);
  {
    auto insert = db_->Prepare("INSERT INTO t (k, s, b) VALUES (?1, ?2, ?3)");
    ASSERT_TRUE(insert.ok()) << insert.status().ToString();
    ResetGuard reset(*insert);
    (*insert)->BindInt64(1, 1LL << 40).BindText(2, "text").BindBlob(3, blob);
    ASSERT_TRUE((*insert)->Run().ok());
  }
  {
    auto insert = db_->Prepare("INSERT INTO t (k, s, b) VALUES (?1, ?2, ?3)");
    ResetGuard reset(*insert);
    (*insert)->BindInt64(1, 2).BindText(2, "").BindNull(3);
    ASSERT_TRUE((*insert)->Run().ok());
  }
  auto select = db_->Prepare("SELECT k, s, b FROM t ORDER BY k DESC");
  ASSERT_TRUE(select.ok());
  Statement* s = *select;
  ResetGuard reset(s);
  ASSERT_TRUE(*s->Step());
  EXPECT_EQ(s->ColumnInt64(0), 1LL << 40);
  EXPECT_EQ(s->ColumnText(1), "text");
  EXPECT_EQ(s->ColumnBlob(2), blob);
  ASSERT_TRUE(*s->Step());
  EXPECT_EQ(s->ColumnText(1), "");
  EXPECT_FALSE(s->ColumnIsNull(1));  // an empty string is not NULL
  EXPECT_TRUE(s->ColumnIsNull(2));
  EXPECT_FALSE(*s->Step());
}

TEST_F(DbTest, StatementsArePreparedOncePerConnection) {
  auto first = db_->Prepare("SELECT count(*) FROM t");
  auto second = db_->Prepare("SELECT count(*) FROM t");
  ASSERT_TRUE(first.ok() && second.ok());
  EXPECT_EQ(*first, *second);
  EXPECT_EQ(*db_->QueryInt64("SELECT count(*) FROM t"), 0);
}

TEST_F(DbTest, ErrorsNameTheDatabaseAndMapToStatusCodes) {
  ASSERT_TRUE(db_->Exec("INSERT INTO t (k) VALUES (1)").ok());
  Status duplicate = db_->Exec("INSERT INTO t (k) VALUES (1)");
  EXPECT_EQ(duplicate.code(), StatusCode::kAlreadyExists) << duplicate.ToString();
  EXPECT_NE(duplicate.message().find(dir_.File("test.db")), std::string::npos);
  EXPECT_NE(duplicate.message().find("SQLITE_CONSTRAINT"), std::string::npos);

  auto bad = db_->Prepare("SELEC nonsense");
  EXPECT_EQ(bad.status().code(), StatusCode::kInternal);
  EXPECT_NE(bad.status().message().find("syntax error"), std::string::npos)
      << bad.status().ToString();
}

TEST_F(DbTest, BindErrorIsReportedByStep) {
  auto select = db_->Prepare("SELECT ?1");
  ASSERT_TRUE(select.ok());
  ResetGuard reset(*select);
  (*select)->BindInt64(5, 1);  // no such parameter
  Result<bool> row = (*select)->Step();
  EXPECT_FALSE(row.ok());
  EXPECT_NE(row.status().message().find("binding parameter 5"), std::string::npos)
      << row.status().ToString();
}

TEST_F(DbTest, TracksTransactions) {
  EXPECT_FALSE(db_->InTransaction());
  ASSERT_TRUE(db_->Exec("BEGIN").ok());
  EXPECT_TRUE(db_->InTransaction());
  ASSERT_TRUE(db_->Exec("ROLLBACK").ok());
  EXPECT_FALSE(db_->InTransaction());
  EXPECT_FALSE(db_->IsReadOnly());
}

}  // namespace
}  // namespace keel::store::sqlite
