#include "report/time_window.h"

#include <cstdio>

#include "common/text.h"

namespace mailrelay::report {

namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

bool IsLeap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

int DaysInMonth(int y, int m) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && IsLeap(y) ? 29 : kDays[m - 1];
}

// Zone suffix: "", "Z", "+HH:MM", "+HHMM", "+HH" (optionally after one blank).
bool ParseZone(std::string_view s, bool* has_offset, int* offset_seconds) {
  *has_offset = false;
  *offset_seconds = 0;
  if (s.empty()) return true;
  if (s[0] == ' ') s.remove_prefix(1);
  if (s == "Z" || s == "z") {
    *has_offset = true;
    return true;
  }
  if (s.empty() || (s[0] != '+' && s[0] != '-')) return false;
  int sign = s[0] == '-' ? -1 : 1;
  int hh = 0;
  int mm = 0;
  if (!ParseFixedDigits(s, 1, 2, &hh)) return false;
  std::string_view rest = s.substr(3);
  if (!rest.empty() && rest[0] == ':') rest.remove_prefix(1);
  if (!rest.empty()) {
    if (rest.size() != 2 || !ParseFixedDigits(rest, 0, 2, &mm)) return false;
  }
  if (hh > 23 || mm > 59) return false;
  *has_offset = true;
  *offset_seconds = sign * (hh * 3600 + mm * 60);
  return true;
}

StatusOr<std::int64_t> ParseAbsolute(std::string_view s, const TimeZone& zone, WindowEdge edge) {
  int y = 0;
  int mo = 0;
  int d = 0;
  if (s.size() < 10 || !ParseFixedDigits(s, 0, 4, &y) || s[4] != '-' ||
      !ParseFixedDigits(s, 5, 2, &mo) || s[7] != '-' || !ParseFixedDigits(s, 8, 2, &d)) {
    return InvalidArgument("not a date");
  }
  if (mo < 1 || mo > 12 || d < 1 || d > DaysInMonth(y, mo) || y < 1970) {
    return InvalidArgument("no such date");
  }
  int h = 0;
  int mi = 0;
  int se = 0;
  std::size_t pos = 10;
  if (pos < s.size()) {
    if (s[pos] != ' ' && s[pos] != 'T' && s[pos] != 't') {
      return InvalidArgument("expected ' ' or 'T' after the date");
    }
    if (!ParseFixedDigits(s, pos + 1, 2, &h) || pos + 3 >= s.size() || s[pos + 3] != ':' ||
        !ParseFixedDigits(s, pos + 4, 2, &mi)) {
      return InvalidArgument("expected HH:MM after the date");
    }
    pos += 6;
    if (pos < s.size() && s[pos] == ':') {
      if (!ParseFixedDigits(s, pos + 1, 2, &se)) return InvalidArgument("bad seconds");
      pos += 3;
      if (pos < s.size() && (s[pos] == '.' || s[pos] == ',')) {
        ++pos;
        std::size_t start = pos;
        while (pos < s.size() && IsDigit(s[pos])) ++pos;
        if (pos == start) return InvalidArgument("bad fractional seconds");
      }
    }
    if (h > 23 || mi > 59 || se > 60) return InvalidArgument("no such time");
  }
  bool has_offset = false;
  int offset = 0;
  if (!ParseZone(s.substr(pos), &has_offset, &offset)) {
    return InvalidArgument("bad time zone (Z, +HH:MM or +HHMM)");
  }
  std::int64_t wall = CivilSeconds(y, mo, d, h, mi, se);
  if (has_offset) return wall - offset;
  TimeZone::Instants at = zone.FromLocal(wall);
  return at.count == 2 && edge == WindowEdge::kUntil ? at.later : at.earlier;
}

}  // namespace

StatusOr<std::int64_t> ParseRelativeDuration(std::string_view s) {
  if (!s.empty() && s[0] == '-') s.remove_prefix(1);
  if (s.empty()) return InvalidArgument("empty duration");
  std::int64_t total = 0;
  while (!s.empty()) {
    std::size_t digits = 0;
    while (digits < s.size() && IsDigit(s[digits])) ++digits;
    if (digits == 0 || digits > 9) return InvalidArgument("bad number in duration");
    std::int64_t n = 0;
    for (std::size_t i = 0; i < digits; ++i) n = n * 10 + (s[i] - '0');
    s.remove_prefix(digits);
    if (s.empty()) return InvalidArgument("duration needs a unit (s, m, h, d, w)");
    auto unit = static_cast<std::int64_t>(DurationUnitSeconds(s.substr(0, 1)));
    if (unit == 0) return InvalidArgument("unknown duration unit (s, m, h, d, w)");
    s.remove_prefix(1);
    total += n * unit;
    if (total > std::int64_t{100} * 366 * 86400) {
      return InvalidArgument("duration too long");
    }
  }
  if (total <= 0) return InvalidArgument("duration must be positive");
  return total;
}

StatusOr<std::int64_t> ParseTimePoint(std::string_view text, std::int64_t now, const TimeZone& zone,
                                      WindowEdge edge) {
  if (text == "now") return now;
  if (text.empty()) return InvalidArgument("empty time");
  // A date starts with four digits and '-'; anything else is a duration.
  if (text.size() >= 5 && IsDigit(text[0]) && IsDigit(text[1]) && IsDigit(text[2]) &&
      IsDigit(text[3]) && text[4] == '-') {
    auto t = ParseAbsolute(text, zone, edge);
    if (!t.ok()) {
      return InvalidArgument("bad time '" + std::string(text) + "': " + t.status().message() +
                             " (want YYYY-MM-DD HH:MM:SS, RFC 3339, or a duration like 2h)");
    }
    return t;
  }
  auto d = ParseRelativeDuration(text);
  if (!d.ok()) {
    return InvalidArgument("bad time '" + std::string(text) + "': " + d.status().message() +
                           " (want YYYY-MM-DD HH:MM:SS, RFC 3339, or a duration like 2h)");
  }
  return now - *d;
}

StatusOr<TimeWindow> ResolveWindow(std::string_view since, std::string_view until, std::int64_t now,
                                   const TimeZone& zone) {
  TimeWindow w;
  if (until.empty()) {
    w.until = now;
  } else {
    auto t = ParseTimePoint(until, now, zone, WindowEdge::kUntil);
    if (!t.ok()) return InvalidArgument("--until: " + t.status().message());
    w.until = *t;
  }
  if (since.empty()) {
    w.since = w.until - kDefaultWindowSeconds;
  } else {
    auto t = ParseTimePoint(since, now, zone, WindowEdge::kSince);
    if (!t.ok()) return InvalidArgument("--since: " + t.status().message());
    w.since = *t;
  }
  if (w.since >= w.until) {
    return InvalidArgument("empty window: --since (" + FormatLocalTime(w.since, zone) +
                           ") is not before --until (" + FormatLocalTime(w.until, zone) + ")");
  }
  return w;
}

namespace {

// "+hhmm" of an offset.
std::string ZoneOffset(int off) {
  char sign = off < 0 ? '-' : '+';
  if (off < 0) off = -off;
  off %= 100 * 3600;  // |offset| < 100h: two digits each
  char buf[48];
  std::snprintf(buf, sizeof buf, "%c%02d%02d", sign, off / 3600, (off % 3600) / 60);
  return buf;
}

// "YYYY-MM-DD" + sep + "HH:MM:SS".
std::string DateTime(const CivilTime& c, char sep) {
  char buf[96];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02d%c%02d:%02d:%02d", c.year, c.month, c.day, sep,
                c.hour, c.minute, c.second);
  return buf;
}

}  // namespace

std::string FormatLocalTime(std::int64_t t, const TimeZone& zone) {
  CivilTime c = zone.ToCivil(t);
  return DateTime(c, ' ') + " " + ZoneOffset(c.utc_offset);
}

std::string FormatLocalTimeShort(std::int64_t t, const TimeZone& zone) {
  return DateTime(zone.ToCivil(t), ' ');
}

std::string FormatRfc3339(std::int64_t t, const TimeZone& zone) {
  CivilTime c = zone.ToCivil(t);
  std::string offset = ZoneOffset(c.utc_offset);
  offset.insert(3, ":");
  return DateTime(c, 'T') + offset;
}

std::string FormatDuration(std::int64_t seconds) {
  if (seconds <= 0) return "0s";
  struct Unit {
    std::int64_t size;
    char name;
  };
  static constexpr Unit kUnits[] = {{86400, 'd'}, {3600, 'h'}, {60, 'm'}, {1, 's'}};
  std::string out;
  int parts = 0;
  for (const auto& u : kUnits) {
    if (seconds >= u.size && parts < 2) {
      out += std::to_string(seconds / u.size) + u.name;
      seconds %= u.size;
      ++parts;
    } else if (parts > 0) {
      ++parts;  // only adjacent units: "1d2h", never "1d5s"
    }
  }
  return out;
}

}  // namespace mailrelay::report
