// Small text helpers shared by parsers and metrics: no I/O, no allocation unless returned.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace mailrelay {

// Makes an arbitrary byte string safe as a Prometheus label value: invalid UTF-8 sequences and
// control characters become '?', and the result is cut (on a character boundary) to max_bytes.
// An empty input stays empty. The exposition writer escapes '\\', '"' and newlines itself.
std::string SanitizeLabelValue(std::string_view in, std::size_t max_bytes = 128);
// The same into *out (its capacity is reused: no allocation once it is large enough). Returns
// `in` itself, without copying, when it is already clean (printable ASCII within max_bytes, the
// usual case), else a view of *out.
std::string_view SanitizeLabelValueTo(std::string_view in, std::size_t max_bytes, std::string* out);

// ASCII lower-casing.
std::string AsciiLower(std::string_view in);
bool EqualsIgnoreCase(std::string_view a, std::string_view b);
bool ContainsIgnoreCase(std::string_view haystack, std::string_view needle);
// ASCII lower-casing into *out (capacity reused); returns a view of *out.
std::string_view AsciiLowerTo(std::string_view in, std::string* out);

// Splits on `sep`, trims ASCII blanks around each piece and drops empty pieces.
std::vector<std::string> SplitList(std::string_view in, char sep);

bool ParseUint64(std::string_view in, std::uint64_t* out);

// "text" with the escapes of a format: both escape '"', '\\' and newlines; JSON also \t, \r and
// other control bytes (and DEL) as \u00XX; logfmt other control bytes as \xXX.
enum class EscapeStyle { kJson, kLogfmt };
std::string DoubleQuoted(std::string_view text, EscapeStyle style);

// 'text' for sh: single quotes, a single quote written as '\''.
std::string ShellQuote(std::string_view text);
// Non-empty, valid UTF-8 without control bytes: text a printed command line can carry as is.
bool IsPrintableText(std::string_view s);

// Seconds in one duration unit: "ms", "s", "m", "h", "d", "w"; 0 for anything else.
double DurationUnitSeconds(std::string_view unit);

// Parses a duration such as "90s", "15m", "2h", "1d", "500ms" or a bare number of seconds.
bool ParseDurationSeconds(std::string_view in, double* out);

// Exactly `n` ASCII digits at s[pos], as a number (n <= 9). Inline: log parsers call it per line.
inline bool ParseFixedDigits(std::string_view s, std::size_t pos, std::size_t n, int* out) {
  if (pos + n > s.size()) return false;
  int v = 0;
  for (std::size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    v = v * 10 + (s[i] - '0');
  }
  *out = v;
  return true;
}

// The fields of an RFC 3339 time stamp "YYYY-MM-DDTHH:MM:SS[.frac](Z|+hh:mm|-hh:mm)" (the
// fraction is skipped; ranges are not checked).
struct Rfc3339Fields {
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  int offset_seconds = 0;
};

// Parses an RFC 3339 time stamp at the start of `s` (syslog's high-precision form, as written
// by rsyslog and journald exports). Returns the length of the stamp, 0 when `s` does not start
// with one.
std::size_t ParseRfc3339Prefix(std::string_view s, Rfc3339Fields* out);

}  // namespace mailrelay
