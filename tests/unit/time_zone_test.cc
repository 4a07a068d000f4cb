// common/time_zone: zones read from TZif files against the C library's own reading of the same
// zone (TZ=...), POSIX TZ rules, the DST transitions of Europe/Berlin and America/New_York
// (wall-clock times shown twice or never), zones that cannot be found, and CivilTimeConverter
// across a fall-back and a spring-forward (lines in order, a previous stamp remembered).
#include "common/time_zone.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <ctime>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "dst_transitions.h"
#include "scoped_env.h"
#include "status_matchers.h"

namespace mailrelay {
namespace {

namespace fs = std::filesystem;

std::shared_ptr<const TimeZone> Zone(const char* name) {
  auto zone = TimeZone::Load(name);
  EXPECT_TRUE(IsOk(zone)) << name;
  return zone.ok() ? *zone : TimeZone::Utc();
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

int GlibcOffset(std::int64_t t) {
  auto tt = static_cast<std::time_t>(t);
  std::tm tm{};
  localtime_r(&tt, &tm);
  return static_cast<int>(tm.tm_gmtoff);
}

TEST(TimeZone, TzifFilesAgreeWithTheCLibrary) {
  // Southern hemisphere, half-hour DST (Lord Howe), negative DST in the rule (Dublin: winter
  // is "daylight" time), quarter-hour offsets, zones that dropped DST, and years after the
  // files' last transition (the footer's rule).
  for (const char* name :
       {"Europe/Berlin", "America/New_York", "Australia/Sydney", "Australia/Lord_Howe",
        "Europe/Dublin", "Asia/Kathmandu", "America/Sao_Paulo", "Pacific/Apia", "UTC"}) {
    ScopedEnv tz("TZ", name);
    auto zone = Zone(name);
    int differences = 0;
    // Every 7 hours (all hours of the day in turn) from 1901 to 2099.
    for (std::int64_t t = -2208988800; t < 4102444800 && differences < 5; t += 7 * 3600 + 13) {
      if (zone->UtcOffset(t) != GlibcOffset(t)) {
        ++differences;
        ADD_FAILURE() << name << " at " << t << ": " << zone->UtcOffset(t) << " vs the C library's "
                      << GlibcOffset(t);
      }
    }
  }
}

TEST(TimeZone, TransitionsOfBerlinAndNewYork) {
  struct Case {
    const char* zone;
    int y, mo, d, h, mi;
    int count;
    std::int64_t earlier, later;
  };
  const Case cases[] = {
      // 02:30 on the fall-back night: CEST first (00:30Z), then CET (01:30Z).
      {"Europe/Berlin", 2026, 10, 25, 2, 30, 2, kBerlinFall - 1800, kBerlinFall + 1800},
      {"Europe/Berlin", 2026, 10, 25, 1, 59, 1, kBerlinFall - 3660, kBerlinFall - 3660},
      {"Europe/Berlin", 2026, 10, 25, 3, 0, 1, kBerlinFall + 3600, kBerlinFall + 3600},
      // 02:30 on the spring-forward night does not exist: the jump, and 02:30 read as CET.
      {"Europe/Berlin", 2026, 3, 29, 2, 30, 0, kBerlinSpring, kBerlinSpring + 1800},
      {"Europe/Berlin", 2026, 3, 29, 3, 0, 1, kBerlinSpring, kBerlinSpring},
      {"Europe/Berlin", 2026, 3, 29, 1, 59, 1, kBerlinSpring - 60, kBerlinSpring - 60},
      {"America/New_York", 2026, 11, 1, 1, 30, 2, kNewYorkFall - 1800, kNewYorkFall + 1800},
      {"America/New_York", 2026, 11, 1, 2, 0, 1, kNewYorkFall + 3600, kNewYorkFall + 3600},
      {"America/New_York", 2026, 3, 8, 2, 30, 0, kNewYorkSpring, kNewYorkSpring + 1800},
      {"America/New_York", 2026, 3, 8, 3, 0, 1, kNewYorkSpring, kNewYorkSpring},
  };
  for (const auto& c : cases) {
    std::int64_t wall = CivilSeconds(c.y, c.mo, c.d, c.h, c.mi, 0);
    // The zone read from its file, and the process's zone through the C library.
    ScopedEnv tz("TZ", c.zone);
    for (const auto& zone : {Zone(c.zone), TimeZone::Local()}) {
      TimeZone::Instants at = zone->FromLocal(wall);
      SCOPED_TRACE(std::string(c.zone) + " " + std::to_string(c.h) + ":" + std::to_string(c.mi) +
                   " via " + zone->name());
      EXPECT_EQ(c.count, at.count);
      EXPECT_EQ(c.earlier, at.earlier);
      EXPECT_EQ(c.later, at.later);
    }
  }
}

TEST(TimeZone, ToCivil) {
  auto berlin = Zone("Europe/Berlin");
  CivilTime c = berlin->ToCivil(kBerlinFall - 1);  // 02:59:59 CEST
  EXPECT_EQ(2, c.hour);
  EXPECT_EQ(59, c.second);
  EXPECT_EQ(7200, c.utc_offset);
  c = berlin->ToCivil(kBerlinFall);  // 02:00:00 CET
  EXPECT_EQ(2026, c.year);
  EXPECT_EQ(10, c.month);
  EXPECT_EQ(25, c.day);
  EXPECT_EQ(2, c.hour);
  EXPECT_EQ(0, c.minute);
  EXPECT_EQ(3600, c.utc_offset);
  c = Zone("America/New_York")->ToCivil(-1);  // before 1970: 1969-12-31 18:59:59 EST
  EXPECT_EQ(1969, c.year);
  EXPECT_EQ(18, c.hour);
  EXPECT_EQ(-18000, c.utc_offset);
}

TEST(TimeZone, PosixRules) {
  auto offset = [](const char* spec, std::int64_t t) {
    auto rule = ParsePosixTz(spec);
    EXPECT_TRUE(rule.has_value()) << spec;
    return rule ? rule->UtcOffset(t) : -1;
  };
  EXPECT_EQ(7200, offset("CET-1CEST,M3.5.0,M10.5.0/3", kBerlinFall - 1));
  EXPECT_EQ(3600, offset("CET-1CEST,M3.5.0,M10.5.0/3", kBerlinFall));
  EXPECT_EQ(3600, offset("CET-1CEST,M3.5.0,M10.5.0/3", kBerlinSpring - 1));
  EXPECT_EQ(7200, offset("CET-1CEST,M3.5.0,M10.5.0/3", kBerlinSpring));
  EXPECT_EQ(-14400, offset("EST5EDT,M3.2.0,M11.1.0", kNewYorkFall - 1));
  EXPECT_EQ(-18000, offset("EST5EDT,M3.2.0,M11.1.0", kNewYorkFall));
  // Dublin: standard time is summer (IST, +1), "daylight" time is winter (GMT, 0).
  EXPECT_EQ(0, offset("IST-1GMT0,M10.5.0,M3.5.0/1", kBerlinFall));
  EXPECT_EQ(3600, offset("IST-1GMT0,M10.5.0,M3.5.0/1", kBerlinFall - 1));
  // Quoted names, minutes, no DST; negative transition times (Nuuk); all-year DST (J365/25).
  EXPECT_EQ(5 * 3600 + 45 * 60, offset("<+0545>-5:45", kBerlinFall));
  EXPECT_EQ(-3600, offset("<-02>2<-01>,M3.5.0/-1,M10.5.0/0", kBerlinFall - 1));
  EXPECT_EQ(-7200, offset("<-02>2<-01>,M3.5.0/-1,M10.5.0/0", kBerlinFall));
  EXPECT_EQ(-7200, offset("<-02>2<-01>,M3.5.0/-1,M10.5.0/0", kBerlinSpring - 1));
  EXPECT_EQ(-3600, offset("<-02>2<-01>,M3.5.0/-1,M10.5.0/0", kBerlinSpring));
  EXPECT_EQ(-4 * 3600, offset("EST5EDT,0/0,J365/25", kNewYorkFall + 30 * 86400));
  for (const char* bad : {"", "C-1", "CET", "CET-1CEST,M13.1.0,M10.5.0", "CET-1CEST,M3.5.0",
                          "CET-1CEST,M3.6.0,M10.5.0", "CET-1CEST,M3.5.7,M10.5.0",
                          "CET-1CEST,J0,J365", "<+03-3", "CET-25", "CET-1CEST,M3.5.0,M10.5.0x"}) {
    EXPECT_FALSE(ParsePosixTz(bad).has_value()) << bad;
  }
}

// A version 2 TZif file with no transition at all: the footer's rule is the whole zone (how
// `zic -b slim` writes a zone whose rule never changed).
std::string SlimTzif(const std::string& footer, std::uint32_t leapcnt = 0) {
  auto header = [&](std::string* out) {
    *out += "TZif2";
    *out += std::string(15, '\0');
    for (std::uint32_t n : {0u, 0u, leapcnt, 0u, 1u, 4u}) {
      for (int shift = 24; shift >= 0; shift -= 8) *out += static_cast<char>((n >> shift) & 0xff);
    }
  };
  std::string tzif;
  std::string type("\x00\x00\x0e\x10\x00\x00", 6);  // +3600, not DST, name at 0
  header(&tzif);
  tzif += type + std::string("CET\0", 4) + std::string(leapcnt * 8, '\0');
  header(&tzif);
  tzif += type + std::string("CET\0", 4) + std::string(leapcnt * 12, '\0');
  return tzif + "\n" + footer + "\n";
}

TEST(TimeZone, FooterOnlyTzifFollowsItsRule) {
  auto slim = TimeZone::FromTzif("slim", SlimTzif("CET-1CEST,M3.5.0,M10.5.0/3"));
  ASSERT_TRUE(IsOk(slim));
  auto berlin = Zone("Europe/Berlin");
  for (std::int64_t t = 946684800; t < 4102444800; t += 5 * 3600 + 7) {  // 2000 to 2099
    ASSERT_EQ(berlin->UtcOffset(t), (*slim)->UtcOffset(t)) << t;
  }
}

TEST(TimeZone, BadTzifIsAnErrorNeverACrash) {
  std::string berlin = ReadFile("/usr/share/zoneinfo/Europe/Berlin");
  ASSERT_GT(berlin.size(), 100u);
  ASSERT_TRUE(IsOk(TimeZone::FromTzif("Europe/Berlin", berlin)));
  for (std::size_t n = 0; n + 1 < berlin.size(); ++n) {  // every truncation
    EXPECT_FALSE(TimeZone::FromTzif("x", berlin.substr(0, n)).ok()) << n;
  }
  EXPECT_FALSE(TimeZone::FromTzif("x", "not a zone file").ok());
  EXPECT_FALSE(TimeZone::FromTzif("x", SlimTzif("CET-1CEST,M3.5.0")).ok());  // bad footer
  auto leap = TimeZone::FromTzif("right/X", SlimTzif("CET-1", 1));
  ASSERT_FALSE(leap.ok());
  EXPECT_NE(std::string::npos, leap.status().message().find("leap seconds"));
}

class TimeZoneFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "zoneinfo_XXXXXX").string();
    dir_ = ::mkdtemp(tmpl.data());
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string dir_;
};

TEST_F(TimeZoneFiles, UnknownZonesAreErrorsNamingWhereTheyWereLookedFor) {
  auto missing = TimeZone::Load("Mars/Olympus_Mons");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(StatusCode::kNotFound, missing.status().code());
  EXPECT_NE(std::string::npos,
            missing.status().message().find("/usr/share/zoneinfo/Mars/Olympus_Mons"));
  for (const char* bad : {"", "/etc/passwd", "../etc/passwd", "Europe/../../etc/passwd",
                          "Europe//Berlin", "Europe/Berlin/", "Europe/Ber lin"}) {
    auto r = TimeZone::Load(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(StatusCode::kInvalidArgument, r.status().code()) << bad;
  }
  // A file that is not TZif.
  fs::create_directories(dir_ + "/Europe");
  std::ofstream(dir_ + "/Europe/Berlin") << "# not a zone\n";
  ScopedEnv tzdir("TZDIR", dir_.c_str());
  auto junk = TimeZone::Load("Europe/Berlin");
  ASSERT_FALSE(junk.ok());
  EXPECT_NE(std::string::npos, junk.status().message().find("not a TZif file"));
}

TEST_F(TimeZoneFiles, NoZoneFilesAsInAnEmptyChroot) {
  // TZDIR names an empty directory: a named zone cannot be found (never a silent UTC), UTC
  // needs no file, and an extra directory (the host's files under --path.rootfs) is tried.
  ScopedEnv tzdir("TZDIR", dir_.c_str());
  auto berlin = TimeZone::Load("Europe/Berlin");
  ASSERT_FALSE(berlin.ok());
  EXPECT_NE(std::string::npos, berlin.status().message().find(dir_ + "/Europe/Berlin"));
  auto utc = TimeZone::Load("UTC");
  ASSERT_TRUE(IsOk(utc));
  EXPECT_EQ(0, (*utc)->UtcOffset(kBerlinFall));
  auto from_extra = TimeZone::Load("Europe/Berlin", {"/usr/share/zoneinfo"});
  ASSERT_TRUE(IsOk(from_extra));
  EXPECT_EQ(3600, (*from_extra)->UtcOffset(kBerlinFall));

  // The process's zone: TZ naming a zone without its file is an error, as the C library would
  // quietly use UTC; a POSIX TZ string or UTC needs no file.
  {
    ScopedEnv tz("TZ", "Europe/Berlin");
    auto process = TimeZone::Process();
    ASSERT_FALSE(process.ok());
    EXPECT_NE(std::string::npos, process.status().message().find("TZ=Europe/Berlin"));
    EXPECT_EQ(0, GlibcOffset(kBerlinFall));  // what the C library does meanwhile
  }
  for (const char* fine : {"CET-1CEST,M3.5.0,M10.5.0/3", "UTC", ":UTC", ""}) {
    ScopedEnv tz("TZ", fine);
    EXPECT_TRUE(IsOk(TimeZone::Process())) << fine;
  }
}

TEST(TimeZone, ProcessZone) {
  {
    ScopedEnv tz("TZ", nullptr);
    EXPECT_TRUE(IsOk(TimeZone::Process()));
  }
  for (const char* fine : {"Europe/Berlin", ":America/New_York", "/usr/share/zoneinfo/UTC"}) {
    ScopedEnv tz("TZ", fine);
    EXPECT_TRUE(IsOk(TimeZone::Process())) << fine;
  }
  ScopedEnv tz("TZ", "Nowhere/Special");
  auto bad = TimeZone::Process();
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(std::string::npos, bad.status().message().find("TZ=Nowhere/Special"));
}

// The wall-clock fields of a Unix time in the process's zone, as a log writer (Exim calls
// localtime()) would print them.
struct Wall {
  int y, mo, d, h, mi, s;
};
Wall WallAt(std::int64_t t) {
  auto tt = static_cast<std::time_t>(t);
  std::tm tm{};
  localtime_r(&tt, &tm);
  return {tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec};
}

// Stamps written every `step` seconds from `from` to `to`, converted in order, give back their
// own instants: no step backwards at a fall-back, no leap at a spring-forward.
void ExpectOrderedStampsRoundTrip(const char* zone_name, std::int64_t from, std::int64_t to,
                                  std::int64_t step) {
  ScopedEnv tz("TZ", zone_name);  // the writer's zone
  for (const auto& zone : {Zone(zone_name), TimeZone::Local()}) {
    SCOPED_TRACE(std::string(zone_name) + " via " + zone->name());
    CivilTimeConverter converter(zone);
    converter.SetReferenceTime(from);
    for (std::int64_t t = from; t <= to; t += step) {
      Wall w = WallAt(t);
      ASSERT_EQ(t, converter.ToUnix(w.y, w.mo, w.d, w.h, w.mi, w.s, false, 0))
          << w.h << ":" << w.mi << ":" << w.s;
    }
    // Syslog stamps without a year, the same way.
    CivilTimeConverter yearless(zone);
    yearless.SetReferenceTime(to);
    for (std::int64_t t = from; t <= to; t += step) {
      Wall w = WallAt(t);
      ASSERT_EQ(t, yearless.ToUnixYearless(w.mo, w.d, w.h, w.mi, w.s));
    }
  }
}

TEST(CivilTimeConverter, OrderedStampsAcrossBothTransitions) {
  ExpectOrderedStampsRoundTrip("Europe/Berlin", kBerlinFall - 7200, kBerlinFall + 7200, 17);
  ExpectOrderedStampsRoundTrip("Europe/Berlin", kBerlinSpring - 7200, kBerlinSpring + 7200, 17);
  ExpectOrderedStampsRoundTrip("America/New_York", kNewYorkFall - 7200, kNewYorkFall + 7200, 17);
  ExpectOrderedStampsRoundTrip("America/New_York", kNewYorkSpring - 7200, kNewYorkSpring + 7200,
                               17);
  // Sparse lines: one every 25 minutes still lands in the right pass.
  ExpectOrderedStampsRoundTrip("Europe/Berlin", kBerlinFall - 7200, kBerlinFall + 7200, 1500);
}

TEST(CivilTimeConverter, RepeatedHourWithSlightlyUnorderedLines) {
  // Exim's processes write lines a second or two out of order: within the first pass that must
  // not look like the second one, and within the second not like the first.
  CivilTimeConverter c(Zone("Europe/Berlin"));
  c.SetReferenceTime(kBerlinFall - 3600);
  EXPECT_EQ(kBerlinFall - 3600 + 5, c.ToUnix(2026, 10, 25, 2, 0, 5, false, 0));  // CEST
  EXPECT_EQ(kBerlinFall - 3600 + 3, c.ToUnix(2026, 10, 25, 2, 0, 3, false, 0));
  EXPECT_EQ(kBerlinFall - 1, c.ToUnix(2026, 10, 25, 2, 59, 59, false, 0));
  EXPECT_EQ(kBerlinFall + 2, c.ToUnix(2026, 10, 25, 2, 0, 2, false, 0));  // CET
  EXPECT_EQ(kBerlinFall + 1, c.ToUnix(2026, 10, 25, 2, 0, 1, false, 0));
  EXPECT_EQ(kBerlinFall + 1800, c.ToUnix(2026, 10, 25, 2, 30, 0, false, 0));
  EXPECT_EQ(kBerlinFall + 3600, c.ToUnix(2026, 10, 25, 3, 0, 0, false, 0));
  // A skipped time (a writer that had not switched yet) is read with the offset before.
  EXPECT_EQ(kBerlinSpring + 1800, c.ToUnix(2026, 3, 29, 2, 30, 0, false, 0));
  // Stamps with an offset are exact and need no memory.
  EXPECT_EQ(kBerlinFall - 1800, c.ToUnix(2026, 10, 25, 2, 30, 0, true, 7200));
}

TEST(CivilTimeConverter, FirstStampOfTheRepeatedHourFollowsTheReferenceTime) {
  auto berlin = Zone("Europe/Berlin");
  // The exporter starts at the end of the log during the second 02:xx: its first line is CET.
  CivilTimeConverter second(berlin);
  second.SetReferenceTime(kBerlinFall + 1800 + 1);
  EXPECT_EQ(kBerlinFall + 1800, second.ToUnix(2026, 10, 25, 2, 30, 0, false, 0));
  // ... during the first 02:xx: the second occurrence lies in the future, so CEST.
  CivilTimeConverter first(berlin);
  first.SetReferenceTime(kBerlinFall - 1800 + 1);
  EXPECT_EQ(kBerlinFall - 1800, first.ToUnix(2026, 10, 25, 2, 30, 0, false, 0));
}

}  // namespace
}  // namespace mailrelay
