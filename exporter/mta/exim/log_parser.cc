#include "mta/exim/log_parser.h"

#include <cstring>
#include <iterator>
#include <string>
#include <utility>
#include <vector>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "common/text.h"
#include "events/reject_text.h"

namespace mailrelay {

namespace {

constexpr bool IsDigit(char c) { return c >= '0' && c <= '9'; }
constexpr bool IsAlnum(char c) {
  return IsDigit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

// Inlined at every call (a literal prefix becomes a few compares, not a memcmp call).
[[gnu::always_inline]] inline bool StartsWith(std::string_view s, std::string_view p) {
  return s.starts_with(p);
}

// First ' ' or '"' in [p, end), or end. 16 bytes at a time with SSE2 (every x86-64 CPU).
const char* FindSpaceOrQuote(const char* p, const char* end) {
#if defined(__SSE2__)
  const __m128i space = _mm_set1_epi8(' ');
  const __m128i quote = _mm_set1_epi8('"');
  while (end - p >= 16) {
    __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    int mask = _mm_movemask_epi8(_mm_or_si128(_mm_cmpeq_epi8(v, space), _mm_cmpeq_epi8(v, quote)));
    if (mask != 0) return p + __builtin_ctz(static_cast<unsigned>(mask));
    p += 16;
  }
#endif
  while (p < end && *p != ' ' && *p != '"') ++p;
  return p;
}

// First '"' or '\\' in [p, end), or end.
const char* FindQuoteOrBackslash(const char* p, const char* end) {
#if defined(__SSE2__)
  const __m128i quote = _mm_set1_epi8('"');
  const __m128i backslash = _mm_set1_epi8('\\');
  while (end - p >= 16) {
    __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    int mask =
        _mm_movemask_epi8(_mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, backslash)));
    if (mask != 0) return p + __builtin_ctz(static_cast<unsigned>(mask));
    p += 16;
  }
#endif
  while (p < end && *p != '"' && *p != '\\') ++p;
  return p;
}

// Token scanner over space-separated fields; a '"' opens a quoted run (with \-escapes) that may
// contain spaces, as in T="a subject". Peek() keeps the token it found for the next Next().
class Tokens {
 public:
  explicit Tokens(std::string_view s) : s_(s) {}
  bool Next(std::string_view* tok) {
    if (peeked_) {
      peeked_ = false;
      pos_ = peek_end_;
      *tok = peek_tok_;
      return peek_ok_;
    }
    return Scan(tok);
  }
  bool Peek(std::string_view* tok) {
    if (!peeked_) {
      std::size_t saved = pos_;
      peek_ok_ = Scan(&peek_tok_);
      peek_end_ = pos_;
      pos_ = saved;
      peeked_ = true;
    }
    *tok = peek_tok_;
    return peek_ok_;
  }
  // The text after the last token returned by Next() (a pending Peek() does not count).
  std::string_view Rest() const { return pos_ < s_.size() ? s_.substr(pos_) : std::string_view(); }

 private:
  bool Scan(std::string_view* tok) {
    const std::size_t n = s_.size();
    while (pos_ < n && s_[pos_] == ' ') ++pos_;
    if (pos_ >= n) return false;
    std::size_t start = pos_;
    const char* base = s_.data();
    while (pos_ < n) {
      pos_ = static_cast<std::size_t>(FindSpaceOrQuote(base + pos_, base + n) - base);
      if (pos_ >= n || s_[pos_] == ' ') break;
      // A quoted run: up to the closing quote, skipping \-escaped characters.
      ++pos_;
      while (pos_ < n) {
        pos_ = static_cast<std::size_t>(FindQuoteOrBackslash(base + pos_, base + n) - base);
        if (pos_ >= n || s_[pos_] == '"') break;
        pos_ += 2;  // the backslash and the character it escapes
      }
      if (pos_ < n) ++pos_;
    }
    if (pos_ > n) pos_ = n;
    *tok = s_.substr(start, pos_ - start);
    return true;
  }

  std::string_view s_;
  std::size_t pos_ = 0;
  bool peeked_ = false;
  bool peek_ok_ = false;
  std::string_view peek_tok_;
  std::size_t peek_end_ = 0;
};

// "KEY=value" with KEY = [A-Za-z][A-Za-z0-9]*\*? ; returns false for other tokens.
bool SplitField(std::string_view tok, std::string_view* key, std::string_view* value) {
  if (tok.empty() || !((tok[0] >= 'a' && tok[0] <= 'z') || (tok[0] >= 'A' && tok[0] <= 'Z'))) {
    return false;
  }
  std::size_t i = 1;
  while (i < tok.size() && IsAlnum(tok[i])) ++i;
  if (i < tok.size() && tok[i] == '*') ++i;
  if (i >= tok.size() || tok[i] != '=') return false;
  *key = tok.substr(0, i);
  *value = tok.substr(i + 1);
  return true;
}

// "[1.2.3.4]:25" or "[1.2.3.4]" -> "1.2.3.4"; empty when the token is not bracketed.
std::string_view BracketAddress(std::string_view tok) {
  if (tok.empty() || tok.front() != '[') return {};
  auto close = tok.find(']');
  if (close == std::string_view::npos) return {};
  return tok.substr(1, close - 1);
}

std::string_view StripAngles(std::string_view s) {
  if (s.size() >= 2 && s.front() == '<' && s.back() == '>') return s.substr(1, s.size() - 2);
  return s;
}

// Consumes the continuation of an H= value ("name (helo) [ip]:port") and returns the last
// bracketed address. `first` is the value right after "H=".
std::string_view ParseHostValue(std::string_view first, Tokens* toks) {
  std::string_view ip = BracketAddress(first);
  bool in_paren = !first.empty() && first.front() == '(' && first.back() != ')';
  std::string_view tok;
  while (toks->Peek(&tok)) {
    if (in_paren) {
      toks->Next(&tok);
      if (tok.back() == ')') in_paren = false;
      continue;
    }
    if (tok.front() == '(') {
      toks->Next(&tok);
      if (tok.back() != ')') in_paren = true;
      continue;
    }
    if (tok.front() == '[') {
      toks->Next(&tok);
      if (auto a = BracketAddress(tok); !a.empty()) ip = a;
      continue;
    }
    break;
  }
  return ip;
}

void ParseArrival(std::string_view rest, Event* ev) {
  ev->type = EventType::kArrival;
  Tokens toks(rest);
  std::string_view tok;
  if (!toks.Next(&tok)) return;
  if (tok == "<>") {
    ev->null_sender = true;
  } else {
    ev->sender = StripAngles(tok);
  }
  bool has_ref = false;
  bool has_auth_field = false;
  while (toks.Next(&tok)) {
    if (tok == "for") {
      // Count the addresses: runs of non-spaces, unless a quote may join words into one.
      std::string_view list = toks.Rest();
      std::uint32_t n = 0;
      if (list.find('"') == std::string_view::npos) {
        char prev = ' ';
        for (char c : list) {
          n += static_cast<std::uint32_t>(c != ' ' && prev == ' ');
          prev = c;
        }
      } else {
        while (toks.Next(&tok)) ++n;
      }
      if (n > 0) ev->recipients = n;
      break;
    }
    if (tok == "from") {
      toks.Next(&tok);  // the raw sender, <...>
      continue;
    }
    std::string_view key;
    std::string_view value;
    if (!SplitField(tok, &key, &value)) continue;
    if (key.size() == 1) {
      switch (key[0]) {
        case 'H':
          ev->client_ip = ParseHostValue(value, &toks);
          break;
        case 'U':
          ev->local_user = value;
          break;
        case 'P':
          ev->protocol = value;
          break;
        case 'A': {
          has_auth_field = true;
          auto colon = value.find(':');
          ev->authenticator = value.substr(0, colon);
          if (colon != std::string_view::npos) {
            std::string_view id = value.substr(colon + 1);
            // With +smtp_mailauth a third part carries the AUTH= sender: name:id:<sender>.
            if (auto c2 = id.find(":<"); c2 != std::string_view::npos) id = id.substr(0, c2);
            ev->auth_id = id;
          }
          break;
        }
        case 'S': {
          std::uint64_t size = 0;
          if (ParseUint64(value, &size)) ev->size_bytes = size;
          break;
        }
        case 'R':
          has_ref = true;
          break;
        default:
          break;
      }
    }
  }
  const std::string_view p = ev->protocol;
  ev->local_submission = ev->client_ip.empty() && StartsWith(p, "local");
  bool proto_auth = !p.empty() && p.back() == 'a' && !StartsWith(p, "local");
  ev->authenticated = has_auth_field || proto_auth;
  ev->locally_generated_bounce = ev->null_sender && has_ref;
}

void ParseAuthFailure(std::string_view text, std::size_t name_end, Event* ev) {
  // "<name> authenticator failed for <host>: 535 Incorrect authentication data (set_id=<id>)"
  auto code = text.find(": 535");
  if (code == std::string_view::npos) return;  // 435/501...: not a password guess (like lfd)
  ev->type = EventType::kAuthFailure;
  ev->authenticator = text.substr(0, name_end);
  std::string_view host = text.substr(0, code);
  // The client is the last [ip] before the local-interface/ident/connection-id fields.
  for (std::string_view stop : {" I=", " U=", " Ci="}) {
    if (auto cut = host.find(stop, name_end); cut != std::string_view::npos) {
      host = host.substr(0, cut);
    }
  }
  auto open = host.rfind('[');
  if (open != std::string_view::npos) {
    auto close = host.find(']', open);
    if (close != std::string_view::npos) ev->client_ip = host.substr(open + 1, close - open - 1);
  }
  auto set_id = text.find("(set_id=", code);
  if (set_id != std::string_view::npos) {
    std::string_view id = text.substr(set_id + 8);
    auto close = id.rfind(')');
    ev->auth_id = close == std::string_view::npos ? id : id.substr(0, close);
  }
}

void ParseReject(std::string_view text, std::size_t rejected_at, Event* ev) {
  ev->type = EventType::kReject;
  std::string_view before = text.substr(0, rejected_at);
  if (auto h = before.find("H="); h != std::string_view::npos) {
    Tokens toks(before.substr(h + 2));
    std::string_view first;
    if (toks.Next(&first)) ev->client_ip = ParseHostValue(first, &toks);
  }
  std::string_view after = text.substr(rejected_at);
  if (ev->client_ip.empty()) {
    if (auto h = after.find("H="); h != std::string_view::npos) {
      Tokens toks(after.substr(h + 2));
      std::string_view first;
      if (toks.Next(&first)) ev->client_ip = ParseHostValue(first, &toks);
    }
  }
  // The reason follows the first ": " (after "RCPT <addr>", "after DATA" ...).
  auto colon = after.find(": ");
  std::string_view reason = colon == std::string_view::npos ? after : after.substr(colon + 2);
  ev->reject_text = reason;
  ev->reject_reason = ClassifyRejectText(reason);
  if (ev->reject_reason == RejectReason::kOther &&
      (StartsWith(after, "rejected EHLO or HELO") ||
       StartsWith(text, "SMTP protocol synchronization error") ||
       StartsWith(text, "SMTP syntax error"))) {
    ev->reject_reason = RejectReason::kSyntax;
  }
}

// Does `text` contain `needle` (at least 2 bytes)? memmem: faster than string_view::find,
// which stops at every occurrence of the first byte (a space, in most needles here).
bool Contains(std::string_view text, std::string_view needle) {
  return ::memmem(text.data(), text.size(), needle.data(), needle.size()) != nullptr;
}

// "retry time not reached", " defer (-52)", " defer (-53)" or " defer (-54)" anywhere.
bool IsRetryWait(std::string_view rest) {
  if (Contains(rest, "retry time not reached")) return true;
  const char* p = rest.data();
  const char* end = p + rest.size();
  static constexpr std::string_view kDefer = " defer (-5";
  while (const void* hit =
             ::memmem(p, static_cast<std::size_t>(end - p), kDefer.data(), kDefer.size())) {
    const char* after = static_cast<const char*>(hit) + kDefer.size();
    if (end - after >= 2 && after[0] >= '2' && after[0] <= '4' && after[1] == ')') return true;
    p = static_cast<const char*>(hit) + 1;
  }
  return false;
}

// " rejected after " or " rejected by " anywhere.
bool HasRejectedAfterOrBy(std::string_view text) {
  const char* p = text.data();
  const char* end = p + text.size();
  static constexpr std::string_view kRejected = " rejected ";
  while (const void* hit =
             ::memmem(p, static_cast<std::size_t>(end - p), kRejected.data(), kRejected.size())) {
    std::string_view after(
        static_cast<const char*>(hit) + kRejected.size(),
        static_cast<std::size_t>(end - static_cast<const char*>(hit)) - kRejected.size());
    if (StartsWith(after, "after ") || StartsWith(after, "by ")) return true;
    p = static_cast<const char*>(hit) + 1;
  }
  return false;
}

// Finds the word "rejected" as a field of its own; npos if absent.
std::size_t FindRejected(std::string_view text) {
  if (StartsWith(text, "rejected ")) return 0;
  static constexpr std::string_view kRejected = " rejected";
  std::size_t pos = 0;
  while (const void* hit =
             ::memmem(text.data() + pos, text.size() - pos, kRejected.data(), kRejected.size())) {
    pos = static_cast<std::size_t>(static_cast<const char*>(hit) - text.data());
    std::size_t end = pos + kRejected.size();
    if (end == text.size() || text[end] == ' ' || text[end] == ':') return pos + 1;
    pos = end;
  }
  return std::string_view::npos;
}

// "host exim[pid]: " or "host exim4: " (a syslog template without time, or one written after
// Exim's own timestamp). Returns the length to skip, 0 when absent.
std::size_t HostTagPrefix(std::string_view s) {
  auto sp = s.find(' ');
  if (sp == std::string_view::npos || sp == 0 || sp > 255) return 0;
  std::string_view tag = s.substr(sp + 1);
  if (!StartsWith(tag, "exim")) return 0;
  std::size_t i = 4;
  while (i < tag.size() && (IsAlnum(tag[i]) || tag[i] == '-' || tag[i] == '_')) ++i;
  if (i < tag.size() && tag[i] == '[') {
    ++i;
    while (i < tag.size() && IsDigit(tag[i])) ++i;
    if (i >= tag.size() || tag[i] != ']') return 0;
    ++i;
  }
  if (tag.substr(i, 2) != ": ") return 0;
  return sp + 1 + i + 2;
}

}  // namespace

bool IsEximMessageId(std::string_view s) {
  auto alnum_run = [&](std::size_t pos, std::size_t n) {
    for (std::size_t i = pos; i < pos + n; ++i) {
      if (!IsAlnum(s[i])) return false;
    }
    return true;
  };
  if (s.size() == 16) {
    return alnum_run(0, 6) && s[6] == '-' && alnum_run(7, 6) && s[13] == '-' && alnum_run(14, 2);
  }
  if (s.size() == 23) {
    return alnum_run(0, 6) && s[6] == '-' && alnum_run(7, 11) && s[18] == '-' && alnum_run(19, 4);
  }
  return false;
}

EximLogParser::EximLogParser(std::int64_t reference_time, std::shared_ptr<const TimeZone> zone)
    : time_(std::move(zone)) {
  SetReferenceTime(reference_time);
}

void EximLogParser::SetReferenceTime(std::int64_t unix_seconds) {
  time_.SetReferenceTime(unix_seconds);
}

std::size_t EximLogParser::ParseEximTimestamp(std::string_view s, std::int64_t* ts) {
  // YYYY-MM-DD HH:MM:SS
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, se = 0;
  if (s.size() < 20 || !ParseFixedDigits(s, 0, 4, &y) || s[4] != '-' ||
      !ParseFixedDigits(s, 5, 2, &mo) || s[7] != '-' || !ParseFixedDigits(s, 8, 2, &d) ||
      s[10] != ' ' || !ParseFixedDigits(s, 11, 2, &h) || s[13] != ':' ||
      !ParseFixedDigits(s, 14, 2, &mi) || s[16] != ':' || !ParseFixedDigits(s, 17, 2, &se)) {
    return 0;
  }
  std::size_t pos = 19;
  if (pos < s.size() && s[pos] == '.') {  // +millisec
    ++pos;
    while (pos < s.size() && IsDigit(s[pos])) ++pos;
  }
  bool has_offset = false;
  int offset = 0;
  if (pos + 6 <= s.size() && s[pos] == ' ' && (s[pos + 1] == '+' || s[pos + 1] == '-')) {
    int hh = 0, mm = 0;
    if (ParseFixedDigits(s, pos + 2, 2, &hh) && ParseFixedDigits(s, pos + 4, 2, &mm) &&
        (pos + 6 == s.size() || s[pos + 6] == ' ')) {
      has_offset = true;
      offset = (hh * 3600 + mm * 60) * (s[pos + 1] == '-' ? -1 : 1);
      pos += 6;
    }
  }
  if (pos >= s.size() || s[pos] != ' ') return 0;
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 60) return 0;
  *ts = time_.ToUnix(y, mo, d, h, mi, se, has_offset, offset);
  return pos + 1;
}

std::size_t EximLogParser::ParseSyslogHeader(std::string_view s, std::int64_t* ts) {
  static constexpr std::string_view kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                 "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  std::size_t pos = 0;
  if (s.size() > 16 && s[3] == ' ') {
    // BSD: "Mmm dd HH:MM:SS " (day space-padded)
    int month = 0;
    for (int i = 0; i < 12; ++i) {
      if (s.substr(0, 3) == kMonths[i]) month = i + 1;
    }
    int d = 0, h = 0, mi = 0, se = 0;
    bool day_ok = (s[4] == ' ' && ParseFixedDigits(s, 5, 1, &d)) || ParseFixedDigits(s, 4, 2, &d);
    if (month == 0 || !day_ok || s[6] != ' ' || !ParseFixedDigits(s, 7, 2, &h) || s[9] != ':' ||
        !ParseFixedDigits(s, 10, 2, &mi) || s[12] != ':' || !ParseFixedDigits(s, 13, 2, &se) ||
        s[15] != ' ') {
      return 0;
    }
    *ts = time_.ToUnixYearless(month, d, h, mi, se);
    pos = 16;
  } else {
    // RFC 3339: "YYYY-MM-DDTHH:MM:SS[.frac](Z|+hh:mm) "
    Rfc3339Fields f;
    pos = ParseRfc3339Prefix(s, &f);
    if (pos == 0 || pos >= s.size() || s[pos] != ' ') return 0;
    ++pos;
    if (f.month < 1 || f.month > 12 || f.day < 1 || f.day > 31) return 0;
    *ts = time_.ToUnix(f.year, f.month, f.day, f.hour, f.minute, f.second, true, f.offset_seconds);
  }
  // host
  auto sp = s.find(' ', pos);
  if (sp == std::string_view::npos) return 0;
  pos = sp + 1;
  // tag: exim[pid]: / exim4[pid]: / exim:
  std::string_view tag = s.substr(pos);
  if (!StartsWith(tag, "exim")) return 0;
  auto colon = tag.find(": ");
  if (colon == std::string_view::npos || colon > 40) return 0;
  return pos + colon + 2;
}

ParseStatus EximLogParser::Parse(std::string_view line, Event* event) {
  *event = Event{};
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  if (line.empty()) return ParseStatus::kOk;
  if (line[0] == ' ' || line[0] == '\t') return ParseStatus::kOk;  // continuation of an entry

  std::int64_t ts = 0;
  std::size_t pos = ParseEximTimestamp(line, &ts);
  if (pos != 0) {
    pos += HostTagPrefix(line.substr(pos));  // "2016-04-01 11:08:00 info exim[8003]: ..."
  } else if (std::size_t tag = HostTagPrefix(line); tag != 0) {
    pos = tag;  // "mail.example.com exim[3751842]: 2021-07-17 23:20:49 ..."
    std::int64_t inner = 0;
    if (std::size_t p2 = ParseEximTimestamp(line.substr(pos), &inner); p2 != 0) {
      pos += p2;
      ts = inner;
    }
  } else {
    pos = ParseSyslogHeader(line, &ts);
    if (pos == 0) return ParseStatus::kUnparsed;
    std::string_view rest = line.substr(pos);
    // syslog splits long lines: "[1/3] ..." carries the start, later pieces add nothing we use.
    if (rest.size() > 4 && rest[0] == '[' && IsDigit(rest[1])) {
      auto close = rest.find("] ");
      auto slash = rest.find_first_of("/\\");
      if (close != std::string_view::npos && slash != std::string_view::npos && slash < close) {
        if (rest.substr(1, slash - 1) != "1") {
          event->timestamp = ts;
          return ParseStatus::kOk;
        }
        pos += close + 2;
      }
    }
    std::int64_t inner = 0;
    if (std::size_t p2 = ParseEximTimestamp(line.substr(pos), &inner); p2 != 0) {
      pos += p2;
      ts = inner;
    }
  }
  event->timestamp = ts;
  std::string_view text = line.substr(pos);
  // [pid]
  if (!text.empty() && text[0] == '[') {
    auto close = text.find("] ");
    if (close != std::string_view::npos && close > 1 && close < 12) {
      bool digits = true;
      for (std::size_t i = 1; i < close; ++i) digits = digits && IsDigit(text[i]);
      if (digits) text.remove_prefix(close + 2);
    }
  }
  return ParseText(text, event);
}

ParseStatus EximLogParser::ParseText(std::string_view text, Event* ev) {
  std::string_view id;
  for (std::size_t len : {std::size_t{16}, std::size_t{23}}) {
    if (text.size() > len && text[len] == ' ' && IsEximMessageId(text.substr(0, len))) {
      id = text.substr(0, len);
      text.remove_prefix(len + 1);
      break;
    }
  }
  ev->message_id = id;

  if (!id.empty() && text.size() >= 3 && text[2] == ' ') {
    std::string_view flag = text.substr(0, 2);
    std::string_view rest = text.substr(3);
    if (flag == "<=") {
      ParseArrival(rest, ev);
      return ParseStatus::kOk;
    }
    if (flag == "=>" || flag == "->" || flag == ">>") {
      ev->type = EventType::kDelivery;
      ev->delivery = DeliveryResult::kDelivered;
      return ParseStatus::kOk;
    }
    if (flag == "**") {
      ev->type = EventType::kDelivery;
      ev->delivery = DeliveryResult::kFailed;
      return ParseStatus::kOk;
    }
    if (flag == "==") {
      ev->type = EventType::kDelivery;
      bool retry_wait = IsRetryWait(rest);
      ev->delivery = retry_wait ? DeliveryResult::kDeferredRetryWait : DeliveryResult::kDeferred;
      return ParseStatus::kOk;
    }
    if (flag == "(=" || flag == "*>") return ParseStatus::kOk;
  }
  if (!id.empty()) {
    if (StartsWith(text, "Completed")) {
      ev->type = EventType::kCompleted;
      return ParseStatus::kOk;
    }
    if (StartsWith(text, "Frozen") || StartsWith(text, "frozen by")) {
      ev->type = EventType::kFrozen;
      return ParseStatus::kOk;
    }
  }
  // "<name> authenticator failed for ..."
  if (auto sp = text.find(' '); sp != std::string_view::npos && sp > 0 &&
                                text.substr(sp, 26) == " authenticator failed for ") {
    ParseAuthFailure(text, sp, ev);
    return ParseStatus::kOk;
  }
  if (StartsWith(text, "SMTP call from ") &&
      text.find("dropped: too many") != std::string_view::npos) {
    ev->type = EventType::kReject;
    std::string_view host = text.substr(15);
    auto open = host.find('[');
    if (open != std::string_view::npos) {
      auto close = host.find(']', open);
      if (close != std::string_view::npos) ev->client_ip = host.substr(open + 1, close - open - 1);
    }
    bool syntax = text.find("syntax") != std::string_view::npos ||
                  text.find("unrecognized commands") != std::string_view::npos;
    ev->reject_reason = syntax ? RejectReason::kSyntax : RejectReason::kOther;
    return ParseStatus::kOk;
  }
  // "SMTP protocol error in "AUTH LOGIN" H=... AUTH command used when not advertised": a
  // command refused for protocol abuse (lfd's LF_EXIMSYNTAX counts these).
  if (id.empty() &&
      (StartsWith(text, "SMTP protocol error in ") || StartsWith(text, "SMTP syntax error in "))) {
    ev->type = EventType::kReject;
    ev->reject_reason = RejectReason::kSyntax;
    if (auto h = text.find(" H="); h != std::string_view::npos) {
      Tokens toks(text.substr(h + 3));
      std::string_view first;
      if (toks.Next(&first)) ev->client_ip = ParseHostValue(first, &toks);
    }
    return ParseStatus::kOk;
  }
  // "H=[192.0.2.101]:62839 dropped by 'connect' ACL: Country is banned" (the ACL drop verb).
  if (id.empty() && StartsWith(text, "H=")) {
    if (auto d = text.find(" dropped by "); d != std::string_view::npos) {
      ParseReject(text, d + 1, ev);
      return ParseStatus::kOk;
    }
  }
  // With a message id, only SMTP-input rejections ("rejected after DATA", "rejected by
  // local_scan()") count; "SMTP error from remote mail server ..." is the far end refusing us.
  if (!id.empty() && (StartsWith(text, "SMTP error") || StartsWith(text, "H="))) {
    if (!HasRejectedAfterOrBy(text)) {
      return ParseStatus::kOk;
    }
  }
  if (std::size_t r = FindRejected(text); r != std::string_view::npos) {
    ParseReject(text, r, ev);
    return ParseStatus::kOk;
  }
  return ParseStatus::kOk;
}

}  // namespace mailrelay
