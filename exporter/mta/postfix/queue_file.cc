#include "mta/postfix/queue_file.h"

#include <climits>

#include "common/text.h"
#include "mta/postfix/postqueue_json_parser.h"  // IsPostfixBounceSender

namespace mailrelay {

namespace {

// Record types (rec_type.h).
constexpr char kRecSize = 'C';
constexpr char kRecTime = 'T';
constexpr char kRecAttr = 'A';
constexpr char kRecFrom = 'S';
constexpr char kRecRcpt = 'R';
constexpr char kRecDone = 'D';
constexpr char kRecDrcp = '/';
constexpr char kRecMesg = 'M';
constexpr char kRecXtra = 'X';
constexpr char kRecNorm = 'N';
constexpr char kRecDtxt = 'w';
constexpr char kRecPtr = 'p';
constexpr char kRecEnd = 'E';

constexpr std::size_t kMaxLengthBytes = 5;  // 7 bits each, below 32 bits in all (record.c)
// Records between M and the first content line: pointers and padding only, in any sane file.
constexpr int kMaxContentPeek = 16;

struct Record {
  char type = 0;
  std::uint64_t offset = 0;  // of the type byte
  std::uint64_t next = 0;    // of the byte after the payload
  std::string_view payload;
};

std::string At(std::string_view what, std::uint64_t offset) {
  return std::string(what) + " at offset " + std::to_string(offset);
}

// The record at `pos` (< input.size()).
Status ReadRecord(PostfixQueueFileInput& input, std::uint64_t pos, std::size_t max_record_bytes,
                  Record* r) {
  std::string_view head = input.Read(pos, 1 + kMaxLengthBytes);
  if (head.empty()) return InvalidArgument(At("unreadable record", pos));
  r->type = head[0];
  r->offset = pos;
  std::uint64_t len = 0;
  std::size_t i = 1;
  for (;; ++i) {
    if (i > kMaxLengthBytes) return InvalidArgument(At("record length of more than 32 bits", pos));
    if (i >= head.size()) return InvalidArgument(At("truncated record length", pos));
    auto byte = static_cast<unsigned char>(head[i]);
    len |= static_cast<std::uint64_t>(byte & 0x7f) << (7 * (i - 1));
    if ((byte & 0x80) == 0) break;
  }
  if (len > INT_MAX || len > max_record_bytes) {
    return InvalidArgument(At("record too long (" + std::to_string(len) + " bytes)", pos));
  }
  std::uint64_t start = pos + i + 1;
  if (len > input.size() || start > input.size() - len) {
    return InvalidArgument(At("record runs past the end of the file", pos));
  }
  r->payload = len == 0 ? std::string_view() : input.Read(start, static_cast<std::size_t>(len));
  if (r->payload.size() != len) return InvalidArgument(At("unreadable record", pos));
  r->next = start + len;
  return Status::Ok();
}

// Leading blanks, then digits: the number (false when there is none or it overflows).
bool LeadingNumber(std::string_view s, std::uint64_t* out, std::size_t* used = nullptr) {
  std::size_t i = 0;
  while (i < s.size() && s[i] == ' ') ++i;
  std::size_t start = i;
  std::uint64_t v = 0;
  while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
    if (v > (UINT64_MAX - 9) / 10) return false;
    v = v * 10 + static_cast<std::uint64_t>(s[i] - '0');
    ++i;
  }
  if (i == start) return false;
  *out = v;
  if (used != nullptr) *used = i;
  return true;
}

// A pointer record's target: blanks then decimal digits only (off_cvt_string), 0 = a dummy.
bool PointerTarget(std::string_view payload, std::uint64_t* out) {
  std::size_t used = 0;
  return LeadingNumber(payload, out, &used) && used == payload.size();
}

// pickup(8)'s first content line: "Received: by HOST (MAIL_NAME, from userid UID)".
bool PickupUid(std::string_view line, std::uint32_t* uid) {
  constexpr std::string_view kPrefix = "Received: by ";
  constexpr std::string_view kMarker = ", from userid ";
  if (line.substr(0, kPrefix.size()) != kPrefix || line.empty() || line.back() != ')') {
    return false;
  }
  std::size_t at = line.rfind(kMarker);
  if (at == std::string_view::npos || at < kPrefix.size()) return false;
  std::string_view digits = line.substr(at + kMarker.size());
  digits.remove_suffix(1);  // ')'
  std::uint64_t v = 0;
  std::size_t used = 0;
  if (!LeadingNumber(digits, &v, &used) || used != digits.size() || digits[0] == ' ' ||
      v > UINT32_MAX) {
    return false;
  }
  *uid = static_cast<std::uint32_t>(v);
  return true;
}

// Looks at the first content line (after pointers and padding) for pickup's Received header.
void PeekFirstContentLine(PostfixQueueFileInput& input, std::uint64_t pos,
                          std::size_t max_record_bytes, PostfixQueueFile* out) {
  for (int i = 0; i < kMaxContentPeek && pos < input.size(); ++i) {
    Record r;
    if (!ReadRecord(input, pos, max_record_bytes, &r).ok()) return;
    if (r.type == kRecPtr) {
      std::uint64_t target = 0;
      if (!PointerTarget(r.payload, &target)) return;
      pos = target == 0 ? r.next : target;
    } else if (r.type == kRecDtxt) {
      pos = r.next;
    } else {
      if (r.type == kRecNorm) out->has_local_uid = PickupUid(r.payload, &out->local_uid);
      return;
    }
  }
}

struct Attributes {
  bool sasl_username = false;
  bool sasl_method = false;
  bool client_address = false;
  bool log_client_address = false;
  std::string log_client_address_value;
};

void Attribute(std::string_view payload, Attributes* seen, PostfixQueueFile* out) {
  std::size_t eq = payload.find('=');
  if (eq == std::string_view::npos) return;
  std::string_view name = payload.substr(0, eq);
  std::string_view value = payload.substr(eq + 1);
  auto take = [&](bool* flag, std::string* to) {
    if (*flag) return;
    *flag = true;
    to->assign(value);
  };
  if (name == "sasl_username") {
    take(&seen->sasl_username, &out->sasl_username);
  } else if (name == "sasl_method") {
    take(&seen->sasl_method, &out->sasl_method);
  } else if (name == "client_address") {
    take(&seen->client_address, &out->client_address);
  } else if (name == "log_client_address") {
    take(&seen->log_client_address, &seen->log_client_address_value);
  }
}

}  // namespace

std::string_view PostfixQueueFileBytes::Read(std::uint64_t offset, std::size_t len) {
  if (offset >= bytes_.size()) return {};
  return bytes_.substr(static_cast<std::size_t>(offset), len);
}

StatusOr<PostfixQueueFile> ParsePostfixQueueFile(PostfixQueueFileInput& input,
                                                 std::size_t max_record_bytes) {
  PostfixQueueFile out;
  Attributes attributes;
  const std::uint64_t size = input.size();
  // Without pointer loops every record is visited once, and a record takes 2 bytes or more.
  const std::uint64_t max_records = size / 2 + 1;
  bool size_seen = false;
  bool sender_seen = false;
  bool end_seen = false;
  std::uint64_t pos = 0;
  while (pos < size) {
    if (++out.records > max_records) return InvalidArgument("pointer records loop");
    Record r;
    Status s = ReadRecord(input, pos, max_record_bytes, &r);
    if (!s.ok()) return s;
    pos = r.next;
    switch (r.type) {
      case kRecSize:
        // The first C record only (postsuper -r may leave older ones, showq says), and only
        // when it is all digits and blanks; its first number is the content length.
        if (!size_seen) {
          size_seen = true;
          std::uint64_t v = 0;
          if (r.payload.find_first_not_of("0123456789 ") == std::string_view::npos &&
              LeadingNumber(r.payload, &v)) {
            out.has_size = true;
            out.message_size = v;
            out.content_size = v;
          }
        }
        break;
      case kRecTime:
        if (!out.has_arrival_time) {
          std::uint64_t v = 0;
          if (LeadingNumber(r.payload, &v) && v > 0 && v <= INT64_MAX) {
            out.has_arrival_time = true;
            out.arrival_time = static_cast<std::int64_t>(v);
          }
        }
        break;
      case kRecFrom:
        if (sender_seen) return InvalidArgument(At("second sender record", r.offset));
        sender_seen = true;
        out.sender.assign(r.payload);
        break;
      case kRecRcpt:
        if (!sender_seen) return InvalidArgument(At("recipient before the sender", r.offset));
        ++out.recipients;
        break;
      case kRecDone:
      case kRecDrcp:
        ++out.done_recipients;
        break;
      case kRecAttr:
        Attribute(r.payload, &attributes, &out);
        break;
      case kRecMesg: {
        PeekFirstContentLine(input, pos, max_record_bytes, &out);
        // Skip the content as showq does: it is content_size bytes from here to X. When that
        // does not land on X, walk through the content records instead.
        if (out.has_size && out.content_size < size - pos) {
          std::string_view x = input.Read(pos + out.content_size, 1);
          if (!x.empty() && x[0] == kRecXtra) pos += out.content_size;
        }
        break;
      }
      case kRecPtr: {
        std::uint64_t target = 0;
        if (!PointerTarget(r.payload, &target)) {
          return InvalidArgument(At("malformed pointer record", r.offset));
        }
        if (target >= size)
          return InvalidArgument(At("pointer past the end of the file", r.offset));
        if (target != 0) pos = target;
        break;
      }
      case kRecEnd:
        end_seen = true;
        break;
      default:  // content, extracted-segment markers, per-recipient data, padding, killed
        break;
    }
    if (end_seen) break;
  }
  if (!end_seen) return InvalidArgument("no end record (truncated file)");
  if (!sender_seen) return InvalidArgument("no sender record");
  if (!attributes.client_address && attributes.log_client_address) {
    out.client_address = std::move(attributes.log_client_address_value);
  }
  return out;
}

StatusOr<PostfixQueueFile> ParsePostfixQueueFile(std::string_view bytes) {
  PostfixQueueFileBytes input(bytes);
  return ParsePostfixQueueFile(input);
}

std::string PostfixQueueOwner(const PostfixQueueFile& file, std::int64_t maildrop_owner_uid,
                              const PostfixUidResolver& resolve) {
  if (!file.sasl_username.empty()) return file.sasl_username;
  std::int64_t uid = maildrop_owner_uid;
  if (file.has_local_uid && file.client_address.empty()) uid = file.local_uid;
  if (uid < 0 || uid > static_cast<std::int64_t>(UINT32_MAX)) return {};
  std::string name = resolve ? resolve(static_cast<std::uint32_t>(uid)) : std::string();
  return name.empty() ? std::to_string(uid) : name;
}

QueueMessage ToQueueMessage(const PostfixQueueFile& file, std::string_view id,
                            std::string_view queue, std::uint64_t file_size,
                            std::int64_t file_mtime, std::string_view owner) {
  QueueMessage m;
  m.id.assign(id);
  m.queue.assign(queue);
  m.bounce = IsPostfixBounceSender(file.sender);
  m.sender_label = m.bounce ? "<>" : SanitizeLabelValue(file.sender);
  m.owner_label = SanitizeLabelValue(owner);
  m.has_received_time = true;
  m.received_time = file.has_arrival_time ? file.arrival_time : file_mtime;
  m.size_bytes = file.has_size ? file.message_size : file_size;
  m.recipients = file.recipients;
  return m;
}

}  // namespace mailrelay
