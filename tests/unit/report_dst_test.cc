// `report` over a log that crosses a DST transition: the window's wall-clock edges and the log's
// own stamps are read in the same zone (the process's, or --exim.log-timezone's with the
// process in UTC), so a window over the repeated hour holds both passes and one over the
// skipped hour only the lines after the jump.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "common/clock.h"
#include "dst_transitions.h"
#include "report/report_command.h"
#include "scoped_env.h"

namespace mailrelay::report {
namespace {

namespace fs = std::filesystem;

class ReportAcrossDst : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "report_dst_XXXXXX").string();
    dir_ = ::mkdtemp(tmpl.data());
  }
  void TearDown() override { fs::remove_all(dir_); }

  // An Exim main log with one line every 10 minutes from 3 h before to 3 h after `at`, stamped
  // in `zone`'s local time as Exim writes it.
  std::string WriteLog(const char* zone, std::int64_t at) const {
    ScopedEnv tz("TZ", zone);
    std::string path = dir_ + "/mainlog-" + std::to_string(at);
    std::ofstream out(path, std::ios::binary);
    for (std::int64_t t = at - 3 * 3600; t <= at + 3 * 3600; t += 600) {
      out << LocalStamp(t, StampFormat::kExim) << " 1xV63v-0004Eu-0K Completed\n";
    }
    return path;
  }

  // `report --format=json` with the clock a day after `at`: the JSON text.
  static std::string Report(std::vector<std::string> args, std::int64_t at) {
    args.insert(args.begin(), "report");
    std::vector<const char*> argv;
    for (const auto& a : args) argv.push_back(a.c_str());
    std::ostringstream out;
    std::ostringstream err;
    ManualClock clock(at + 86400);
    int status = RunReport(static_cast<int>(argv.size()), argv.data(), out, err, clock);
    EXPECT_EQ(0, status) << err.str();
    return out.str();
  }

  std::string dir_;
};

// The number after "key": in JSON text; -1 when absent.
long JsonNumber(const std::string& json, const std::string& key) {
  auto at = json.find("\"" + key + "\": ");
  if (at == std::string::npos) return -1;
  return std::stol(json.substr(at + key.size() + 4));
}

TEST_F(ReportAcrossDst, WindowsOverTheRepeatedAndTheSkippedHour) {
  struct Case {
    const char* zone;
    std::int64_t at;
    const char* since;
    const char* until;
    int in_window;  // lines every 10 minutes in [since, until)
  };
  const Case cases[] = {
      // 02:00..03:00 on the fall-back night: two hours of lines, both passes of 02:xx.
      {"Europe/Berlin", kBerlinFall, "2026-10-25 02:00", "2026-10-25 03:00", 12},
      {"America/New_York", kNewYorkFall, "2026-11-01 01:00", "2026-11-01 02:00", 12},
      // 02:00..03:30 on the spring-forward night: from the jump (03:00) to 03:30.
      {"Europe/Berlin", kBerlinSpring, "2026-03-29 02:00", "2026-03-29 03:30", 3},
      {"America/New_York", kNewYorkSpring, "2026-03-08 02:00", "2026-03-08 03:30", 3},
      // Half an hour on each side of the fall-back.
      {"Europe/Berlin", kBerlinFall, "2026-10-25T02:30:00+02:00", "2026-10-25T02:30:00+01:00", 6},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(std::string(c.zone) + " " + c.since + " .. " + c.until);
    std::string log = WriteLog(c.zone, c.at);
    std::vector<std::string> common = {"--exim.mainlog=" + log,
                                       "--since=" + std::string(c.since),
                                       "--until=" + std::string(c.until),
                                       "--format=json",
                                       "--no-queue",
                                       "--no-relay.include-interface-addresses"};
    {
      ScopedEnv tz("TZ", c.zone);  // the report runs in the log's zone
      std::string json = Report(common, c.at);
      EXPECT_EQ(37, JsonNumber(json, "read"));
      EXPECT_EQ(c.in_window, JsonNumber(json, "in_window")) << json.substr(0, 600);
      EXPECT_EQ(0, JsonNumber(json, "unparsed"));
    }
    {
      ScopedEnv tz("TZ", "UTC");  // ... or in UTC, told the log's zone
      std::vector<std::string> args = common;
      args.push_back(std::string("--exim.log-timezone=") + c.zone);
      std::string json = Report(args, c.at);
      EXPECT_EQ(c.in_window, JsonNumber(json, "in_window")) << json.substr(0, 600);
    }
  }
}

TEST_F(ReportAcrossDst, TimesAreShownInTheLogsZone) {
  std::string log = WriteLog("Europe/Berlin", kBerlinFall);
  ScopedEnv tz("TZ", "UTC");
  std::string json = Report(
      {"--exim.mainlog=" + log, "--exim.log-timezone=Europe/Berlin", "--since=2026-10-25 02:30",
       "--until=2026-10-25 02:40", "--format=json", "--no-queue"},
      kBerlinFall);
  EXPECT_NE(std::string::npos, json.find("\"since\": \"2026-10-25T02:30:00+02:00\""))
      << json.substr(0, 400);
  EXPECT_NE(std::string::npos, json.find("\"until\": \"2026-10-25T02:40:00+01:00\""));
  EXPECT_NE(std::string::npos, json.find("\"first_line_time\": \"2026-10-25T00:00:00+02:00\""))
      << json.substr(0, 600);
  EXPECT_NE(std::string::npos, json.find("\"last_line_time\": \"2026-10-25T05:00:00+01:00\""));
}

TEST_F(ReportAcrossDst, UnknownLogTimezoneIsAnError) {
  std::string log = WriteLog("Europe/Berlin", kBerlinFall);
  std::vector<std::string> args = {"report", "--exim.mainlog=" + log,
                                   "--exim.log-timezone=Europe/Nowhere", "--no-queue"};
  std::vector<const char*> argv;
  for (const auto& a : args) argv.push_back(a.c_str());
  std::ostringstream out;
  std::ostringstream err;
  ManualClock clock(kBerlinFall);
  EXPECT_EQ(2, RunReport(static_cast<int>(argv.size()), argv.data(), out, err, clock));
  EXPECT_NE(std::string::npos, err.str().find("--exim.log-timezone: unknown time zone "
                                              "'Europe/Nowhere'"))
      << err.str();
}

}  // namespace
}  // namespace mailrelay::report
