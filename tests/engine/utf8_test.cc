// engine/utf8.h: which byte strings are well-formed UTF-8, and how others are repaired.
#include "engine/utf8.h"

#include <gtest/gtest.h>

#include <string>

namespace keel {
namespace {

TEST(Utf8Test, AcceptsWellFormedText) {
  EXPECT_TRUE(IsValidUtf8(""));
  EXPECT_TRUE(IsValidUtf8("plain ascii"));
  EXPECT_TRUE(IsValidUtf8("caf\xc3\xa9"));                  // U+00E9
  EXPECT_TRUE(IsValidUtf8("\xe4\xb8\xad"));                 // U+4E2D
  EXPECT_TRUE(IsValidUtf8("\xf0\x9f\x98\x80"));             // U+1F600
  EXPECT_TRUE(IsValidUtf8("\xf4\x8f\xbf\xbf"));             // U+10FFFF, the last
  EXPECT_TRUE(IsValidUtf8(std::string("nul\0inside", 10)));  // NUL is a character
}

TEST(Utf8Test, RejectsMalformedText) {
  EXPECT_FALSE(IsValidUtf8("caf\xe9"));              // Latin-1
  EXPECT_FALSE(IsValidUtf8("\x80"));                 // a lone continuation byte
  EXPECT_FALSE(IsValidUtf8("\xe4\xb8"));             // cut short
  EXPECT_FALSE(IsValidUtf8("\xc0\xaf"));             // overlong '/'
  EXPECT_FALSE(IsValidUtf8("\xe0\x80\xaf"));         // overlong, three bytes
  EXPECT_FALSE(IsValidUtf8("\xed\xa0\x80"));         // a surrogate
  EXPECT_FALSE(IsValidUtf8("\xf4\x90\x80\x80"));     // above U+10FFFF
  EXPECT_FALSE(IsValidUtf8("\xff"));
}

TEST(Utf8Test, RepairReplacesEachBadByteAndKeepsTheRest) {
  EXPECT_EQ(ToValidUtf8("caf\xc3\xa9"), "caf\xc3\xa9");
  EXPECT_EQ(ToValidUtf8("caf\xe9!"), "caf\xef\xbf\xbd!");
  EXPECT_EQ(ToValidUtf8("\xe4\xb8"), "\xef\xbf\xbd\xef\xbf\xbd");
  EXPECT_EQ(ToValidUtf8("a\xed\xa0\x80z"), "a\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbdz");
  EXPECT_TRUE(IsValidUtf8(ToValidUtf8("\xff\xfe\xf0\x9f\x98")));
}

}  // namespace
}  // namespace keel
