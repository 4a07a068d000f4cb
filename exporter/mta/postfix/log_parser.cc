#include "mta/postfix/log_parser.h"

#include <utility>

#include "common/text.h"
#include "events/reject_text.h"

namespace mailrelay {

namespace {

constexpr bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// Inlined at every call (a literal prefix becomes a few compares, not a memcmp call).
[[gnu::always_inline]] inline bool StartsWith(std::string_view s, std::string_view p) {
  return s.starts_with(p);
}

// Removes `p` from the front of *s when it is there.
bool Consume(std::string_view* s, std::string_view p) {
  if (!StartsWith(*s, p)) return false;
  s->remove_prefix(p.size());
  return true;
}

// The address inside the first [...] of `namaddr` ("name[ip]", "name[ip]:port", "[ip]:port").
std::string_view BracketIp(std::string_view namaddr) {
  auto open = namaddr.find('[');
  if (open == std::string_view::npos) return {};
  auto close = namaddr.find(']', open);
  if (close == std::string_view::npos) return {};
  return namaddr.substr(open + 1, close - open - 1);
}

// "<addr>" -> addr (also tolerates a missing closing '>').
std::string_view AngleValue(std::string_view s, std::size_t* consumed) {
  if (s.empty() || s[0] != '<') {
    *consumed = 0;
    return {};
  }
  auto close = s.find('>');
  if (close == std::string_view::npos) {
    *consumed = s.size();
    return s.substr(1);
  }
  *consumed = close + 1;
  return s.substr(1, close - 1);
}

// Leading unsigned decimal of `s`; false when there is none.
template <typename T>
bool LeadingNumber(std::string_view s, T* out) {
  std::size_t n = 0;
  while (n < s.size() && n < 19 && IsDigit(s[n])) ++n;
  std::uint64_t v = 0;
  if (n == 0 || !ParseUint64(s.substr(0, n), &v)) return false;
  *out = static_cast<T>(v);
  return true;
}

// The reply text of a reject line ends where Postfix's envelope trailer starts.
std::string_view CutTrailer(std::string_view text) {
  std::size_t end = text.size();
  for (std::string_view t : {"; from=<", "; to=<", "; proto="}) {
    auto p = text.find(t);
    if (p != std::string_view::npos && p < end) end = p;
  }
  return text.substr(0, end);
}

RejectReason ClassifyPostfixReject(std::string_view text) {
  RejectReason r = ClassifyRejectText(text);
  // Postfix's HELO restrictions are the analogue of Exim's "rejected EHLO or HELO" (syntax).
  if (r == RejectReason::kOther && ContainsIgnoreCase(text, "Helo command rejected")) {
    r = RejectReason::kSyntax;
  }
  return r;
}

// `rest` follows "reject: " / "milter-reject: ": "<STAGE> from <namaddr>: <reply>; from=<...>".
// Returns false when the line is not in that shape.
bool ParseStageReject(std::string_view rest, PostfixRecord* r) {
  auto from = rest.find(" from ");
  if (from == std::string_view::npos || from == 0 || from > 20) return false;
  std::string_view stage = rest.substr(0, from);
  std::string_view after = rest.substr(from + 6);
  // namaddr ends at the first ']' (IPv6 addresses contain ':'), then an optional ":port".
  auto close = after.find(']');
  auto sep = after.find(": ", close == std::string_view::npos ? 0 : close);
  if (sep == std::string_view::npos) return false;
  r->client_ip = BracketIp(after.substr(0, sep));
  r->reject_text = CutTrailer(after.substr(sep + 2));
  r->reject_reason = ClassifyPostfixReject(r->reject_text);
  r->message_rejected =
      !r->queue_id.empty() && (stage == "DATA" || stage == "BDAT" || stage == "END-OF-MESSAGE");
  r->kind = PostfixKind::kReject;
  return true;
}

// cleanup header/body checks: "reject: header Subject: x from name[ip]; from=<s> to=<r>
// proto=ESMTP helo=<h>: 5.7.1 text" (the "from" part is "from local" for non-SMTP mail).
void ParseContentReject(std::string_view rest, PostfixRecord* r) {
  r->kind = PostfixKind::kReject;
  r->message_rejected = !r->queue_id.empty();
  std::string_view reason;
  auto trailer = rest.find("; from=<");
  if (trailer != std::string_view::npos) {
    std::string_view before = rest.substr(0, trailer);
    auto from = before.rfind(" from ");
    if (from != std::string_view::npos) r->client_ip = BracketIp(before.substr(from + 6));
    std::string_view tail = rest.substr(trailer);
    auto colon = tail.rfind(">: ");
    if (colon != std::string_view::npos) reason = tail.substr(colon + 3);
  }
  r->reject_text = reason;
  r->reject_reason = ClassifyPostfixReject(reason);
}

// "name[ip][:port]: SASL MECH authentication failed: reason[, sasl_username=user]"
void ParseSaslFailure(std::string_view rest, PostfixRecord* r) {
  auto sasl = rest.find(": SASL ");
  if (sasl == std::string_view::npos) return;
  std::string_view namaddr = rest.substr(0, sasl);
  if (namaddr.find('[') == std::string_view::npos) return;
  std::string_view tail = rest.substr(sasl + 7);
  auto failed = tail.find(" authentication failed");
  if (failed == std::string_view::npos || failed == 0 || failed > 40) return;
  std::string_view mech = tail.substr(0, failed);
  std::string_view reason = tail.substr(failed + 22);
  Consume(&reason, ":");
  Consume(&reason, " ");
  // Not password guesses: the SASL back end is down, or the client asked for a mechanism
  // that is not offered (fail2ban's postfix filter makes the same cut).
  if (StartsWith(reason, "Connection lost to authentication server") ||
      StartsWith(reason, "Invalid authentication mechanism")) {
    return;
  }
  r->kind = PostfixKind::kAuthFailure;
  r->client_ip = BracketIp(namaddr);
  r->sasl_method = mech;
  if (auto u = reason.rfind(", sasl_username="); u != std::string_view::npos) {
    r->sasl_username = reason.substr(u + 16);
  }
}

// "client=name[ip][:port][, sasl_method=M][, sasl_username=U][, sasl_sender=S]
//  [, orig_queue_id=Q][, orig_client=C]"
void ParseClient(std::string_view rest, PostfixRecord* r) {
  r->kind = PostfixKind::kClient;
  auto comma = rest.find(", ");
  r->client_ip = BracketIp(rest.substr(0, comma));
  while (comma != std::string_view::npos) {
    rest.remove_prefix(comma + 2);
    comma = rest.find(", ");
    std::string_view field = rest.substr(0, comma);
    auto eq = field.find('=');
    if (eq == std::string_view::npos) continue;
    std::string_view key = field.substr(0, eq);
    std::string_view value = field.substr(eq + 1);
    if (key == "sasl_method") {
      r->sasl_method = value;
    } else if (key == "sasl_username") {
      r->sasl_username = value;
    } else if (key == "orig_queue_id") {
      r->reinjected = true;
    }
  }
}

// "uid=N from=<sender>[ orig_id=Q]"
void ParsePickup(std::string_view rest, PostfixRecord* r) {
  if (!LeadingNumber(rest, &r->uid)) return;
  auto from = rest.find(" from=<");
  if (from == std::string_view::npos) return;
  r->kind = PostfixKind::kPickup;
  std::size_t used = 0;
  r->sender = AngleValue(rest.substr(from + 6), &used);
  r->has_sender = true;
  r->reinjected = rest.find(" orig_id=", from) != std::string_view::npos;
}

// qmgr "from=<s>, size=N, nrcpt=N (queue active)" or "from=<s>, status=expired, returned..."
void ParseQmgrFrom(std::string_view rest, PostfixRecord* r) {
  std::size_t used = 0;
  std::string_view sender = AngleValue(rest.substr(5), &used);
  if (used == 0) return;
  std::string_view tail = rest.substr(5 + used);
  while (!tail.empty() && tail[0] == '>') tail.remove_prefix(1);  // "<a@b>>" (seen in tests)
  if (Consume(&tail, ", size=")) {
    if (!LeadingNumber(tail, &r->size)) return;
    auto nrcpt = tail.find(", nrcpt=");
    if (nrcpt == std::string_view::npos || !LeadingNumber(tail.substr(nrcpt + 8), &r->nrcpt)) {
      return;
    }
    r->kind = PostfixKind::kQueued;
  } else if (StartsWith(tail, ", status=expired") || StartsWith(tail, ", status=force-expired")) {
    r->kind = PostfixKind::kExpired;
    r->delivery = DeliveryResult::kFailed;
  } else {
    return;
  }
  r->sender = sender;
  r->has_sender = true;
}

// "to=<r>, [orig_to=<o>, ]relay=..., delay=..., dsn=X, status=S (text)"
void ParseDelivery(std::string_view rest, PostfixRecord* r) {
  auto st = rest.find(", status=");
  if (st == std::string_view::npos) return;
  std::string_view status = rest.substr(st + 9);
  auto end = status.find_first_of(" (");
  status = status.substr(0, end);
  if (status == "sent") {
    r->delivery = DeliveryResult::kDelivered;
  } else if (status == "deferred" || status == "SOFTBOUNCE") {
    r->delivery = DeliveryResult::kDeferred;
  } else if (status == "bounced" || status == "expired" || status == "force-expired") {
    r->delivery = DeliveryResult::kFailed;
  } else {
    return;  // deliverable/undeliverable: address-verification probes, not deliveries
  }
  r->kind = PostfixKind::kDelivery;
}

void ParseNotification(std::string_view rest, PostfixRecord* r) {
  // "sender non-delivery notification: Q", "postmaster non-delivery notification: Q",
  // "sender delay notification: Q", "sender delivery status notification: Q"
  if (!StartsWith(rest, "sender ") && !StartsWith(rest, "postmaster ")) return;
  auto n = rest.find(" notification: ");
  if (n == std::string_view::npos || n > 40) return;
  std::string_view id = rest.substr(n + 15);
  if (!IsPostfixQueueId(id)) return;
  r->kind = PostfixKind::kNotification;
  r->new_queue_id = id;
}

// Text after "QID: " or "NOQUEUE: " (or the whole message when it has neither).
void ParseMessage(std::string_view text, PostfixRecord* r) {
  r->kind = PostfixKind::kOther;
  const std::string_view d = r->daemon;
  if (d == "smtpd" || d == "postscreen" || d == "cleanup" || d == "qmqpd") {
    std::string_view rest = text;
    if (Consume(&rest, "reject: ") || Consume(&rest, "milter-reject: ")) {
      if (!ParseStageReject(rest, r) && d == "cleanup") ParseContentReject(rest, r);
      return;
    }
    if (Consume(&rest, "proxy-reject: ")) {
      // "END-OF-MESSAGE: 554 5.7.0 text; from=<...>": a before-queue filter refused it.
      auto colon = rest.find(": ");
      r->kind = PostfixKind::kReject;
      r->message_rejected = !r->queue_id.empty();
      r->reject_text = CutTrailer(colon == std::string_view::npos ? rest : rest.substr(colon + 2));
      r->reject_reason = ClassifyPostfixReject(r->reject_text);
      return;
    }
    if (!r->queue_id.empty() && (StartsWith(rest, "hold: ") || StartsWith(rest, "milter-hold: "))) {
      r->kind = PostfixKind::kHold;
      if (auto f = rest.find("; from=<"); f != std::string_view::npos) {
        std::size_t used = 0;
        r->sender = AngleValue(rest.substr(f + 7), &used);
        r->has_sender = used != 0;
      }
      return;
    }
    if (!r->queue_id.empty() &&
        (StartsWith(rest, "discard: ") || StartsWith(rest, "milter-discard: "))) {
      r->kind = PostfixKind::kDiscard;
      return;
    }
    if (d == "smtpd" && r->queue_id.empty() && Consume(&rest, "warning: ")) {
      ParseSaslFailure(rest, r);
      return;
    }
  }
  if (r->queue_id.empty()) return;
  if (StartsWith(text, "client=")) {
    ParseClient(text.substr(7), r);
  } else if (StartsWith(text, "to=")) {
    ParseDelivery(text, r);
  } else if (text == "removed") {
    r->kind = PostfixKind::kRemoved;
  } else if (d == "pickup" && StartsWith(text, "uid=")) {
    ParsePickup(text.substr(4), r);
  } else if (d == "qmgr" && StartsWith(text, "from=")) {
    ParseQmgrFrom(text, r);
  } else if (d == "bounce") {
    ParseNotification(text, r);
  }
}

}  // namespace

namespace {

// Character classes of queue ids, one table lookup per character.
enum : std::uint8_t { kQidAlnum = 1, kQidUpperHex = 2, kQidVowel = 4, kQidZ = 8 };
struct QueueIdTable {
  std::uint8_t c[256] = {};
  constexpr QueueIdTable() {
    for (int i = '0'; i <= '9'; ++i) c[i] = kQidAlnum | kQidUpperHex;
    for (int i = 'A'; i <= 'Z'; ++i) c[i] = kQidAlnum;
    for (int i = 'a'; i <= 'z'; ++i) c[i] = kQidAlnum;
    for (int i = 'A'; i <= 'F'; ++i) c[i] |= kQidUpperHex;
    for (char v : {'a', 'e', 'i', 'o', 'u', 'A', 'E', 'I', 'O', 'U'}) {
      c[static_cast<unsigned char>(v)] |= kQidVowel;
    }
    c[static_cast<unsigned char>('z')] |= kQidZ;
  }
};
constexpr QueueIdTable kQid;

}  // namespace

bool IsPostfixQueueId(std::string_view s) {
  if (s.size() < 5 || s.size() > 32) return false;
  unsigned all = kQidAlnum | kQidUpperHex;  // AND over the characters
  unsigned any = 0;                         // OR over the characters
  for (char ch : s) {
    unsigned k = kQid.c[static_cast<unsigned char>(ch)];
    if ((k & kQidAlnum) == 0) return false;
    all &= k;
    any |= k;
  }
  // Short ids are upper-case hex; long ids use an alphabet without vowels and a 'z' separator.
  return (all & kQidUpperHex) != 0 || ((any & kQidVowel) == 0 && (any & kQidZ) != 0);
}

bool IsPostfixProgram(std::string_view program) {
  if (!StartsWith(program, "postfix")) return false;
  auto slash = program.find('/');
  if (slash == std::string_view::npos || slash + 1 >= program.size()) return false;
  if (slash != 7 && program[7] != '-') return false;  // "postfix1/..." is not ours
  return program.back() != '/';
}

PostfixLogParser::PostfixLogParser(std::int64_t reference_time,
                                   std::shared_ptr<const TimeZone> zone)
    : time_(std::move(zone)) {
  SetReferenceTime(reference_time);
}

void PostfixLogParser::SetReferenceTime(std::int64_t unix_seconds) {
  time_.SetReferenceTime(unix_seconds);
}

std::size_t PostfixLogParser::ParseTimestamp(std::string_view s, std::int64_t* ts) {
  static constexpr std::string_view kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                 "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  if (s.size() >= 4 && s[3] == ' ') {
    // BSD "Mmm dd HH:MM:SS ", the day as " 1", "01" or "1".
    int month = 0;
    for (int i = 0; i < 12; ++i) {
      if (s.substr(0, 3) == kMonths[i]) month = i + 1;
    }
    if (month == 0) return 0;
    std::size_t pos = 4;
    if (pos < s.size() && s[pos] == ' ') ++pos;
    int d = 0;
    std::size_t day_start = pos;
    while (pos < s.size() && IsDigit(s[pos]) && pos - day_start < 2) d = d * 10 + (s[pos++] - '0');
    if (pos == day_start || pos >= s.size() || s[pos] != ' ') return 0;
    ++pos;
    int h = 0, mi = 0, se = 0;
    if (!ParseFixedDigits(s, pos, 2, &h) || pos + 8 >= s.size() || s[pos + 2] != ':' ||
        !ParseFixedDigits(s, pos + 3, 2, &mi) || s[pos + 5] != ':' ||
        !ParseFixedDigits(s, pos + 6, 2, &se)) {
      return 0;
    }
    pos += 8;
    if (pos < s.size() && s[pos] == '.') {  // rsyslog high precision without a zone
      ++pos;
      while (pos < s.size() && IsDigit(s[pos])) ++pos;
    }
    if (pos >= s.size() || s[pos] != ' ') return 0;
    if (d < 1 || d > 31 || h > 23 || mi > 59 || se > 60) return 0;
    *ts = time_.ToUnixYearless(month, d, h, mi, se);
    return pos + 1;
  }
  // RFC 3339 "YYYY-MM-DDTHH:MM:SS[.frac](Z|+hh:mm) "
  Rfc3339Fields f;
  std::size_t pos = ParseRfc3339Prefix(s, &f);
  if (pos == 0 || pos >= s.size() || s[pos] != ' ') return 0;
  if (f.month < 1 || f.month > 12 || f.day < 1 || f.day > 31 || f.hour > 23 || f.minute > 59 ||
      f.second > 60) {
    return 0;
  }
  *ts = time_.ToUnix(f.year, f.month, f.day, f.hour, f.minute, f.second, true, f.offset_seconds);
  return pos + 1;
}

ParseStatus PostfixLogParser::Parse(std::string_view line, PostfixRecord* r) {
  *r = PostfixRecord{};
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  if (line.empty()) return ParseStatus::kOk;
  std::int64_t ts = 0;
  std::size_t pos = ParseTimestamp(line, &ts);
  if (pos == 0) return ParseStatus::kUnparsed;
  r->timestamp = ts;
  // host
  std::string_view rest = line.substr(pos);
  auto sp = rest.find(' ');
  if (sp == 0 || sp == std::string_view::npos) return ParseStatus::kUnparsed;
  rest.remove_prefix(sp + 1);
  // tag: program[pid]: or program:
  auto colon = rest.find(": ");
  if (colon == std::string_view::npos || colon == 0) {
    if (rest.size() > 1 && rest.back() == ':') {
      colon = rest.size() - 1;  // "tag:" with an empty message
    } else {
      return ParseStatus::kUnparsed;
    }
  }
  std::string_view tag = rest.substr(0, colon);
  std::string_view text = colon + 2 <= rest.size() ? rest.substr(colon + 2) : std::string_view();
  std::string_view program = tag;
  if (auto open = tag.find('['); open != std::string_view::npos) {
    if (tag.back() != ']' || open + 2 > tag.size() - 1) return ParseStatus::kUnparsed;
    for (std::size_t i = open + 1; i + 1 < tag.size(); ++i) {
      if (!IsDigit(tag[i])) return ParseStatus::kUnparsed;
    }
    program = tag.substr(0, open);
  }
  if (program.empty() || program.find(' ') != std::string_view::npos) {
    return ParseStatus::kUnparsed;
  }
  r->program = program;
  if (!IsPostfixProgram(program)) return ParseStatus::kOk;  // kForeign
  r->daemon = program.substr(program.rfind('/') + 1);

  if (Consume(&text, "NOQUEUE: ")) {
    // no queue id
  } else if (auto qc = text.find(": ");
             qc != std::string_view::npos && qc <= 32 && IsPostfixQueueId(text.substr(0, qc))) {
    r->queue_id = text.substr(0, qc);
    text.remove_prefix(qc + 2);
  } else if (!text.empty() && text.size() <= 33 && text.back() == ':' &&
             IsPostfixQueueId(text.substr(0, text.size() - 1))) {
    r->queue_id = text.substr(0, text.size() - 1);
    text = {};
  }
  ParseMessage(text, r);
  return ParseStatus::kOk;
}

}  // namespace mailrelay
