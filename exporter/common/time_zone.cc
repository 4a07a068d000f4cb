#include "common/time_zone.h"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iterator>

namespace mailrelay {

namespace {

namespace fs = std::filesystem;

constexpr std::int64_t kDay = 86400;

std::int64_t FloorDiv(std::int64_t a, std::int64_t b) {
  std::int64_t q = a / b;
  return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

bool IsLeap(std::int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

int DaysInMonth(std::int64_t y, int m) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && IsLeap(y) ? 29 : kDays[m - 1];
}

// The civil date of a day number (the inverse of DaysFromCivil).
void CivilFromDays(std::int64_t days, std::int64_t* year, int* month, int* day) {
  days += 719468;
  std::int64_t era = FloorDiv(days, 146097);
  std::int64_t doe = days - era * 146097;                                    // [0, 146096]
  std::int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;  // [0, 399]
  std::int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);                // [0, 365]
  std::int64_t mp = (5 * doy + 2) / 153;                                     // [0, 11]
  *day = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  *month = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  *year = yoe + era * 400 + (*month <= 2 ? 1 : 0);
}

// ---------------------------------------------------------------- POSIX TZ strings

bool IsAlpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// "CET", or "<+03>" (quoted: letters, digits, '+' and '-').
bool TakeZoneName(std::string_view* s) {
  std::size_t n = 0;
  if (!s->empty() && (*s)[0] == '<') {
    n = s->find('>');
    if (n == std::string_view::npos || n < 4) return false;
    for (std::size_t i = 1; i < n; ++i) {
      char c = (*s)[i];
      if (!IsAlpha(c) && !IsDigit(c) && c != '+' && c != '-') return false;
    }
    ++n;
  } else {
    while (n < s->size() && IsAlpha((*s)[n])) ++n;
    if (n < 3) return false;
  }
  s->remove_prefix(n);
  return true;
}

bool TakeNumber(std::string_view* s, std::size_t max_digits, int* out) {
  int v = 0;
  std::size_t digits = 0;
  while (digits < max_digits && digits < s->size() && IsDigit((*s)[digits])) {
    v = v * 10 + ((*s)[digits] - '0');
    ++digits;
  }
  if (digits == 0) return false;
  s->remove_prefix(digits);
  *out = v;
  return true;
}

// [+-]hh[:mm[:ss]] with hh up to max_hours: seconds, signed.
bool TakeHms(std::string_view* s, int max_hours, int* out) {
  int sign = 1;
  if (!s->empty() && ((*s)[0] == '+' || (*s)[0] == '-')) {
    sign = (*s)[0] == '-' ? -1 : 1;
    s->remove_prefix(1);
  }
  int h = 0;
  int m = 0;
  int sec = 0;
  if (!TakeNumber(s, 3, &h) || h > max_hours) return false;
  if (!s->empty() && (*s)[0] == ':') {
    s->remove_prefix(1);
    if (!TakeNumber(s, 2, &m) || m > 59) return false;
    if (!s->empty() && (*s)[0] == ':') {
      s->remove_prefix(1);
      if (!TakeNumber(s, 2, &sec) || sec > 59) return false;
    }
  }
  *out = sign * (h * 3600 + m * 60 + sec);
  return true;
}

bool TakeWhen(std::string_view* s, PosixTzRule::When* w) {
  if (s->empty()) return false;
  if ((*s)[0] == 'J') {
    s->remove_prefix(1);
    w->kind = 'J';
    if (!TakeNumber(s, 3, &w->day) || w->day < 1 || w->day > 365) return false;
  } else if ((*s)[0] == 'M') {
    s->remove_prefix(1);
    w->kind = 'M';
    if (!TakeNumber(s, 2, &w->month) || w->month < 1 || w->month > 12) return false;
    if (s->empty() || (*s)[0] != '.') return false;
    s->remove_prefix(1);
    if (!TakeNumber(s, 1, &w->week) || w->week < 1 || w->week > 5) return false;
    if (s->empty() || (*s)[0] != '.') return false;
    s->remove_prefix(1);
    if (!TakeNumber(s, 1, &w->day) || w->day > 6) return false;
  } else {
    w->kind = 'N';
    if (!TakeNumber(s, 3, &w->day) || w->day > 365) return false;
  }
  w->time = 7200;
  if (!s->empty() && (*s)[0] == '/') {
    s->remove_prefix(1);
    if (!TakeHms(s, 167, &w->time)) return false;  // RFC 8536: -167..167 hours
  }
  return true;
}

// The day number of a rule date in `year`.
std::int64_t RuleDay(const PosixTzRule::When& w, std::int64_t year) {
  std::int64_t jan1 = DaysFromCivil(year, 1, 1);
  switch (w.kind) {
    case 'J':
      return jan1 + w.day - 1 + (IsLeap(year) && w.day >= 60 ? 1 : 0);
    case 'N':
      return jan1 + w.day;
    default: {
      std::int64_t first = DaysFromCivil(year, w.month, 1);
      int first_weekday = static_cast<int>(((first + 4) % 7 + 7) % 7);  // 1970-01-01: Thursday
      std::int64_t day = first + (w.day - first_weekday + 7) % 7 + (w.week - 1) * 7;
      while (day >= first + DaysInMonth(year, w.month)) day -= 7;  // week 5: the last one
      return day;
    }
  }
}

// ---------------------------------------------------------------- TZif

class TzifReader {
 public:
  explicit TzifReader(std::string_view data) : data_(data) {}
  bool Take(std::size_t n, std::string_view* out) {
    if (data_.size() - pos_ < n) return false;
    *out = data_.substr(pos_, n);
    pos_ += n;
    return true;
  }
  bool Skip(std::uint64_t n) {
    if (data_.size() - pos_ < n) return false;
    pos_ += static_cast<std::size_t>(n);
    return true;
  }
  bool U32(std::uint32_t* v) {
    std::string_view b;
    if (!Take(4, &b)) return false;
    *v = 0;
    for (char c : b) *v = (*v << 8) | static_cast<unsigned char>(c);
    return true;
  }
  bool I64(std::int64_t* v) {
    std::string_view b;
    if (!Take(8, &b)) return false;
    std::uint64_t u = 0;
    for (char c : b) u = (u << 8) | static_cast<unsigned char>(c);
    *v = static_cast<std::int64_t>(u);
    return true;
  }
  std::string_view rest() const { return data_.substr(pos_); }

 private:
  std::string_view data_;
  std::size_t pos_ = 0;
};

struct TzifCounts {
  char version = 0;
  std::uint32_t isutcnt = 0, isstdcnt = 0, leapcnt = 0, timecnt = 0, typecnt = 0, charcnt = 0;
};

bool ReadTzifHeader(TzifReader* r, TzifCounts* c) {
  std::string_view magic;
  std::string_view version;
  if (!r->Take(4, &magic) || magic != "TZif" || !r->Take(1, &version) || !r->Skip(15)) {
    return false;
  }
  c->version = version[0];
  return r->U32(&c->isutcnt) && r->U32(&c->isstdcnt) && r->U32(&c->leapcnt) &&
         r->U32(&c->timecnt) && r->U32(&c->typecnt) && r->U32(&c->charcnt);
}

// Zone names as the C library takes them: relative to the zoneinfo directory, no way out of it.
bool IsZoneName(std::string_view name) {
  if (name.empty() || name[0] == '/' || name.size() > 255) return false;
  std::size_t start = 0;
  while (start <= name.size()) {
    std::size_t slash = name.find('/', start);
    std::string_view part = name.substr(
        start, slash == std::string_view::npos ? std::string_view::npos : slash - start);
    if (part.empty() || part == "." || part == "..") return false;
    for (char c : part) {
      if (!IsAlpha(c) && !IsDigit(c) && c != '_' && c != '-' && c != '+' && c != '.') return false;
    }
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  return true;
}

bool IsUtcName(std::string_view name) {
  return name == "UTC" || name == "Etc/UTC" || name == "GMT" || name == "Etc/GMT";
}

std::string ZoneInfoDir() {
  const char* dir = std::getenv("TZDIR");
  return dir != nullptr && *dir != '\0' ? dir : "/usr/share/zoneinfo";
}

bool IsRegularFile(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

}  // namespace

std::int64_t DaysFromCivil(std::int64_t year, int month, int day) {
  year -= month <= 2 ? 1 : 0;
  std::int64_t era = FloorDiv(year, 400);
  std::int64_t yoe = year - era * 400;  // [0, 399]
  std::int64_t doy = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1;
  std::int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

std::optional<PosixTzRule> ParsePosixTz(std::string_view s) {
  PosixTzRule rule;
  if (!TakeZoneName(&s)) return std::nullopt;
  int west = 0;  // POSIX offsets count hours west of Greenwich
  if (!TakeHms(&s, 24, &west)) return std::nullopt;
  rule.std_offset = -west;
  if (s.empty()) return rule;
  if (!TakeZoneName(&s)) return std::nullopt;
  rule.has_dst = true;
  rule.dst_offset = rule.std_offset + 3600;
  if (!s.empty() && s[0] != ',') {
    if (!TakeHms(&s, 24, &west)) return std::nullopt;
    rule.dst_offset = -west;
  }
  if (s.empty()) return rule;  // no rule: the C library falls back on its own default
  if (s[0] != ',') return std::nullopt;
  s.remove_prefix(1);
  if (!TakeWhen(&s, &rule.start) || s.empty() || s[0] != ',') return std::nullopt;
  s.remove_prefix(1);
  if (!TakeWhen(&s, &rule.end) || !s.empty()) return std::nullopt;
  rule.has_rule = true;
  return rule;
}

int PosixTzRule::UtcOffset(std::int64_t t) const {
  if (!has_dst || !has_rule) return std_offset;
  std::int64_t year = 0;
  int month = 0;
  int day = 0;
  CivilFromDays(FloorDiv(t + std_offset, kDay), &year, &month, &day);
  // The start is given in standard time, the end in daylight time.
  std::int64_t dst_start = RuleDay(start, year) * kDay + start.time - std_offset;
  std::int64_t dst_end = RuleDay(end, year) * kDay + end.time - dst_offset;
  if (dst_start < dst_end) return t >= dst_start && t < dst_end ? dst_offset : std_offset;
  return t >= dst_end && t < dst_start ? std_offset : dst_offset;  // southern hemisphere
}

// ---------------------------------------------------------------- TimeZone

std::shared_ptr<const TimeZone> TimeZone::Local() {
  static const std::shared_ptr<const TimeZone> zone = [] {
    std::shared_ptr<TimeZone> z(new TimeZone);
    z->process_ = true;
    const char* tz = std::getenv("TZ");
    if (tz != nullptr) {
      z->name_ = std::string("local (TZ=") + tz + ")";
    } else if (IsRegularFile("/etc/localtime")) {
      std::error_code error;
      fs::path target = fs::read_symlink("/etc/localtime", error);
      z->name_ = "local (/etc/localtime" + (error ? "" : " -> " + target.string()) + ")";
    } else {
      z->name_ = "local (UTC: no TZ, no /etc/localtime)";
    }
    return z;
  }();
  return zone;
}

std::shared_ptr<const TimeZone> TimeZone::Utc() {
  static const std::shared_ptr<const TimeZone> zone = [] {
    std::shared_ptr<TimeZone> z(new TimeZone);
    z->name_ = "UTC";
    return z;
  }();
  return zone;
}

StatusOr<std::shared_ptr<const TimeZone>> TimeZone::Process() {
  const char* env = std::getenv("TZ");
  if (env == nullptr || *env == '\0') return Local();  // /etc/localtime, or UTC without it
  std::string_view tz = env;
  if (tz[0] == ':') tz.remove_prefix(1);
  if (tz.empty() || IsUtcName(tz)) return Local();
  std::string file = tz[0] == '/' ? std::string(tz) : ZoneInfoDir() + "/" + std::string(tz);
  if (IsRegularFile(file) || ParsePosixTz(tz)) return Local();
  return NotFound("TZ=" + std::string(env) + " names no time zone here: neither " + file +
                  " exists nor is it a POSIX TZ string, and the C library would read local "
                  "time as UTC (install tzdata, set TZDIR, or mount the zone files)");
}

StatusOr<std::shared_ptr<const TimeZone>> TimeZone::Load(
    std::string_view name, const std::vector<std::string>& extra_dirs) {
  if (!IsZoneName(name)) {
    return InvalidArgument("bad time zone name '" + std::string(name) +
                           "' (an IANA name such as Europe/Berlin)");
  }
  std::vector<std::string> dirs = {ZoneInfoDir()};
  dirs.insert(dirs.end(), extra_dirs.begin(), extra_dirs.end());
  std::string looked;
  for (const auto& dir : dirs) {
    std::string path = dir + "/" + std::string(name);
    std::ifstream in(path, std::ios::binary);
    if (!in || !IsRegularFile(path)) {
      looked += (looked.empty() ? "" : ", ") + path;
      continue;
    }
    std::string data;
    constexpr std::size_t kMaxTzif = 1 << 20;  // real ones are a few KiB
    data.resize(kMaxTzif + 1);
    in.read(data.data(), static_cast<std::streamsize>(data.size()));
    data.resize(static_cast<std::size_t>(in.gcount()));
    if (data.size() > kMaxTzif) return InvalidArgument(path + ": too large for a TZif file");
    StatusOr<std::shared_ptr<const TimeZone>> zone = FromTzif(std::string(name), data);
    if (!zone.ok()) return zone.status().WithContext(path);
    return zone;
  }
  if (IsUtcName(name)) return Utc();
  return NotFound("unknown time zone '" + std::string(name) + "': no " + looked +
                  " (install tzdata, set TZDIR, or mount the zone files)");
}

StatusOr<std::shared_ptr<const TimeZone>> TimeZone::FromTzif(std::string name,
                                                             std::string_view data) {
  TzifReader r(data);
  TzifCounts c;
  if (!ReadTzifHeader(&r, &c)) return InvalidArgument("not a TZif file");
  int time_size = 4;
  if (c.version >= '2') {
    // Skip the 32-bit block: the 64-bit one after it has every transition.
    std::uint64_t v1 = std::uint64_t{c.timecnt} * 5 + std::uint64_t{c.typecnt} * 6 + c.charcnt +
                       std::uint64_t{c.leapcnt} * 8 + c.isstdcnt + c.isutcnt;
    if (!r.Skip(v1) || !ReadTzifHeader(&r, &c)) return InvalidArgument("truncated TZif file");
    time_size = 8;
  }
  if (c.typecnt == 0 || c.typecnt > 256 || c.timecnt > 100000 ||
      (c.isutcnt != 0 && c.isutcnt != c.typecnt) || (c.isstdcnt != 0 && c.isstdcnt != c.typecnt)) {
    return InvalidArgument("bad TZif counts");
  }
  if (c.leapcnt != 0) {
    return InvalidArgument("a zone with leap seconds ('right/' zones) is not supported");
  }
  std::shared_ptr<TimeZone> z(new TimeZone);
  z->name_ = std::move(name);
  z->transitions_.resize(c.timecnt);
  for (auto& t : z->transitions_) {
    if (time_size == 8) {
      if (!r.I64(&t)) return InvalidArgument("truncated TZif file");
    } else {
      std::uint32_t u = 0;
      if (!r.U32(&u)) return InvalidArgument("truncated TZif file");
      t = static_cast<std::int32_t>(u);
    }
  }
  std::string_view indices;
  if (!r.Take(c.timecnt, &indices)) return InvalidArgument("truncated TZif file");
  std::vector<int> type_offsets(c.typecnt);
  for (auto& off : type_offsets) {
    std::uint32_t u = 0;
    if (!r.U32(&u) || !r.Skip(2)) return InvalidArgument("truncated TZif file");
    off = static_cast<std::int32_t>(u);
    if (off < -25 * 3600 || off > 26 * 3600) return InvalidArgument("bad TZif UTC offset");
  }
  if (!r.Skip(std::uint64_t{c.charcnt} + c.isstdcnt + c.isutcnt)) {
    return InvalidArgument("truncated TZif file");
  }
  for (std::size_t i = 0; i < c.timecnt; ++i) {
    auto type = static_cast<unsigned char>(indices[i]);
    if (type >= c.typecnt) return InvalidArgument("bad TZif type index");
    if (i > 0 && z->transitions_[i] <= z->transitions_[i - 1]) {
      return InvalidArgument("TZif transitions out of order");
    }
    z->offsets_.push_back(type_offsets[type]);
  }
  z->initial_offset_ = type_offsets[0];
  if (time_size == 8) {
    // Footer: "\n" POSIX-TZ-string "\n" (empty: the last transition's type stays).
    std::string_view rest = r.rest();
    if (rest.size() < 2 || rest[0] != '\n') return InvalidArgument("TZif footer missing");
    std::size_t end = rest.find('\n', 1);
    if (end == std::string_view::npos) return InvalidArgument("TZif footer missing");
    std::string_view spec = rest.substr(1, end - 1);
    if (!spec.empty()) {
      z->rule_ = ParsePosixTz(spec);
      if (!z->rule_) return InvalidArgument("bad TZif footer '" + std::string(spec) + "'");
    }
  }
  return std::shared_ptr<const TimeZone>(std::move(z));
}

int TimeZone::UtcOffset(std::int64_t t) const {
  if (process_) {
    auto tt = static_cast<std::time_t>(t);
    std::tm tm{};
    if (localtime_r(&tt, &tm) == nullptr) return 0;
    return static_cast<int>(tm.tm_gmtoff);
  }
  if (transitions_.empty() || t >= transitions_.back()) {
    if (rule_) return rule_->UtcOffset(t);
    return offsets_.empty() ? initial_offset_ : offsets_.back();
  }
  auto it = std::upper_bound(transitions_.begin(), transitions_.end(), t);
  if (it == transitions_.begin()) return initial_offset_;
  return offsets_[static_cast<std::size_t>(std::distance(transitions_.begin(), it) - 1)];
}

CivilTime TimeZone::ToCivil(std::int64_t t) const {
  CivilTime c;
  c.utc_offset = UtcOffset(t);
  std::int64_t local = t + c.utc_offset;
  std::int64_t days = FloorDiv(local, kDay);
  std::int64_t secs = local - days * kDay;
  std::int64_t year = 0;
  CivilFromDays(days, &year, &c.month, &c.day);
  c.year = static_cast<int>(year);
  c.hour = static_cast<int>(secs / 3600);
  c.minute = static_cast<int>(secs / 60 % 60);
  c.second = static_cast<int>(secs % 60);
  return c;
}

TimeZone::Instants TimeZone::FromLocal(std::int64_t u) const {
  // Offsets a day before and after cover every instant that can show `u` (|offset| < 26h):
  // with at most one transition in between, each is valid when the zone has it at u - offset.
  int before = UtcOffset(u - kDay);
  int after = UtcOffset(u + kDay);
  if (before == after) return {1, u - before, u - before};
  std::int64_t t1 = u - before;
  std::int64_t t2 = u - after;
  bool ok1 = UtcOffset(t1) == before;
  bool ok2 = UtcOffset(t2) == after;
  if (ok1 && ok2) return {2, std::min(t1, t2), std::max(t1, t2)};
  if (ok1) return {1, t1, t1};
  if (ok2) return {1, t2, t2};
  // Skipped: the clocks jumped from `before` to `after` between t2 and t1. Find the instant.
  std::int64_t lo = std::min(t1, t2);  // shows the offset before
  std::int64_t hi = std::max(t1, t2);
  while (hi - lo > 1) {
    std::int64_t mid = lo + (hi - lo) / 2;
    (UtcOffset(mid) == before ? lo : hi) = mid;
  }
  return {0, hi, t1};
}

// ---------------------------------------------------------------- CivilTimeConverter

CivilTimeConverter::CivilTimeConverter(std::shared_ptr<const TimeZone> zone)
    : zone_(zone ? std::move(zone) : TimeZone::Local()) {
  SetReferenceTime(0);
}

void CivilTimeConverter::SetReferenceTime(std::int64_t unix_seconds) {
  if (unix_seconds == reference_ && yearless_key_ != -2) return;
  yearless_key_ = -1;
  reference_ = unix_seconds;
  CivilTime c = zone_->ToCivil(unix_seconds);
  reference_year_ = c.year;
  reference_local_ = unix_seconds + c.utc_offset;
}

std::int64_t CivilTimeConverter::Choose(const TimeZone::Instants& at) const {
  if (at.count != 2) return at.later;  // a gap: the offset before the jump
  constexpr std::int64_t kSlack = 60;  // a line stamped a little ahead of the reference
  if (!have_last_) return at.later <= reference_ + kSlack ? at.later : at.earlier;
  return last_ - at.earlier <= at.later - last_ ? at.earlier : at.later;
}

void CivilTimeConverter::FillHour(int year, int month, int day, int hour) {
  std::int64_t u = CivilSeconds(year, month, day, hour, 0, 0);
  TimeZone::Instants first = zone_->FromLocal(u);
  TimeZone::Instants last = zone_->FromLocal(u + 3599);
  cached_uniform_ = first.count == 1 && last.count == 1 && last.earlier - first.earlier == 3599;
  cached_hour_start_ = first.earlier;
}

std::int64_t CivilTimeConverter::ToUnix(int year, int month, int day, int hour, int minute,
                                        int second, bool has_offset, int offset_seconds) {
  std::int64_t t = 0;
  if (has_offset) {
    t = CivilSeconds(year, month, day, hour, minute, second) - offset_seconds;
  } else {
    std::int64_t key = static_cast<std::int64_t>(year) * 1000000 + month * 10000 + day * 100 + hour;
    if (key != cached_key_) {
      FillHour(year, month, day, hour);
      cached_key_ = key;
    }
    if (cached_uniform_) {
      t = cached_hour_start_ + minute * 60 + second;
    } else {  // the hour of a transition
      t = Choose(zone_->FromLocal(CivilSeconds(year, month, day, hour, minute, second)));
    }
  }
  last_ = t;
  have_last_ = true;
  return t;
}

std::int64_t CivilTimeConverter::ToUnixYearless(int month, int day, int hour, int minute,
                                                int second) {
  // Decided per hour (cached: a log's lines share it), by the hour's start.
  int key = month * 10000 + day * 100 + hour;
  if (key != yearless_key_) {
    yearless_key_ = key;
    yearless_year_ = reference_year_;
    if (CivilSeconds(reference_year_, month, day, hour, 0, 0) > reference_local_ + 7 * kDay) {
      --yearless_year_;
    }
  }
  return ToUnix(yearless_year_, month, day, hour, minute, second, false, 0);
}

}  // namespace mailrelay
