// The DST transitions of 2026 the time tests cross, and log stamps written as an MTA writes them
// (local time through the C library, in whatever zone TZ names): the tests' independent oracle.
//   Europe/Berlin     spring forward 03-29 01:00Z (02:00 CET -> 03:00 CEST: 02:xx skipped),
//                     fall back 10-25 01:00Z (03:00 CEST -> 02:00 CET: 02:00-02:59 twice)
//   America/New_York  spring forward 03-08 07:00Z (02:00 EST -> 03:00 EDT), fall back
//                     11-01 06:00Z (02:00 EDT -> 01:00 EST: 01:00-01:59 twice)
#pragma once

#include <cstdint>
#include <cstdio>
#include <ctime>
#include <string>

namespace mailrelay {

inline constexpr std::int64_t kBerlinSpring = 1774746000;
inline constexpr std::int64_t kBerlinFall = 1792890000;
inline constexpr std::int64_t kNewYorkSpring = 1772953200;
inline constexpr std::int64_t kNewYorkFall = 1793512800;

enum class StampFormat {
  kExim,       // "2026-10-25 02:30:00"
  kBsdSyslog,  // "Oct 25 02:30:00"
};

// The stamp of Unix time `t` in the process's local zone (set TZ first).
inline std::string LocalStamp(std::int64_t t, StampFormat format) {
  static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  auto tt = static_cast<std::time_t>(t);
  std::tm tm{};
  localtime_r(&tt, &tm);
  char buf[96];
  if (format == StampFormat::kExim) {
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02d %02d:%02d:%02d", tm.tm_year + 1900,
                  tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
  } else {
    std::snprintf(buf, sizeof buf, "%s %2d %02d:%02d:%02d", kMonths[tm.tm_mon], tm.tm_mday,
                  tm.tm_hour, tm.tm_min, tm.tm_sec);
  }
  return buf;
}

}  // namespace mailrelay
