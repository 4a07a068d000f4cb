#include "common/text.h"

#include <charconv>
#include <cstdio>
#include <cstring>

namespace mailrelay {

namespace {

// Length of the valid UTF-8 sequence starting at in[i], or 0 when it is invalid.
std::size_t Utf8SequenceLength(std::string_view in, std::size_t i) {
  auto c = static_cast<unsigned char>(in[i]);
  std::size_t len = 0;
  unsigned char lo = 0x80;
  unsigned char hi = 0xbf;
  if (c < 0x80) return 1;
  if (c >= 0xc2 && c <= 0xdf) {
    len = 2;
  } else if (c >= 0xe0 && c <= 0xef) {
    len = 3;
    if (c == 0xe0) lo = 0xa0;
    if (c == 0xed) hi = 0x9f;
  } else if (c >= 0xf0 && c <= 0xf4) {
    len = 4;
    if (c == 0xf0) lo = 0x90;
    if (c == 0xf4) hi = 0x8f;
  } else {
    return 0;
  }
  if (i + len > in.size()) return 0;
  for (std::size_t k = 1; k < len; ++k) {
    auto cc = static_cast<unsigned char>(in[i + k]);
    unsigned char min = (k == 1) ? lo : 0x80;
    unsigned char max = (k == 1) ? hi : 0xbf;
    if (cc < min || cc > max) return 0;
  }
  return len;
}

}  // namespace

namespace {

void SanitizeInto(std::string_view in, std::size_t max_bytes, std::string* out) {
  out->clear();
  out->reserve(in.size() < max_bytes ? in.size() : max_bytes);
  std::size_t i = 0;
  while (i < in.size()) {
    std::size_t len = Utf8SequenceLength(in, i);
    if (len == 0) {
      if (out->size() + 1 > max_bytes) break;
      *out += '?';
      ++i;
      continue;
    }
    if (out->size() + len > max_bytes) break;
    if (len == 1) {
      auto c = static_cast<unsigned char>(in[i]);
      *out += (c < 0x20 || c == 0x7f) ? '?' : in[i];
    } else {
      out->append(in.substr(i, len));
    }
    i += len;
  }
}

// Printable ASCII only, within max_bytes: sanitising would return it unchanged.
bool IsCleanLabelValue(std::string_view in, std::size_t max_bytes) {
  if (in.size() > max_bytes) return false;
  for (char ch : in) {
    auto c = static_cast<unsigned char>(ch);
    if (c < 0x20 || c >= 0x7f) return false;
  }
  return true;
}

}  // namespace

std::string SanitizeLabelValue(std::string_view in, std::size_t max_bytes) {
  std::string out;
  SanitizeInto(in, max_bytes, &out);
  return out;
}

std::string_view SanitizeLabelValueTo(std::string_view in, std::size_t max_bytes,
                                      std::string* out) {
  if (IsCleanLabelValue(in, max_bytes)) return in;
  SanitizeInto(in, max_bytes, out);
  return *out;
}

std::string AsciiLower(std::string_view in) {
  std::string out(in);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

namespace {
char LowerChar(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }
}  // namespace

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (LowerChar(a[i]) != LowerChar(b[i])) return false;
  }
  return true;
}

bool ContainsIgnoreCase(std::string_view haystack, std::string_view needle) {
  if (needle.empty()) return true;
  if (needle.size() > haystack.size()) return false;
  // Candidate positions by the first character (either case), then the rest.
  const char lo = LowerChar(needle[0]);
  const char up = (lo >= 'a' && lo <= 'z') ? static_cast<char>(lo - 'a' + 'A') : lo;
  const std::string_view rest = needle.substr(1);
  const std::size_t last = haystack.size() - needle.size();
  for (std::size_t i = 0; i <= last; ++i) {
    const char c = haystack[i];
    if ((c == lo || c == up) && EqualsIgnoreCase(haystack.substr(i + 1, rest.size()), rest)) {
      return true;
    }
  }
  return false;
}

std::string_view AsciiLowerTo(std::string_view in, std::string* out) {
  out->resize(in.size());
  for (std::size_t i = 0; i < in.size(); ++i) (*out)[i] = LowerChar(in[i]);
  return *out;
}

std::vector<std::string> SplitList(std::string_view in, char sep) {
  std::vector<std::string> out;
  while (true) {
    auto pos = in.find(sep);
    std::string_view piece = in.substr(0, pos);
    while (!piece.empty() && (piece.front() == ' ' || piece.front() == '\t'))
      piece.remove_prefix(1);
    while (!piece.empty() &&
           (piece.back() == ' ' || piece.back() == '\t' || piece.back() == '\r')) {
      piece.remove_suffix(1);
    }
    if (!piece.empty()) out.emplace_back(piece);
    if (pos == std::string_view::npos) break;
    in.remove_prefix(pos + 1);
  }
  return out;
}

bool ParseUint64(std::string_view in, std::uint64_t* out) {
  if (in.empty()) return false;
  auto [ptr, ec] = std::from_chars(in.data(), in.data() + in.size(), *out);
  return ec == std::errc() && ptr == in.data() + in.size();
}

double DurationUnitSeconds(std::string_view unit) {
  if (unit == "ms") return 0.001;
  if (unit.size() != 1) return 0;
  switch (unit[0]) {
    case 's':
      return 1;
    case 'm':
      return 60;
    case 'h':
      return 3600;
    case 'd':
      return 86400;
    case 'w':
      return 7 * 86400;
    default:
      return 0;
  }
}

bool ParseDurationSeconds(std::string_view in, double* out) {
  if (in.empty()) return false;
  std::size_t digits = 0;
  while (digits < in.size() && in[digits] >= '0' && in[digits] <= '9') ++digits;
  if (digits == 0) return false;
  std::uint64_t value = 0;
  if (!ParseUint64(in.substr(0, digits), &value)) return false;
  std::string_view unit = in.substr(digits);
  double mult = unit.empty() ? 1 : DurationUnitSeconds(unit);
  if (mult == 0 || unit == "w") return false;  // weeks: not a flag unit
  *out = static_cast<double>(value) * mult;
  return true;
}

std::size_t ParseRfc3339Prefix(std::string_view s, Rfc3339Fields* out) {
  Rfc3339Fields f;
  if (s.size() < 20 || !ParseFixedDigits(s, 0, 4, &f.year) || s[4] != '-' ||
      !ParseFixedDigits(s, 5, 2, &f.month) || s[7] != '-' || !ParseFixedDigits(s, 8, 2, &f.day) ||
      s[10] != 'T' || !ParseFixedDigits(s, 11, 2, &f.hour) || s[13] != ':' ||
      !ParseFixedDigits(s, 14, 2, &f.minute) || s[16] != ':' ||
      !ParseFixedDigits(s, 17, 2, &f.second)) {
    return 0;
  }
  std::size_t pos = 19;
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') ++pos;
  }
  if (pos < s.size() && s[pos] == 'Z') {
    ++pos;
  } else if (pos + 6 <= s.size() && (s[pos] == '+' || s[pos] == '-') && s[pos + 3] == ':') {
    int hh = 0, mm = 0;
    if (!ParseFixedDigits(s, pos + 1, 2, &hh) || !ParseFixedDigits(s, pos + 4, 2, &mm)) return 0;
    f.offset_seconds = (hh * 3600 + mm * 60) * (s[pos] == '-' ? -1 : 1);
    pos += 6;
  } else {
    return 0;
  }
  *out = f;
  return pos;
}

std::string DoubleQuoted(std::string_view text, EscapeStyle style) {
  const bool json = style == EscapeStyle::kJson;
  std::string out = "\"";
  for (char c : text) {
    auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else if (json && c == '\t') {
      out += "\\t";
    } else if (json && c == '\r') {
      out += "\\r";
    } else if (u < 0x20 || (json && u == 0x7f)) {
      char buf[8];
      std::snprintf(buf, sizeof buf, json ? "\\u%04x" : "\\x%02x", u);
      out += buf;
    } else {
      out += c;
    }
  }
  out += '"';
  return out;
}

std::string ShellQuote(std::string_view text) {
  std::string out = "'";
  for (char c : text) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  out += '\'';
  return out;
}

bool IsPrintableText(std::string_view s) {
  return !s.empty() && SanitizeLabelValue(s, s.size()) == s;
}

}  // namespace mailrelay
