// Time zones and civil (wall-clock) time, for log stamps written without a UTC offset.
//
// A TimeZone answers two questions: the UTC offset at an instant, and which instants show a
// given wall-clock time. It is either the process's zone, through the C library (TZ, else
// /etc/localtime, else UTC), or a zone read from its TZif file (RFC 8536: the transitions,
// then the POSIX TZ rule of the file's footer for later times), whatever the process's zone is.
// CivilTimeConverter turns the stamps of an ordered log into Unix seconds; across a DST
// fall-back, where one wall-clock hour occurs twice, it remembers the previous stamp.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace mailrelay {

// Days since 1970-01-01 of a proleptic Gregorian date (month 1-12). A day past the month's end
// runs on into the next month (Feb 31 is Mar 3 or 2), as mktime does.
std::int64_t DaysFromCivil(std::int64_t year, int month, int day);

// A wall-clock date and time counted as if it were UTC: seconds since 1970-01-01 00:00.
inline std::int64_t CivilSeconds(int year, int month, int day, int hour, int minute, int second) {
  return DaysFromCivil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second;
}

struct CivilTime {
  int year = 1970, month = 1, day = 1, hour = 0, minute = 0, second = 0;
  int utc_offset = 0;  // seconds east of UTC
};

// A POSIX TZ rule ("CET-1CEST,M3.5.0,M10.5.0/3"), as TZif footers carry it.
struct PosixTzRule {
  struct When {
    char kind = 'M';  // 'J': Julian day 1-365 without Feb 29; 'N': day 0-365; 'M': month.week.day
    int day = 0;      // J, N: the day; M: the weekday 0-6 (Sunday 0)
    int month = 0;    // M: 1-12
    int week = 0;     // M: 1-5 (5: the last)
    int time = 7200;  // seconds after local midnight (may be negative or past 24h)
  };
  int std_offset = 0;  // seconds east of UTC
  bool has_dst = false;
  int dst_offset = 0;
  bool has_rule = false;  // with has_dst: the ",start,end" part was given
  When start, end;

  int UtcOffset(std::int64_t unix_seconds) const;
};
// Parses a POSIX TZ string; nullopt when it is not one.
std::optional<PosixTzRule> ParsePosixTz(std::string_view spec);

class TimeZone {
 public:
  // The process's zone as the C library sees it (TZ, else /etc/localtime, else UTC). An error
  // when TZ names a zone that cannot be found here: the C library would use UTC without a word.
  static StatusOr<std::shared_ptr<const TimeZone>> Process();
  // The same without the check (for formatting defaults).
  static std::shared_ptr<const TimeZone> Local();
  static std::shared_ptr<const TimeZone> Utc();
  // An IANA zone name ("Europe/Berlin"): its TZif file in $TZDIR (or /usr/share/zoneinfo when
  // TZDIR is unset), then in each of `extra_dirs`. "UTC" needs no file.
  static StatusOr<std::shared_ptr<const TimeZone>> Load(
      std::string_view name, const std::vector<std::string>& extra_dirs = {});
  // The contents of a TZif file.
  static StatusOr<std::shared_ptr<const TimeZone>> FromTzif(std::string name,
                                                            std::string_view data);

  // "Europe/Berlin", or for the process's zone "local (TZ=...)" / "local (/etc/localtime)".
  const std::string& name() const { return name_; }
  int UtcOffset(std::int64_t unix_seconds) const;
  CivilTime ToCivil(std::int64_t unix_seconds) const;

  // The instants at which the zone's clocks show `local_seconds` (CivilSeconds of a wall-clock
  // time). count 1: earlier == later. count 2: a repeated time (a DST fall-back). count 0: a
  // skipped time (a spring-forward gap); earlier is the instant the clocks jumped and later
  // the time read with the offset before the jump (as mktime does).
  struct Instants {
    int count = 1;
    std::int64_t earlier = 0;
    std::int64_t later = 0;
  };
  Instants FromLocal(std::int64_t local_seconds) const;

 private:
  TimeZone() = default;

  std::string name_;
  bool process_ = false;                   // through localtime_r
  std::vector<std::int64_t> transitions_;  // ascending Unix seconds
  std::vector<int> offsets_;               // offsets_[i]: from transitions_[i] on
  int initial_offset_ = 0;                 // before the first transition
  std::optional<PosixTzRule> rule_;        // on and after the last transition
};

// Log stamps -> Unix seconds. Not thread-safe (one per parser); no clock, no I/O (the zone was
// loaded before).
class CivilTimeConverter {
 public:
  // null: TimeZone::Local().
  explicit CivilTimeConverter(std::shared_ptr<const TimeZone> zone = nullptr);

  // Exact with `has_offset` (the offset the fields are written in). Without, wall-clock time
  // in the zone: a time the clocks showed twice (DST fall-back) is taken as the occurrence
  // nearest to the previous stamp converted, since lines are in order; before any stamp, the
  // later occurrence unless it lies after the reference time (so the exporter, starting at the
  // end of a log, places a new line right). A skipped time (spring-forward gap) is read with the
  // offset before the jump. Cheap per call: results are cached per wall-clock hour.
  std::int64_t ToUnix(int year, int month, int day, int hour, int minute, int second,
                      bool has_offset, int offset_seconds);
  // A syslog (BSD) stamp has no year: the one that puts it (its hour) at most 7 days after the
  // reference time.
  std::int64_t ToUnixYearless(int month, int day, int hour, int minute, int second);

  // The current time as the caller knows it (the exporter: now; the report: --until).
  void SetReferenceTime(std::int64_t unix_seconds);
  const TimeZone& zone() const { return *zone_; }

 private:
  std::int64_t Choose(const TimeZone::Instants& at) const;
  void FillHour(int year, int month, int day, int hour);

  std::shared_ptr<const TimeZone> zone_;
  // year*1000000 + month*10000 + day*100 + hour: 64-bit, a year past 2147 overflows an int.
  std::int64_t cached_key_ = -1;
  std::int64_t cached_hour_start_ = 0;
  bool cached_uniform_ = false;  // the whole hour shows one offset: hour start + minutes
  std::int64_t last_ = 0;
  bool have_last_ = false;
  std::int64_t reference_ = 0;
  std::int64_t reference_local_ = 0;  // reference_ as wall-clock CivilSeconds
  int reference_year_ = 1970;
  int yearless_key_ = -2;  // month*10000 + day*100 + hour of the last yearless stamp; -2: none
  int yearless_year_ = 1970;
};

}  // namespace mailrelay
