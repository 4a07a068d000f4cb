#include "report/time_window.h"

#include <gtest/gtest.h>

#include <string>

#include "dst_transitions.h"
#include "scoped_env.h"

namespace mailrelay::report {
namespace {

constexpr std::int64_t kNow = 1795348045;  // 2026-11-22T11:47:25Z

std::int64_t Parse(const char* text) {
  auto r = ParseTimePoint(text, kNow);
  EXPECT_TRUE(r.ok()) << text << ": " << r.status().message();
  return r.ok() ? *r : -1;
}

TEST(ReportTimeWindow, LocalFormsInUtc) {
  ScopedEnv tz("TZ", "UTC");
  EXPECT_EQ(1795334400, Parse("2026-11-22 08:00:00"));
  EXPECT_EQ(1795334400, Parse("2026-11-22T08:00:00"));
  EXPECT_EQ(1795334400, Parse("2026-11-22 08:00"));
  EXPECT_EQ(1795334400, Parse("2026-11-22 08:00:00.999"));
  EXPECT_EQ(1795305600, Parse("2026-11-22"));
}

TEST(ReportTimeWindow, LocalTimeFollowsTz) {
  ScopedEnv tz("TZ", "Europe/Berlin");  // CET in November: UTC+1
  EXPECT_EQ(1795334400 - 3600, Parse("2026-11-22 08:00:00"));
  // Summer: CEST, UTC+2.
  EXPECT_EQ(1781942400 - 7200, Parse("2026-06-20 08:00:00"));
}

TEST(ReportTimeWindow, ExplicitZonesIgnoreTz) {
  ScopedEnv tz("TZ", "America/New_York");
  EXPECT_EQ(1795334400, Parse("2026-11-22T08:00:00Z"));
  EXPECT_EQ(1795334400, Parse("2026-11-22T09:00:00+01:00"));
  EXPECT_EQ(1795334400, Parse("2026-11-22T09:00:00+0100"));
  EXPECT_EQ(1795334400, Parse("2026-11-22 09:00:00 +0100"));
  EXPECT_EQ(1795334400, Parse("2026-11-22 06:30:00 -0130"));
  EXPECT_EQ(1795334400, Parse("2026-11-22T08:00:00.5Z"));
}

TEST(ReportTimeWindow, RelativeDurations) {
  EXPECT_EQ(kNow, Parse("now"));
  EXPECT_EQ(kNow - 7200, Parse("2h"));
  EXPECT_EQ(kNow - 7200, Parse("-2h"));
  EXPECT_EQ(kNow - 5400, Parse("1h30m"));
  EXPECT_EQ(kNow - 45, Parse("45s"));
  EXPECT_EQ(kNow - 2 * 86400, Parse("2d"));
  EXPECT_EQ(kNow - 7 * 86400, Parse("1w"));
}

TEST(ReportTimeWindow, Rejects) {
  for (const char* bad :
       {"", "2", "2x", "h", "0h", "yesterday", "2026-13-01", "2026-02-30 10:00:00",
        "2026-11-22 25:00:00", "2026-11-22 10:61", "2026-11-22 10:00:00 CET", "2026-11-22X10:00",
        "2026-11-22T10:00:00+25:00", "20261122", "1h30"}) {
    auto r = ParseTimePoint(bad, kNow);
    EXPECT_FALSE(r.ok()) << "'" << bad << "' parsed as " << (r.ok() ? *r : 0);
    if (!r.ok()) {
      EXPECT_FALSE(r.status().message().empty());
    }
  }
  EXPECT_TRUE(ParseTimePoint("2028-02-29", kNow).ok());   // leap year
  EXPECT_FALSE(ParseTimePoint("2027-02-29", kNow).ok());  // not one
}

TEST(ReportTimeWindow, Defaults) {
  auto w = ResolveWindow("", "", kNow);
  ASSERT_TRUE(w.ok()) << w.status().message();
  EXPECT_EQ(kNow - 3600, w->since);
  EXPECT_EQ(kNow, w->until);

  ScopedEnv tz("TZ", "UTC");
  w = ResolveWindow("", "2026-11-22 08:00:00", kNow);
  ASSERT_TRUE(w.ok());
  EXPECT_EQ(1795334400 - 3600, w->since);  // an hour before --until, not before now
  EXPECT_EQ(1795334400, w->until);

  w = ResolveWindow("6h", "", kNow);
  ASSERT_TRUE(w.ok());
  EXPECT_EQ(kNow - 6 * 3600, w->since);
}

TEST(ReportTimeWindow, HalfOpen) {
  TimeWindow w{100, 200};
  EXPECT_FALSE(w.Contains(99));
  EXPECT_TRUE(w.Contains(100));
  EXPECT_TRUE(w.Contains(199));
  EXPECT_FALSE(w.Contains(200));
}

TEST(ReportTimeWindow, EmptyOrInvertedIsAnError) {
  ScopedEnv tz("TZ", "UTC");
  auto w = ResolveWindow("2026-11-22 10:00:00", "2026-11-22 10:00:00", kNow);
  ASSERT_FALSE(w.ok());
  EXPECT_NE(std::string::npos, w.status().message().find("empty window"));
  EXPECT_FALSE(ResolveWindow("1h", "2h", kNow).ok());
  EXPECT_NE(std::string::npos, ResolveWindow("bogus", "", kNow).status().message().find("--since"));
  EXPECT_NE(std::string::npos, ResolveWindow("", "bogus", kNow).status().message().find("--until"));
}

TEST(ReportTimeWindow, Formatting) {
  {
    ScopedEnv tz("TZ", "UTC");
    EXPECT_EQ("2026-11-22 11:47:25 +0000", FormatLocalTime(kNow));
    EXPECT_EQ("2026-11-22 11:47:25", FormatLocalTimeShort(kNow));
    EXPECT_EQ("2026-11-22T11:47:25+00:00", FormatRfc3339(kNow));
  }
  {
    ScopedEnv tz("TZ", "America/New_York");
    EXPECT_EQ("2026-11-22 06:47:25 -0500", FormatLocalTime(kNow));
    EXPECT_EQ("2026-11-22T06:47:25-05:00", FormatRfc3339(kNow));
  }
  EXPECT_EQ("1h", FormatDuration(3600));
  EXPECT_EQ("1h30m", FormatDuration(5400));
  EXPECT_EQ("2d", FormatDuration(2 * 86400));
  EXPECT_EQ("45s", FormatDuration(45));
  EXPECT_EQ("0s", FormatDuration(0));
}

TEST(ReportTimeWindow, WallClockEdgesAcrossDstTransitions) {
  struct Case {
    const char* zone;
    const char* since;
    const char* until;
    std::int64_t want_since, want_until;
    const char* shown;  // the window's edges as the report prints them
  };
  const Case cases[] = {
      // The repeated hour: --since at its first occurrence, --until at its second.
      {"Europe/Berlin", "2026-10-25 02:30:00", "2026-10-25 02:45", kBerlinFall - 1800,
       kBerlinFall + 2700, "2026-10-25 02:30:00 +0200 .. 2026-10-25 02:45:00 +0100"},
      {"Europe/Berlin", "2026-10-25 02:00", "2026-10-25 03:00", kBerlinFall - 3600,
       kBerlinFall + 3600, "2026-10-25 02:00:00 +0200 .. 2026-10-25 03:00:00 +0100"},
      // The skipped hour: both edges at the jump.
      {"Europe/Berlin", "2026-03-29 02:30", "2026-03-29 03:30", kBerlinSpring, kBerlinSpring + 1800,
       "2026-03-29 03:00:00 +0200 .. 2026-03-29 03:30:00 +0200"},
      {"Europe/Berlin", "2026-03-29 01:30", "2026-03-29 02:15", kBerlinSpring - 1800, kBerlinSpring,
       "2026-03-29 01:30:00 +0100 .. 2026-03-29 03:00:00 +0200"},
      {"America/New_York", "2026-11-01 01:00", "2026-11-01 01:30", kNewYorkFall - 3600,
       kNewYorkFall + 1800, "2026-11-01 01:00:00 -0400 .. 2026-11-01 01:30:00 -0500"},
      {"America/New_York", "2026-03-08", "2026-03-08 02:30", kNewYorkSpring - 2 * 3600,
       kNewYorkSpring, "2026-03-08 00:00:00 -0500 .. 2026-03-08 03:00:00 -0400"},
      // An explicit offset picks the occurrence itself.
      {"Europe/Berlin", "2026-10-25 02:30:00 +0100", "2026-10-25 03:00", kBerlinFall + 1800,
       kBerlinFall + 3600, "2026-10-25 02:30:00 +0100 .. 2026-10-25 03:00:00 +0100"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(std::string(c.zone) + " " + c.since + " .. " + c.until);
    auto named = TimeZone::Load(c.zone);
    ASSERT_TRUE(named.ok()) << named.status().message();
    // The log's zone named (the exporter in UTC), and the process's own zone.
    for (const char* process_tz : {"UTC", c.zone}) {
      ScopedEnv tz("TZ", process_tz);
      const TimeZone& zone = process_tz == c.zone ? *TimeZone::Local() : **named;
      auto w = ResolveWindow(c.since, c.until, kNow, zone);
      ASSERT_TRUE(w.ok()) << w.status().message();
      EXPECT_EQ(c.want_since, w->since);
      EXPECT_EQ(c.want_until, w->until);
      EXPECT_EQ(c.shown,
                FormatLocalTime(w->since, zone) + " .. " + FormatLocalTime(w->until, zone));
    }
  }
  // A window inside the skipped hour is empty.
  auto berlin = TimeZone::Load("Europe/Berlin");
  ASSERT_TRUE(berlin.ok());
  auto empty = ResolveWindow("2026-03-29 02:10", "2026-03-29 02:50", kNow, **berlin);
  ASSERT_FALSE(empty.ok());
  EXPECT_NE(std::string::npos, empty.status().message().find("empty window"));
}

}  // namespace
}  // namespace mailrelay::report
