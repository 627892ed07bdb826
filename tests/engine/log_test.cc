// ForLog: outside text cannot forge log lines or flood the log.
#include "engine/log.h"

#include <gtest/gtest.h>

namespace keel {
namespace {

TEST(LogTest, ForLogEscapesControlCharacters) {
  EXPECT_EQ(ForLog("boom\n2026-01-01 info fake line\r\t\x01"),
            "boom\\n2026-01-01 info fake line\\r\\t\\x01");
  EXPECT_EQ(ForLog("plain ünïcode"), "plain ünïcode");
}

TEST(LogTest, ForLogCutsLongText) {
  EXPECT_EQ(ForLog(std::string(5000, 'a'), 10), "aaaaaaaaaa...");
  EXPECT_EQ(ForLog("short", 10), "short");
}

}  // namespace
}  // namespace keel
