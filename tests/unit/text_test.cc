#include "common/text.h"
#include "common/time_zone.h"

#include <gtest/gtest.h>

namespace mailrelay {
namespace {

TEST(Text, SanitizeLabelValue) {
  EXPECT_EQ("alice@example.com", SanitizeLabelValue("alice@example.com"));
  EXPECT_EQ("a?b", SanitizeLabelValue(std::string_view("a\nb", 3)));
  EXPECT_EQ("?", SanitizeLabelValue("\xff"));
  EXPECT_EQ("\xc3\xa9t\xc3\xa9", SanitizeLabelValue("\xc3\xa9t\xc3\xa9"));  // été stays
  EXPECT_EQ("?(", SanitizeLabelValue("\xc3("));                     // broken 2-byte sequence
  EXPECT_EQ("?", SanitizeLabelValue("\xed\xa0\x80").substr(0, 1));  // surrogate rejected
  EXPECT_EQ("ab", SanitizeLabelValue("abc", 2));
  EXPECT_EQ("a", SanitizeLabelValue("a\xc3\xa9", 2));  // never cut inside a character
  EXPECT_EQ("", SanitizeLabelValue(""));
}

TEST(Text, Durations) {
  double s = 0;
  EXPECT_TRUE(ParseDurationSeconds("2h", &s));
  EXPECT_EQ(7200, s);
  EXPECT_TRUE(ParseDurationSeconds("250ms", &s));
  EXPECT_DOUBLE_EQ(0.25, s);
  EXPECT_TRUE(ParseDurationSeconds("90", &s));
  EXPECT_EQ(90, s);
  EXPECT_FALSE(ParseDurationSeconds("h", &s));
  EXPECT_FALSE(ParseDurationSeconds("5y", &s));
}

TEST(Text, SplitListAndCase) {
  EXPECT_EQ((std::vector<std::string>{"a", "b c", "d"}), SplitList(" a, b c ,,d ", ','));
  EXPECT_TRUE(EqualsIgnoreCase("Example.COM", "example.com"));
  EXPECT_TRUE(ContainsIgnoreCase("Relay Access Denied", "relay access"));
  EXPECT_FALSE(ContainsIgnoreCase("short", "longer needle"));
}

TEST(Text, CivilTimeWithOffsetIsExact) {
  CivilTimeConverter c;
  EXPECT_EQ(0, c.ToUnix(1970, 1, 1, 0, 0, 0, true, 0));
  EXPECT_EQ(1592063720, c.ToUnix(2020, 6, 13, 17, 55, 20, true, 7200));
}

}  // namespace
}  // namespace mailrelay
