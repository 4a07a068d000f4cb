#include "mta/postfix/postqueue_json_parser.h"

#include <cmath>

#include "common/json.h"
#include "common/text.h"

namespace mailrelay {

namespace {

bool GetNonNegativeInt(const JsonValue& obj, std::string_view name, std::int64_t* out) {
  const JsonValue* v = obj.Member(name);
  if (v == nullptr || v->type != JsonValue::Type::kNumber) return false;
  if (v->is_integer) {
    if (v->integer < 0) return false;
    *out = v->integer;
    return true;
  }
  if (!std::isfinite(v->number) || v->number < 0 || v->number > 9e15) return false;
  *out = static_cast<std::int64_t>(v->number);
  return true;
}

}  // namespace

const std::vector<std::string>& PostfixQueueNames() {
  static const std::vector<std::string> names = {"active", "deferred", "hold", "incoming",
                                                 "maildrop"};
  return names;
}

bool IsPostfixQueueName(std::string_view name) {
  for (const auto& n : PostfixQueueNames()) {
    if (n == name) return true;
  }
  return false;
}

Status ParsePostqueueJsonLine(std::string_view line, PostqueueEntry* out) {
  *out = PostqueueEntry{};
  while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.remove_suffix(1);
  if (line.size() > (64u << 20)) return InvalidArgument("line too long");
  JsonValue doc;
  if (Status parsed = ParseJson(line, &doc); !parsed.ok()) return parsed;
  if (doc.type != JsonValue::Type::kObject) return InvalidArgument("not a JSON object");
  if (!JsonGetString(doc, "queue_name", &out->queue_name)) return InvalidArgument("no queue_name");
  if (!IsPostfixQueueName(out->queue_name)) return InvalidArgument("unknown queue_name");
  if (!JsonGetString(doc, "queue_id", &out->queue_id) || out->queue_id.empty()) {
    return InvalidArgument("no queue_id");
  }
  if (!JsonGetString(doc, "sender", &out->sender)) return InvalidArgument("no sender");
  std::int64_t n = 0;
  if (!GetNonNegativeInt(doc, "arrival_time", &n)) return InvalidArgument("no arrival_time");
  out->arrival_time = n;
  if (!GetNonNegativeInt(doc, "message_size", &n)) return InvalidArgument("no message_size");
  out->message_size = static_cast<std::uint64_t>(n);
  if (const JsonValue* fe = doc.Member("forced_expire"); fe != nullptr) {
    if (fe->type != JsonValue::Type::kBool) return InvalidArgument("bad forced_expire");
    out->forced_expire = fe->boolean;
  }
  const JsonValue* rcpts = doc.Member("recipients");
  if (rcpts == nullptr || rcpts->type != JsonValue::Type::kArray) {
    return InvalidArgument("no recipients");
  }
  for (const auto& r : rcpts->array) {
    std::string address;
    if (r.type != JsonValue::Type::kObject || !JsonGetString(r, "address", &address)) {
      return InvalidArgument("bad recipient");
    }
    out->recipients.push_back(std::move(address));
  }
  return Status::Ok();
}

PostqueueListing ParsePostqueueJson(std::string_view text) {
  PostqueueListing out;
  std::size_t pos = 0;
  while (pos < text.size()) {
    auto nl = text.find('\n', pos);
    std::string_view line =
        nl == std::string_view::npos ? text.substr(pos) : text.substr(pos, nl - pos);
    pos = nl == std::string_view::npos ? text.size() : nl + 1;
    std::size_t k = 0;
    while (k < line.size() && (line[k] == ' ' || line[k] == '\t' || line[k] == '\r')) ++k;
    if (k == line.size()) continue;
    PostqueueEntry entry;
    if (ParsePostqueueJsonLine(line, &entry).ok()) {
      out.entries.push_back(std::move(entry));
    } else {
      ++out.bad_lines;
    }
  }
  return out;
}

bool IsPostfixBounceSender(std::string_view sender) {
  return sender.empty() || sender == "MAILER-DAEMON";
}

QueueMessage ToQueueMessage(const PostqueueEntry& entry) {
  QueueMessage m;
  m.id = entry.queue_id;
  m.queue = entry.queue_name;
  m.bounce = IsPostfixBounceSender(entry.sender);
  m.sender_label = m.bounce ? "<>" : SanitizeLabelValue(entry.sender);
  m.has_received_time = true;
  m.received_time = entry.arrival_time;
  m.size_bytes = entry.message_size;
  m.recipients = entry.recipients.size();
  return m;
}

}  // namespace mailrelay
