#include "respond/hold_list.h"

#include <fcntl.h>
#include <sys/file.h>

#include <algorithm>
#include <cerrno>
#include <ctime>

#include "common/file_io.h"
#include "common/text.h"
#include "common/time_zone.h"

namespace mailrelay::respond {

namespace {

constexpr std::string_view kHeader =
    "# mailrelay_exporter respond: accounts whose mail is held, one per line (ACCOUNT HOLD "
    "text).\n# Read by the MTA snippets (Exim lsearch, Postfix check_sasl_access); change it with "
    "`mailrelay_exporter respond release ACCOUNT`.\n";
constexpr std::size_t kMaxListBytes = 16u << 20;
constexpr std::string_view kReleasedPrefix = "#released ";

// The account of a release comment, "" for other lines.
std::string_view ReleasedAccount(std::string_view line, std::string_view* time) {
  if (line.substr(0, kReleasedPrefix.size()) != kReleasedPrefix) return {};
  line.remove_prefix(kReleasedPrefix.size());
  std::size_t sp = line.find(' ');
  if (sp == std::string_view::npos) return {};
  *time = line.substr(sp + 1);
  return line.substr(0, sp);
}

bool IsBlank(char c) { return c == ' ' || c == '\t'; }

// The key of an entry line: its first word (up to a blank), "" for comments and blank lines.
std::string_view KeyOf(std::string_view line) {
  if (line.empty() || IsBlank(line[0]) || line[0] == '#') return {};
  std::size_t end = 0;
  while (end < line.size() && !IsBlank(line[end]) && line[end] != '\r') ++end;
  return line.substr(0, end);
}

bool IsWordForLine(std::string_view s) {
  if (s.empty() || s.size() > 200) return false;
  for (char c : s) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == ':' || c == '-';
    if (!ok) return false;
  }
  return true;
}

// The value of `key=` among the blank-separated words of `data`, "" when absent.
std::string_view Field(std::string_view data, std::string_view key) {
  std::size_t pos = 0;
  while (pos < data.size()) {
    while (pos < data.size() && IsBlank(data[pos])) ++pos;
    std::size_t end = pos;
    while (end < data.size() && !IsBlank(data[end])) ++end;
    std::string_view word = data.substr(pos, end - pos);
    if (word.size() > key.size() && word.substr(0, key.size()) == key && word[key.size()] == '=') {
      return word.substr(key.size() + 1);
    }
    pos = end;
  }
  return {};
}

}  // namespace

std::string FormatUtc(std::int64_t unix_seconds) {
  std::time_t secs = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[80];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
  return buf;
}

std::int64_t ParseUtc(std::string_view text) {
  Rfc3339Fields f;
  if (ParseRfc3339Prefix(text, &f) != text.size() || text.empty()) return 0;
  return CivilSeconds(f.year, f.month, f.day, f.hour, f.minute, f.second) - f.offset_seconds;
}

HoldListText HoldListText::Parse(std::string_view text) {
  HoldListText list;
  std::string current;  // the key continuation lines belong to
  while (!text.empty()) {
    std::size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    std::string_view key = KeyOf(line);
    if (!key.empty()) {
      current = std::string(key);
    } else if (line.empty() || !IsBlank(line[0])) {
      current.clear();  // a comment or an empty line ends an entry
    }
    list.lines_.push_back({std::string(line), current});
  }
  return list;
}

std::vector<HoldEntry> HoldListText::Entries() const {
  std::vector<HoldEntry> out;
  for (const Line& l : lines_) {
    std::string_view key = KeyOf(l.text);
    if (key.empty()) continue;  // comment, blank or continuation
    bool seen = false;
    for (const HoldEntry& e : out) seen = seen || EqualsIgnoreCase(e.account, key);
    if (seen) continue;
    HoldEntry e;
    e.account = std::string(key);
    std::string_view data = std::string_view(l.text).substr(key.size());
    e.since = ParseUtc(Field(data, "since"));
    e.alert = std::string(Field(data, "alert"));
    e.by = std::string(Field(data, "by"));
    out.push_back(std::move(e));
  }
  return out;
}

std::optional<HoldEntry> HoldListText::Find(std::string_view account) const {
  for (HoldEntry& e : Entries()) {
    if (EqualsIgnoreCase(e.account, account)) return std::move(e);
  }
  return std::nullopt;
}

std::string HoldListText::FormatLine(const HoldEntry& entry) {
  std::string line =
      entry.account + " HOLD held by mailrelay_exporter respond since=" + FormatUtc(entry.since);
  if (IsWordForLine(entry.alert)) line += " alert=" + entry.alert;
  if (IsWordForLine(entry.by)) line += " by=" + entry.by;
  return line;
}

bool HoldListText::Add(const HoldEntry& entry) {
  if (Find(entry.account)) return false;
  if (lines_.empty()) {
    for (std::string_view header = kHeader; !header.empty();) {
      std::size_t nl = header.find('\n');
      lines_.push_back({std::string(header.substr(0, nl)), ""});
      header.remove_prefix(nl + 1);
    }
  }
  lines_.push_back({FormatLine(entry), entry.account});
  return true;
}

bool HoldListText::Remove(std::string_view account) {
  std::size_t before = lines_.size();
  std::erase_if(lines_, [account](const Line& l) {
    return !l.account.empty() && EqualsIgnoreCase(l.account, account);
  });
  return lines_.size() != before;
}

void HoldListText::ClearReleased(std::string_view account) {
  std::erase_if(lines_, [account](const Line& l) {
    std::string_view time;
    std::string_view who = ReleasedAccount(l.text, &time);
    return !who.empty() && EqualsIgnoreCase(who, account);
  });
}

void HoldListText::MarkReleased(std::string_view account, std::int64_t when) {
  ClearReleased(account);
  lines_.push_back(
      {std::string(kReleasedPrefix) + std::string(account) + " " + FormatUtc(when), ""});
}

std::int64_t HoldListText::ReleasedAt(std::string_view account) const {
  std::int64_t latest = 0;
  for (const Line& l : lines_) {
    std::string_view time;
    std::string_view who = ReleasedAccount(l.text, &time);
    if (!who.empty() && EqualsIgnoreCase(who, account)) latest = std::max(latest, ParseUtc(time));
  }
  return latest;
}

std::string HoldListText::Serialize() const {
  std::string out;
  for (const Line& l : lines_) {
    out += l.text;
    out += '\n';
  }
  return out;
}

StatusOr<std::unique_ptr<HoldListFile::Lock>> HoldListFile::Acquire() const {
  std::string lock_path = path_ + ".lock";
  int fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return ErrnoStatus(errno, "cannot open " + lock_path);
  auto lock = std::make_unique<Lock>(fd);
  while (::flock(fd, LOCK_EX) != 0) {
    if (errno != EINTR) return ErrnoStatus(errno, "cannot lock " + lock_path);
  }
  return lock;
}

StatusOr<HoldListText> HoldListFile::Read() const {
  StatusOr<std::string> text = ReadWholeFile(path_, kMaxListBytes);
  if (!text.ok()) {
    if (text.status().code() == StatusCode::kNotFound) return HoldListText{};
    return text.status();
  }
  return HoldListText::Parse(*text);
}

Status HoldListFile::Write(const HoldListText& list) const {
  return WriteFileAtomically(path_, list.Serialize(), 0644);
}

}  // namespace mailrelay::respond
