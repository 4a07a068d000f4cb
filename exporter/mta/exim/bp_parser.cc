#include "mta/exim/bp_parser.h"

#include "common/text.h"
#include "mta/exim/spool_header.h"

namespace mailrelay {

namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsBlank(char c) { return c == ' ' || c == '\t'; }

std::vector<std::string_view> Tokens(std::string_view s, std::size_t max_tokens,
                                     std::vector<std::size_t>* ends) {
  std::vector<std::string_view> out;
  std::size_t i = 0;
  while (i < s.size() && out.size() < max_tokens) {
    while (i < s.size() && IsBlank(s[i])) ++i;
    if (i >= s.size()) break;
    std::size_t start = i;
    while (i < s.size() && !IsBlank(s[i])) ++i;
    out.push_back(s.substr(start, i - start));
    ends->push_back(i);
  }
  return out;
}

bool ConsumeSuffix(std::string_view* s, std::string_view suffix) {
  if (s->size() >= suffix.size() && s->substr(s->size() - suffix.size()) == suffix) {
    s->remove_suffix(suffix.size());
    return true;
  }
  return false;
}

// Parses an entry line into *e. False when the line is not an entry line.
bool ParseEntryLine(std::string_view line, EximBpEntry* e) {
  std::size_t lead = 0;
  while (lead < line.size() && IsBlank(line[lead])) ++lead;
  std::vector<std::size_t> ends;
  auto tokens = Tokens(line, 3, &ends);
  std::size_t id_index = tokens.size();
  for (std::size_t i = 0; i < tokens.size(); ++i) {
    if (IsEximMessageId(tokens[i])) {
      id_index = i;
      break;
    }
  }
  if (id_index == tokens.size()) return false;
  *e = EximBpEntry{};
  if (id_index == 0) {
    // Neither age nor size: Exim prints a blank size column (5 spaces) and no age when it
    // cannot read the envelope. A bare id at the start of a line is `exim -bpi` output,
    // and one indented like a recipient line is a recipient.
    if (lead == 0 || lead >= 8) return false;
  } else if (id_index == 1) {
    // Either the age (size blank because 0) or the size (age missing: unreadable envelope).
    if (ParseEximBpAge(tokens[0], &e->age_seconds)) {
      e->has_age = true;
    } else if (ParseEximBpSize(tokens[0], &e->size_bytes)) {
      e->has_size = true;
    } else {
      return false;
    }
  } else {
    if (!ParseEximBpAge(tokens[0], &e->age_seconds) ||
        !ParseEximBpSize(tokens[1], &e->size_bytes)) {
      return false;
    }
    e->has_age = true;
    e->has_size = true;
  }
  e->id = std::string(tokens[id_index]);
  std::string_view rest = line.substr(ends[id_index]);
  while (!rest.empty() && (rest.back() == ' ' || rest.back() == '\r')) rest.remove_suffix(1);
  if (ConsumeSuffix(&rest, " *** frozen ***")) e->frozen = true;
  if (rest.empty()) return true;
  if (rest[0] != ' ') return false;
  rest.remove_prefix(1);
  if (!rest.empty() && rest.back() == ')') {
    auto open = rest.rfind("> (");
    if (open != std::string_view::npos) {
      e->untrusted_login = std::string(rest.substr(open + 3, rest.size() - open - 4));
      rest = rest.substr(0, open + 1);
    }
  }
  if (rest.size() < 2 || rest.front() != '<' || rest.back() != '>') return false;
  e->has_sender = true;
  e->sender = std::string(rest.substr(1, rest.size() - 2));
  return true;
}

}  // namespace

bool ParseEximBpAge(std::string_view t, std::int64_t* seconds) {
  if (t.size() < 2 || t.size() > 9) return false;
  // exim -bp prints minutes, hours or days.
  if (t.back() != 'm' && t.back() != 'h' && t.back() != 'd') return false;
  auto unit = static_cast<std::int64_t>(DurationUnitSeconds(t.substr(t.size() - 1)));
  std::int64_t v = 0;
  for (std::size_t i = 0; i + 1 < t.size(); ++i) {
    if (!IsDigit(t[i])) return false;
    v = v * 10 + (t[i] - '0');
  }
  *seconds = v * unit;
  return true;
}

bool ParseEximBpSize(std::string_view t, std::uint64_t* bytes) {
  if (t.empty() || t.size() > 12) return false;
  double mult = 1;
  switch (t.back()) {
    case 'K':
      mult = 1024.0;
      t.remove_suffix(1);
      break;
    case 'M':
      mult = 1024.0 * 1024.0;
      t.remove_suffix(1);
      break;
    case 'G':
      mult = 1024.0 * 1024.0 * 1024.0;
      t.remove_suffix(1);
      break;
    default:
      break;
  }
  if (t.empty()) return false;
  std::uint64_t whole = 0;
  std::size_t i = 0;
  for (; i < t.size() && IsDigit(t[i]); ++i) {
    whole = whole * 10 + static_cast<std::uint64_t>(t[i] - '0');
  }
  if (i == 0) return false;
  double value = static_cast<double>(whole);
  if (i < t.size()) {
    if (t[i] != '.' || mult == 1 || i + 2 != t.size() || !IsDigit(t[i + 1])) return false;
    value += (t[i + 1] - '0') / 10.0;
  }
  *bytes = static_cast<std::uint64_t>(value * mult);
  return true;
}

EximBpListing ParseEximBp(std::string_view text) {
  EximBpListing out;
  EximBpEntry* current = nullptr;
  std::size_t pos = 0;
  while (pos < text.size()) {
    auto nl = text.find('\n', pos);
    std::string_view line =
        nl == std::string_view::npos ? text.substr(pos) : text.substr(pos, nl - pos);
    pos = nl == std::string_view::npos ? text.size() : nl + 1;
    while (!line.empty() && line.back() == '\r') line.remove_suffix(1);

    std::size_t lead = 0;
    while (lead < line.size() && IsBlank(line[lead])) ++lead;
    if (lead == line.size()) {  // blank: ends the current message
      current = nullptr;
      continue;
    }
    std::string_view body = line.substr(lead);
    if (current != nullptr && lead > 0 && body.rfind("*** spool ", 0) == 0) {
      current->spool_error = true;
      if (ConsumeSuffix(&body, " *** frozen ***")) current->frozen = true;
      continue;
    }
    EximBpEntry entry;
    if (ParseEntryLine(line, &entry)) {
      out.entries.push_back(std::move(entry));
      current = &out.entries.back();
      continue;
    }
    if (current != nullptr && lead > 0) {
      if (body.rfind("+D ", 0) == 0) continue;  // generated address, already delivered
      if (body.rfind("D ", 0) == 0) {
        ++current->recipients_delivered;
      } else {
        ++current->recipients_undelivered;
      }
      continue;
    }
    ++out.unparsed_lines;
  }
  return out;
}

QueueMessage ToQueueMessage(const EximBpEntry& entry, std::int64_t now) {
  QueueMessage m;
  m.id = entry.id;
  m.queue = "input";
  m.bounce = entry.has_sender && entry.sender.empty();
  m.sender_label = m.bounce ? "<>" : SanitizeLabelValue(entry.sender);
  m.frozen = entry.frozen;
  m.has_received_time = entry.has_age;
  m.received_time = now - entry.age_seconds;
  m.size_bytes = entry.size_bytes;
  m.recipients = entry.recipients_undelivered;
  return m;
}

}  // namespace mailrelay
