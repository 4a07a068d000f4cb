#include "mta/postfix/postqueue_json_parser.h"

#include <cmath>
#include <cstdlib>

#include "common/text.h"

namespace mailrelay {

namespace {

// A minimal JSON document model: enough for postqueue objects.
struct JsonMember;
struct JsonValue {
  enum class Type { kNull, kBool, kNumber, kString, kArray, kObject };
  Type type = Type::kNull;
  bool boolean = false;
  double number = 0;
  bool is_integer = false;
  std::int64_t integer = 0;
  std::string string;
  std::vector<JsonValue> array;
  std::vector<JsonMember> object;  // not pair<string, JsonValue>: clang + libstdc++ reject it

  const JsonValue* Member(std::string_view name) const;
};

struct JsonMember {
  std::string key;
  JsonValue value;
};

const JsonValue* JsonValue::Member(std::string_view name) const {
  const JsonValue* found = nullptr;
  for (const auto& [k, v] : object) {
    if (k == name) found = &v;  // the last duplicate wins
  }
  return found;
}

class JsonReader {
 public:
  explicit JsonReader(std::string_view text) : s_(text) {}

  bool ParseDocument(JsonValue* out, std::string* error) {
    SkipSpace();
    if (!ParseValue(out, 0)) {
      *error = error_.empty() ? "bad JSON" : error_;
      return false;
    }
    SkipSpace();
    if (i_ != s_.size()) {
      *error = "trailing characters after JSON value";
      return false;
    }
    return true;
  }

 private:
  static constexpr int kMaxDepth = 32;

  bool Fail(const char* why) {
    if (error_.empty()) error_ = why;
    return false;
  }
  void SkipSpace() {
    while (i_ < s_.size() &&
           (s_[i_] == ' ' || s_[i_] == '\t' || s_[i_] == '\n' || s_[i_] == '\r')) {
      ++i_;
    }
  }
  bool Literal(std::string_view word) {
    if (s_.substr(i_, word.size()) != word) return Fail("bad literal");
    i_ += word.size();
    return true;
  }

  bool ParseValue(JsonValue* v, int depth) {
    if (depth > kMaxDepth) return Fail("JSON nested too deeply");
    if (i_ >= s_.size()) return Fail("unexpected end of JSON");
    char c = s_[i_];
    switch (c) {
      case '{':
        return ParseObject(v, depth);
      case '[':
        return ParseArray(v, depth);
      case '"':
        v->type = JsonValue::Type::kString;
        return ParseString(&v->string);
      case 't':
        v->type = JsonValue::Type::kBool;
        v->boolean = true;
        return Literal("true");
      case 'f':
        v->type = JsonValue::Type::kBool;
        v->boolean = false;
        return Literal("false");
      case 'n':
        v->type = JsonValue::Type::kNull;
        return Literal("null");
      default:
        if (c == '-' || (c >= '0' && c <= '9')) return ParseNumber(v);
        return Fail("unexpected character in JSON");
    }
  }

  bool ParseObject(JsonValue* v, int depth) {
    v->type = JsonValue::Type::kObject;
    ++i_;  // '{'
    SkipSpace();
    if (i_ < s_.size() && s_[i_] == '}') {
      ++i_;
      return true;
    }
    for (;;) {
      SkipSpace();
      if (i_ >= s_.size() || s_[i_] != '"') return Fail("expected member name");
      std::string key;
      if (!ParseString(&key)) return false;
      SkipSpace();
      if (i_ >= s_.size() || s_[i_] != ':') return Fail("expected ':'");
      ++i_;
      SkipSpace();
      JsonValue member;
      if (!ParseValue(&member, depth + 1)) return false;
      v->object.push_back({std::move(key), std::move(member)});
      SkipSpace();
      if (i_ >= s_.size()) return Fail("unterminated object");
      if (s_[i_] == ',') {
        ++i_;
        continue;
      }
      if (s_[i_] == '}') {
        ++i_;
        return true;
      }
      return Fail("expected ',' or '}'");
    }
  }

  bool ParseArray(JsonValue* v, int depth) {
    v->type = JsonValue::Type::kArray;
    ++i_;  // '['
    SkipSpace();
    if (i_ < s_.size() && s_[i_] == ']') {
      ++i_;
      return true;
    }
    for (;;) {
      SkipSpace();
      JsonValue element;
      if (!ParseValue(&element, depth + 1)) return false;
      v->array.push_back(std::move(element));
      SkipSpace();
      if (i_ >= s_.size()) return Fail("unterminated array");
      if (s_[i_] == ',') {
        ++i_;
        continue;
      }
      if (s_[i_] == ']') {
        ++i_;
        return true;
      }
      return Fail("expected ',' or ']'");
    }
  }

  bool Hex4(std::uint32_t* out) {
    if (s_.size() - i_ < 4) return Fail("short \\u escape");
    std::uint32_t v = 0;
    for (int k = 0; k < 4; ++k) {
      char c = s_[i_++];
      v <<= 4;
      if (c >= '0' && c <= '9') {
        v |= static_cast<std::uint32_t>(c - '0');
      } else if (c >= 'a' && c <= 'f') {
        v |= static_cast<std::uint32_t>(c - 'a' + 10);
      } else if (c >= 'A' && c <= 'F') {
        v |= static_cast<std::uint32_t>(c - 'A' + 10);
      } else {
        return Fail("bad \\u escape");
      }
    }
    *out = v;
    return true;
  }

  static void AppendUtf8(std::uint32_t cp, std::string* out) {
    if (cp < 0x80) {
      *out += static_cast<char>(cp);
    } else if (cp < 0x800) {
      *out += static_cast<char>(0xC0 | (cp >> 6));
      *out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
      *out += static_cast<char>(0xE0 | (cp >> 12));
      *out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      *out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
      *out += static_cast<char>(0xF0 | (cp >> 18));
      *out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
      *out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      *out += static_cast<char>(0x80 | (cp & 0x3F));
    }
  }

  bool ParseString(std::string* out) {
    ++i_;  // opening quote
    for (;;) {
      if (i_ >= s_.size()) return Fail("unterminated string");
      char c = s_[i_++];
      if (c == '"') return true;
      if (static_cast<unsigned char>(c) < 0x20) return Fail("control character in string");
      if (c != '\\') {
        *out += c;  // raw bytes are kept; label values are sanitised later
        continue;
      }
      if (i_ >= s_.size()) return Fail("unterminated escape");
      char e = s_[i_++];
      switch (e) {
        case '"':
          *out += '"';
          break;
        case '\\':
          *out += '\\';
          break;
        case '/':
          *out += '/';
          break;
        case 'b':
          *out += '\b';
          break;
        case 'f':
          *out += '\f';
          break;
        case 'n':
          *out += '\n';
          break;
        case 'r':
          *out += '\r';
          break;
        case 't':
          *out += '\t';
          break;
        case 'u': {
          std::uint32_t cp = 0;
          if (!Hex4(&cp)) return false;
          if (cp >= 0xD800 && cp <= 0xDBFF) {
            std::uint32_t lo = 0;
            if (s_.substr(i_, 2) != "\\u") return Fail("lone high surrogate");
            i_ += 2;
            if (!Hex4(&lo)) return false;
            if (lo < 0xDC00 || lo > 0xDFFF) return Fail("bad low surrogate");
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
          } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
            return Fail("lone low surrogate");
          }
          AppendUtf8(cp, out);
          break;
        }
        default:
          return Fail("bad escape");
      }
    }
  }

  bool ParseNumber(JsonValue* v) {
    std::size_t start = i_;
    bool integer = true;
    if (s_[i_] == '-') ++i_;
    if (i_ >= s_.size()) return Fail("bad number");
    if (s_[i_] == '0') {
      ++i_;
    } else if (s_[i_] >= '1' && s_[i_] <= '9') {
      while (i_ < s_.size() && s_[i_] >= '0' && s_[i_] <= '9') ++i_;
    } else {
      return Fail("bad number");
    }
    if (i_ < s_.size() && s_[i_] == '.') {
      integer = false;
      ++i_;
      std::size_t d = i_;
      while (i_ < s_.size() && s_[i_] >= '0' && s_[i_] <= '9') ++i_;
      if (i_ == d) return Fail("bad number");
    }
    if (i_ < s_.size() && (s_[i_] == 'e' || s_[i_] == 'E')) {
      integer = false;
      ++i_;
      if (i_ < s_.size() && (s_[i_] == '+' || s_[i_] == '-')) ++i_;
      std::size_t d = i_;
      while (i_ < s_.size() && s_[i_] >= '0' && s_[i_] <= '9') ++i_;
      if (i_ == d) return Fail("bad number");
    }
    std::string text(s_.substr(start, i_ - start));
    v->type = JsonValue::Type::kNumber;
    v->number = std::strtod(text.c_str(), nullptr);
    std::string_view digits(text);
    bool neg = !digits.empty() && digits[0] == '-';
    if (neg) digits.remove_prefix(1);
    if (integer && digits.size() <= 18) {
      std::int64_t n = 0;
      for (char c : digits) n = n * 10 + (c - '0');
      v->is_integer = true;
      v->integer = neg ? -n : n;
    }
    return true;
  }

  std::string_view s_;
  std::size_t i_ = 0;
  std::string error_;
};

bool GetString(const JsonValue& obj, std::string_view name, std::string* out) {
  const JsonValue* v = obj.Member(name);
  if (v == nullptr || v->type != JsonValue::Type::kString) return false;
  *out = v->string;
  return true;
}

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
  std::string json_error;
  if (!JsonReader(line).ParseDocument(&doc, &json_error)) return InvalidArgument(json_error);
  if (doc.type != JsonValue::Type::kObject) return InvalidArgument("not a JSON object");
  if (!GetString(doc, "queue_name", &out->queue_name)) return InvalidArgument("no queue_name");
  if (!IsPostfixQueueName(out->queue_name)) return InvalidArgument("unknown queue_name");
  if (!GetString(doc, "queue_id", &out->queue_id) || out->queue_id.empty()) {
    return InvalidArgument("no queue_id");
  }
  if (!GetString(doc, "sender", &out->sender)) return InvalidArgument("no sender");
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
    if (r.type != JsonValue::Type::kObject || !GetString(r, "address", &address)) {
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
