// A small strict RFC 8259 JSON reader shared by the parsers of JSON input (postqueue -j lines,
// Alertmanager webhook payloads): a document model of plain values, bounded nesting, exact \u
// escapes (surrogate pairs, no lone surrogates), never crashes or loops on garbage. Pure: no
// I/O. String bytes that are not escapes are kept as they are (callers sanitise label values).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace mailrelay {

struct JsonMember;
struct JsonValue {
  enum class Type { kNull, kBool, kNumber, kString, kArray, kObject };
  Type type = Type::kNull;
  bool boolean = false;
  double number = 0;
  bool is_integer = false;  // an integer literal of at most 18 digits: `integer` holds it
  std::int64_t integer = 0;
  std::string string;
  std::vector<JsonValue> array;
  std::vector<JsonMember> object;  // in document order; not pair<>: clang + libstdc++ reject it

  // The member `name` of an object (the last one when repeated), or null.
  const JsonValue* Member(std::string_view name) const;
  bool is_string() const { return type == Type::kString; }
  bool is_object() const { return type == Type::kObject; }
  bool is_array() const { return type == Type::kArray; }
};

struct JsonMember {
  std::string key;
  JsonValue value;
};

// Nesting deeper than this is an error (a stack bound, not a format rule).
inline constexpr int kJsonMaxDepth = 32;

// One JSON document (surrounding white space allowed). InvalidArgument with the reason
// ("unterminated string", "trailing characters after JSON value", ...) otherwise.
Status ParseJson(std::string_view text, JsonValue* out);

// The string member `name`: false when absent or not a string.
bool JsonGetString(const JsonValue& object, std::string_view name, std::string* out);

}  // namespace mailrelay
