// Inputs found by the libFuzzer targets of tests/fuzz (run_fuzzers.sh), kept as regression tests
// with the fix they needed.
#include <gtest/gtest.h>

#include <string>

#include "common/text.h"
#include "common/time_zone.h"
#include "mta/exim/log_parser.h"

namespace mailrelay {
namespace {

// exim_log_parser_fuzz: a line dated 3998 overflowed the int cache key of CivilTimeConverter
// (year * 1000000; UBSan: signed integer overflow). Once wrapped, two different hours could share
// a key and the second got the first one's cached time.
TEST(FuzzRegression, FarFutureYearDoesNotOverflowTheTimeCache) {
  CivilTimeConverter fresh;
  std::int64_t expected = fresh.ToUnix(2147, 4, 28, 4, 0, 0, false, 0);
  CivilTimeConverter c;
  // 6442-01-01 00h and 2147-04-28 04h had the same 32-bit key.
  EXPECT_GT(c.ToUnix(6442, 1, 1, 0, 0, 0, false, 0), expected);
  EXPECT_EQ(expected, c.ToUnix(2147, 4, 28, 4, 0, 0, false, 0));

  EximLogParser parser;
  Event ev;
  std::string line = "3998-03-02 09:44:33 10HmaX-000000005vi-0000 Completed";
  EXPECT_NE(ParseStatus::kUnparsed, parser.Parse(line, &ev));
  EXPECT_GT(ev.timestamp, fresh.ToUnix(3998, 3, 2, 0, 0, 0, false, 0));
}

}  // namespace
}  // namespace mailrelay
