// The report's time window: parsing of --since/--until values and formatting of times.
//
// Accepted values (all pure functions of the text and `now`, Unix seconds):
//   - "now";
//   - a duration back from now: "2h", "90m", "1h30m", "2d", "1w", "45s" (an optional leading
//     '-' means the same); a unit is required;
//   - a date and time, "YYYY-MM-DD HH:MM[:SS]" or "YYYY-MM-DDTHH:MM[:SS]", with optional
//     fractional seconds (dropped) and an optional zone "Z", "+HH:MM", "+HHMM" or " +HHMM"
//     (RFC 3339 is the 'T' form with a zone). Without a zone the time is wall-clock time in the
//     log's zone (the one its own stamps are read in; by default the local zone, TZ);
//   - a date alone, "YYYY-MM-DD": midnight in that zone.
// Across DST changes: a wall-clock time the clocks showed twice (fall-back) is taken at its
// earlier occurrence for --since and at its later one for --until, so the window is the widest
// reading; a time the clocks skipped (spring-forward) is the instant they jumped, for both.
// The window is half-open, [since, until): a line is in it when since <= its time < until.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"
#include "common/time_zone.h"

namespace mailrelay::report {

struct TimeWindow {
  std::int64_t since = 0;  // Unix seconds, inclusive
  std::int64_t until = 0;  // Unix seconds, exclusive
  bool Contains(std::int64_t t) const { return t >= since && t < until; }
};

inline constexpr std::int64_t kDefaultWindowSeconds = 3600;

enum class WindowEdge { kSince, kUntil };

// One --since/--until value; wall-clock times in `zone`.
StatusOr<std::int64_t> ParseTimePoint(std::string_view text, std::int64_t now,
                                      const TimeZone& zone = *TimeZone::Local(),
                                      WindowEdge edge = WindowEdge::kSince);

// A relative duration ("2h", "1h30m", "-15m"): seconds, > 0.
StatusOr<std::int64_t> ParseRelativeDuration(std::string_view text);

// until: the --until value, or now when empty; since: the --since value, or until - 1h when
// empty. An empty or inverted window is an error.
StatusOr<TimeWindow> ResolveWindow(std::string_view since, std::string_view until, std::int64_t now,
                                   const TimeZone& zone = *TimeZone::Local());

// Wall-clock time in `zone` with its offset: "2026-11-22 10:00:00 +0100".
std::string FormatLocalTime(std::int64_t t, const TimeZone& zone = *TimeZone::Local());
// The same without the offset, for table cells: "2026-11-22 10:00:00".
std::string FormatLocalTimeShort(std::int64_t t, const TimeZone& zone = *TimeZone::Local());
// RFC 3339 in `zone`: "2026-11-22T10:00:00+01:00".
std::string FormatRfc3339(std::int64_t t, const TimeZone& zone = *TimeZone::Local());
// A length of time: "1h", "2h30m", "45s", "3d4h".
std::string FormatDuration(std::int64_t seconds);

}  // namespace mailrelay::report
