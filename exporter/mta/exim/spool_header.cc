#include "mta/exim/spool_header.h"

#include <algorithm>
#include <unordered_set>

#include "common/text.h"

namespace mailrelay {

namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// Reads '\n'-terminated lines from a buffer. A last line without '\n' is returned too.
class Reader {
 public:
  explicit Reader(std::string_view text) : text_(text) {}
  bool AtEnd() const { return pos_ >= text_.size(); }
  std::size_t pos() const { return pos_; }
  std::size_t remaining() const { return text_.size() - pos_; }
  char Peek() const { return text_[pos_]; }
  // The next line without its '\n'. False at end of text.
  bool NextLine(std::string_view* line) {
    if (AtEnd()) return false;
    auto nl = text_.find('\n', pos_);
    if (nl == std::string_view::npos) {
      *line = text_.substr(pos_);
      pos_ = text_.size();
    } else {
      *line = text_.substr(pos_, nl - pos_);
      pos_ = nl + 1;
    }
    return true;
  }
  bool Skip(std::size_t n) {
    if (n > remaining()) return false;
    pos_ += n;
    return true;
  }
  std::string_view Take(std::size_t n) {
    auto s = text_.substr(pos_, n);
    pos_ += n;
    return s;
  }

 private:
  std::string_view text_;
  std::size_t pos_ = 0;
};

// Parses an optionally signed decimal integer that fills `s` exactly.
bool ParseInt64(std::string_view s, std::int64_t* out) {
  bool neg = false;
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) {
    neg = s[0] == '-';
    s.remove_prefix(1);
  }
  if (s.empty() || s.size() > 18) return false;
  std::int64_t v = 0;
  for (char c : s) {
    if (!IsDigit(c)) return false;
    v = v * 10 + (c - '0');
  }
  *out = neg ? -v : v;
  return true;
}

// sscanf("%d")-like: skips leading blanks, reads a decimal integer, ignores what follows.
bool ScanLeadingInt(std::string_view s, std::int64_t* out) {
  std::size_t i = 0;
  while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) ++i;
  std::size_t start = i;
  if (i < s.size() && (s[i] == '-' || s[i] == '+')) ++i;
  std::size_t digits = i;
  while (i < s.size() && IsDigit(s[i])) ++i;
  if (i == digits) return false;
  return ParseInt64(s.substr(start, i - start), out);
}

std::string_view TrimBlanks(std::string_view s) {
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  return s;
}

bool Fail(const char** error, const char* why) {
  *error = why;
  return false;
}

// The scalar fields of a -H file, as views into its text. ParseFields fills them for both
// ParseEximSpoolHeader (which copies them) and ParseEximSpoolSummary (which does not).
struct Fields {
  std::string_view id;
  std::string_view originator_login;
  std::int64_t originator_uid = 0;
  std::int64_t originator_gid = 0;
  std::string_view sender;
  std::int64_t received_time = 0;
  int warning_count = 0;
  std::string_view auth_id;
  std::string_view auth_sender;
  std::string_view ident;
  std::string_view host_address;
  std::string_view host_auth;
  std::string_view interface_address;
  std::string_view received_protocol;
  bool frozen = false;
  std::int64_t frozen_at = 0;
  bool local_error = false;
  bool local = false;
  bool manual_thaw = false;
  bool sender_set_untrusted = false;
  std::size_t acl_variables = 0;
  std::uint64_t header_bytes = 0;
  bool headers_valid = true;
  std::size_t header_count = 0;
};

// Line 2: "<login> <uid> <gid>", parsed from the right as Exim does (the login is the rest).
bool ParseOriginator(std::string_view line, Fields* out) {
  line = TrimBlanks(line);
  auto last = line.rfind(' ');
  if (last == std::string_view::npos) return false;
  std::int64_t gid = 0;
  if (!ParseInt64(line.substr(last + 1), &gid)) return false;
  line = line.substr(0, last);
  auto mid = line.rfind(' ');
  if (mid == std::string_view::npos) return false;
  std::int64_t uid = 0;
  if (!ParseInt64(line.substr(mid + 1), &uid)) return false;
  out->originator_login = line.substr(0, mid);
  out->originator_uid = uid;
  out->originator_gid = gid;
  return true;
}

// Exim's recipient line: "<address>[ <suffix>]" where the suffix is read backwards
// (spool_in.c): Exim 3 "pno,pno,pno", early Exim 4 " <pno>", current "...#<flags>".
bool ParseRecipientLine(std::string_view line, std::string_view* address) {
  if (line.empty()) return false;
  // p is a signed index into line; Exim walks backwards from the last character.
  auto at = [&](std::int64_t i) -> char {
    return (i >= 0 && i < static_cast<std::int64_t>(line.size()))
               ? line[static_cast<std::size_t>(i)]
               : '\0';
  };
  std::int64_t p = static_cast<std::int64_t>(line.size()) - 1;
  std::int64_t end = static_cast<std::int64_t>(line.size());  // address = line[0, end)
  while (p >= 0 && IsDigit(at(p))) --p;
  if (p < 0) {
    // All digits: Exim would read before its buffer; take the line as the address.
  } else if (at(p) == ',') {
    do {
      --p;
    } while (p >= 0 && (IsDigit(at(p)) || at(p) == ','));
    if (p >= 0 && at(p) == ' ') end = p;
  } else if (at(p) == ' ') {
    end = p;
  } else if (at(p) == '#') {
    std::int64_t flags = 0;
    if (!ScanLeadingInt(line.substr(static_cast<std::size_t>(p + 1)), &flags)) flags = 0;
    auto read_len_pair = [&](std::int64_t* len) -> bool {
      do {
        --p;
      } while (p >= 0 && (IsDigit(at(p)) || at(p) == ',' || at(p) == '-'));
      if (p < 0) return false;
      std::int64_t v = 0;
      *len = ScanLeadingInt(line.substr(static_cast<std::size_t>(p + 1)), &v) ? v : 0;
      if (*len < 0 || *len > p) return false;
      p -= *len;
      return true;
    };
    std::int64_t len = 0;
    if ((flags & 0x01) != 0 && !read_len_pair(&len)) return false;  // errors_to
    --p;
    if (p < 0) return false;
    if ((flags & 0x02) != 0 && !read_len_pair(&len)) return false;  // orcpt
    --p;
    if (p < 0) return false;
    end = p;
  }
  if (end <= 0) return false;
  *address = line.substr(0, static_cast<std::size_t>(end));
  return true;
}

// Parses a -H file into *out and hands the non-recipients and the recipients (addresses,
// suffixes removed) to `lists` in file order: lists->Nonrecipient(view) for each node of the
// tree, then lists->Recipients(count) and lists->Recipient(view) for each recipient. All
// views point into `text`. Returns false when the envelope is unusable (see
// ParseEximSpoolHeader); *out then holds what was parsed before the error.
template <typename Lists>
bool ParseFields(std::string_view text, std::string_view expected_id, Fields* out, Lists* lists,
                 const char** error) {
  Reader r(text);
  std::string_view line;

  // Line 1: "<id>-H".
  if (!r.NextLine(&line)) return Fail(error, "empty file");
  if (line.size() < 3 || line.substr(line.size() - 2) != "-H" ||
      !IsEximMessageId(line.substr(0, line.size() - 2))) {
    return Fail(error, "first line is not <id>-H");
  }
  out->id = line.substr(0, line.size() - 2);
  if (!expected_id.empty() && out->id != expected_id) {
    return Fail(error, "id in file differs from file name");
  }

  // Line 2: login uid gid.
  if (!r.NextLine(&line)) return Fail(error, "truncated before originator line");
  if (line.find('\0') != std::string_view::npos || !ParseOriginator(line, out)) {
    return Fail(error, "bad originator line");
  }

  // Line 3: <sender>.
  if (!r.NextLine(&line)) return Fail(error, "truncated before sender line");
  if (line.size() < 2 || line.front() != '<' || line.back() != '>' ||
      line.find('\0') != std::string_view::npos) {
    return Fail(error, "bad sender line");
  }
  out->sender = line.substr(1, line.size() - 2);

  // Line 4: "<received time> <warning count>".
  if (!r.NextLine(&line)) return Fail(error, "truncated before time line");
  {
    auto sp = TrimBlanks(line).find(' ');
    std::int64_t t = 0, w = 0;
    auto trimmed = TrimBlanks(line);
    if (sp == std::string_view::npos || !ParseInt64(trimmed.substr(0, sp), &t) ||
        !ScanLeadingInt(trimmed.substr(sp + 1), &w) || w < 0 || w > 1000000) {
      return Fail(error, "bad time line");
    }
    out->received_time = t;
    out->warning_count = static_cast<int>(w);
  }

  // Option lines, each starting with '-'.
  for (;;) {
    if (!r.NextLine(&line)) return Fail(error, "truncated in option lines");
    if (line.empty() || line[0] != '-') break;
    if (line.find('\0') != std::string_view::npos) return Fail(error, "NUL in option line");
    std::string_view s = line.substr(1);
    if (!s.empty() && s[0] == '-') s.remove_prefix(1);  // "--name": tainted value
    if (!s.empty() && s[0] == '(') {                    // "-(quoter)name" (Exim 4.97+)
      auto close = s.find(')');
      if (close == std::string_view::npos) return Fail(error, "bad quoted option line");
      s.remove_prefix(close + 1);
    }
    auto sp = s.find(' ');
    std::string_view name = s.substr(0, sp);
    std::string_view value = sp == std::string_view::npos ? std::string_view() : s.substr(sp + 1);

    if (name == "aclc" || name == "aclm" || name == "acl") {
      // "-aclc <name> <length>" (or legacy "-acl <index> <length>"), then the value as
      // exactly <length> bytes plus a newline, which may contain any bytes, even newlines.
      auto vsp = value.find(' ');
      std::int64_t count = -1;
      if (vsp == std::string_view::npos || !ScanLeadingInt(value.substr(vsp + 1), &count) ||
          count < 0 || count > (1 << 24)) {
        return Fail(error, "bad ACL variable line");
      }
      auto n = static_cast<std::size_t>(count);
      if (r.remaining() < n) return Fail(error, "truncated ACL variable value");
      r.Skip(std::min(n + 1, r.remaining()));
      ++out->acl_variables;
    } else if (name == "auth_id") {
      out->auth_id = value;
    } else if (name == "auth_sender") {
      out->auth_sender = value;
    } else if (name == "ident") {
      out->ident = value;
    } else if (name == "host_address") {
      out->host_address = value;
    } else if (name == "host_auth") {
      out->host_auth = value;
    } else if (name == "interface_address") {
      out->interface_address = value;
    } else if (name == "received_protocol") {
      out->received_protocol = value;
    } else if (name == "frozen") {
      std::int64_t at = 0;
      if (!ScanLeadingInt(value, &at)) return Fail(error, "bad -frozen line");
      out->frozen = true;
      out->frozen_at = at;
    } else if (name == "localerror") {
      out->local_error = true;
    } else if (name == "local") {
      out->local = true;
    } else if (name == "manual_thaw") {
      out->manual_thaw = true;
    } else if (name == "sender_set_untrusted") {
      out->sender_set_untrusted = true;
    }
    // Anything else is ignored, as Exim ignores options it does not know.
  }

  // Non-recipients tree: "XX", or nodes "<L><R> address" in pre-order where L/R = 'Y' when
  // a left/right subtree follows.
  if (line != "XX") {
    std::size_t pending = 1;
    for (;;) {
      if (line.size() < 4 || line[2] != ' ' || line.find('\0') != std::string_view::npos) {
        return Fail(error, "bad non-recipients tree line");
      }
      lists->Nonrecipient(line.substr(3));
      --pending;
      if (line[0] == 'Y') ++pending;
      if (line[1] == 'Y') ++pending;
      if (pending == 0) break;
      if (!r.NextLine(&line)) return Fail(error, "truncated in non-recipients tree");
    }
  }

  // Recipient count, then one recipient per line.
  if (!r.NextLine(&line)) return Fail(error, "truncated before recipient count");
  std::int64_t rcount = 0;
  if (!ScanLeadingInt(line, &rcount) || rcount < 0 || rcount > 1000000) {
    return Fail(error, "bad recipient count");
  }
  lists->Recipients(static_cast<std::size_t>(rcount));
  for (std::int64_t i = 0; i < rcount; ++i) {
    if (!r.NextLine(&line)) return Fail(error, "truncated in recipients");
    if (line.find('\0') != std::string_view::npos) return Fail(error, "NUL in recipient");
    std::string_view address;
    if (!ParseRecipientLine(line, &address)) return Fail(error, "bad recipient line");
    lists->Recipient(address);
  }

  // A blank line, then the headers: "<length><flag> <text of exactly length bytes>". Like
  // Exim, a length is counted (unless the flag is '*') before its text is checked.
  auto header_error = [&](const char* why) {
    out->headers_valid = false;
    *error = why;
    return true;
  };
  if (!r.NextLine(&line)) return header_error("truncated before headers");
  if (!line.empty()) return header_error("no blank line before headers");
  while (!r.AtEnd()) {
    if (!IsDigit(r.Peek())) return header_error("bad header length");
    std::uint64_t n = 0;
    int digits = 0;
    while (!r.AtEnd() && IsDigit(r.Peek())) {
      if (++digits > 9) return header_error("bad header length");
      n = n * 10 + static_cast<std::uint64_t>(r.Peek() - '0');
      r.Skip(1);
    }
    if (r.AtEnd()) return header_error("truncated header");
    char flag = r.Take(1)[0];
    if (flag != '*') out->header_bytes += n;
    ++out->header_count;
    // fscanf's " " skips any white space after the flag.
    while (!r.AtEnd() && (r.Peek() == ' ' || r.Peek() == '\t' || r.Peek() == '\n' ||
                          r.Peek() == '\r' || r.Peek() == '\f' || r.Peek() == '\v')) {
      r.Skip(1);
    }
    if (r.remaining() < n) return header_error("header shorter than its length");
    auto body = r.Take(static_cast<std::size_t>(n));
    if (body.find('\0') != std::string_view::npos) return header_error("NUL in header");
  }
  return true;
}

// The lists of ParseEximSpoolHeader: copies of every address.
struct CopyingLists {
  EximSpoolHeader* header;
  void Nonrecipient(std::string_view a) { header->nonrecipients.emplace_back(a); }
  void Recipients(std::size_t n) { header->recipients.reserve(std::min<std::size_t>(n, 4096)); }
  void Recipient(std::string_view a) { header->recipients.emplace_back(a); }
};

// The lists of ParseEximSpoolSummary: only the count of recipients that are not in the
// non-recipients tree (CountUndeliveredRecipients without a journal). The tree comes before
// the recipients in the file, so it is complete (and sorted once) at the first recipient.
struct CountingLists {
  std::vector<std::string_view> done;
  bool sorted = false;
  std::uint64_t undelivered = 0;
  void Nonrecipient(std::string_view a) { done.push_back(a); }
  void Recipients(std::size_t) {}
  void Recipient(std::string_view a) {
    if (done.empty()) {
      ++undelivered;
      return;
    }
    if (!sorted) {
      std::sort(done.begin(), done.end());
      sorted = true;
    }
    if (!std::binary_search(done.begin(), done.end(), a)) ++undelivered;
  }
};

// EximQueueOwner's rule.
std::string_view QueueOwner(std::string_view auth_id, std::string_view host_address,
                            std::string_view ident) {
  if (!auth_id.empty()) return auth_id;
  if (host_address.empty()) return ident;
  return {};
}

// See EximMessageSize.
std::uint64_t MessageSize(std::size_t id_size, std::uint64_t header_bytes,
                          std::int64_t data_file_size) {
  if (data_file_size < 0) return header_bytes;
  // As queue.c: header bytes + -D size - "<id>-D\n" + 1 (the blank line before the body).
  // An empty -D file (never written by Exim, but seen in fixtures) makes Exim subtract its
  // missing first line too; only a negative total is clamped.
  auto offset = static_cast<std::int64_t>(id_size) + 3;
  std::int64_t size = static_cast<std::int64_t>(header_bytes) + data_file_size - offset + 1;
  return size < 0 ? 0 : static_cast<std::uint64_t>(size);
}

// SanitizeLabelValue, without its byte-by-byte copy for the usual printable ASCII value.
std::string LabelValue(std::string_view in) {
  constexpr std::size_t kMaxLabelBytes = 128;  // SanitizeLabelValue's default
  if (in.size() <= kMaxLabelBytes &&
      std::all_of(in.begin(), in.end(), [](char c) { return c >= 0x20 && c < 0x7f; })) {
    return std::string(in);
  }
  return SanitizeLabelValue(in);
}

}  // namespace

Status ParseEximSpoolHeader(std::string_view text, std::string_view expected_id,
                            EximSpoolHeader* out) {
  *out = EximSpoolHeader{};
  Fields f;
  CopyingLists lists{out};
  const char* why = nullptr;
  bool ok = ParseFields(text, expected_id, &f, &lists, &why);
  out->id = std::string(f.id);
  out->originator_login = std::string(f.originator_login);
  out->originator_uid = f.originator_uid;
  out->originator_gid = f.originator_gid;
  out->sender = std::string(f.sender);
  out->received_time = f.received_time;
  out->warning_count = f.warning_count;
  out->auth_id = std::string(f.auth_id);
  out->auth_sender = std::string(f.auth_sender);
  out->ident = std::string(f.ident);
  out->host_address = std::string(f.host_address);
  out->host_auth = std::string(f.host_auth);
  out->interface_address = std::string(f.interface_address);
  out->received_protocol = std::string(f.received_protocol);
  out->frozen = f.frozen;
  out->frozen_at = f.frozen_at;
  out->local_error = f.local_error;
  out->local = f.local;
  out->manual_thaw = f.manual_thaw;
  out->sender_set_untrusted = f.sender_set_untrusted;
  out->acl_variables = f.acl_variables;
  out->header_bytes = f.header_bytes;
  out->headers_valid = f.headers_valid;
  out->header_count = f.header_count;
  if (!ok) return InvalidArgument(why != nullptr ? why : "malformed");
  if (!f.headers_valid && why != nullptr) out->header_problem = why;
  return Status::Ok();
}

Status ParseEximSpoolSummary(std::string_view text, std::string_view expected_id,
                             EximSpoolSummary* out) {
  *out = EximSpoolSummary{};
  Fields f;
  CountingLists lists;
  const char* why = nullptr;
  bool ok = ParseFields(text, expected_id, &f, &lists, &why);
  out->id = f.id;
  out->sender = f.sender;
  out->owner = QueueOwner(f.auth_id, f.host_address, f.ident);
  out->received_time = f.received_time;
  out->frozen = f.frozen;
  out->header_bytes = f.header_bytes;
  out->headers_valid = f.headers_valid;
  out->undelivered = lists.undelivered;
  if (!ok) return InvalidArgument(why != nullptr ? why : "malformed");
  if (!f.headers_valid && why != nullptr) out->header_problem = why;
  return Status::Ok();
}

std::uint64_t CountUndeliveredRecipients(const EximSpoolHeader& header,
                                         const std::vector<std::string>& journal) {
  if (header.nonrecipients.empty() && journal.empty()) return header.recipients.size();
  std::unordered_set<std::string_view> done;
  for (const auto& a : header.nonrecipients) done.insert(a);
  for (const auto& a : journal) done.insert(a);
  std::uint64_t n = 0;
  for (const auto& a : header.recipients) {
    if (done.count(a) == 0) ++n;
  }
  return n;
}

std::uint64_t EximMessageSize(const EximSpoolHeader& header, std::int64_t data_file_size) {
  return MessageSize(header.id.size(), header.header_bytes, data_file_size);
}

std::string EximQueueOwner(const EximSpoolHeader& header) {
  return std::string(QueueOwner(header.auth_id, header.host_address, header.ident));
}

std::vector<std::string> ParseEximJournal(std::string_view text) {
  std::vector<std::string> out;
  Reader r(text);
  std::string_view line;
  while (r.NextLine(&line)) {
    if (!line.empty()) out.emplace_back(line);
  }
  return out;
}

QueueMessage ToQueueMessage(const EximSpoolHeader& header, std::int64_t data_file_size,
                            const std::vector<std::string>& journal) {
  QueueMessage m;
  m.id = header.id;
  m.queue = "input";
  m.bounce = header.sender.empty();
  m.sender_label = m.bounce ? "<>" : LabelValue(header.sender);
  m.owner_label = LabelValue(EximQueueOwner(header));
  m.frozen = header.frozen;
  m.has_received_time = true;
  m.received_time = header.received_time;
  m.size_bytes = EximMessageSize(header, data_file_size);
  m.recipients = CountUndeliveredRecipients(header, journal);
  return m;
}

QueueMessage ToQueueMessage(const EximSpoolSummary& summary, std::int64_t data_file_size) {
  QueueMessage m;
  m.id = std::string(summary.id);
  m.queue = "input";
  m.bounce = summary.sender.empty();
  m.sender_label = m.bounce ? "<>" : LabelValue(summary.sender);
  m.owner_label = LabelValue(summary.owner);
  m.frozen = summary.frozen;
  m.has_received_time = true;
  m.received_time = summary.received_time;
  m.size_bytes = MessageSize(summary.id.size(), summary.header_bytes, data_file_size);
  m.recipients = summary.undelivered;
  return m;
}

}  // namespace mailrelay
