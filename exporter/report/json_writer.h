// JsonWriter: a small streaming writer of indented JSON (two spaces), keys in call order.
// Strings must be valid UTF-8 (the report sanitises outside text first); '"', '\\' and control
// bytes are escaped.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace mailrelay::report {

class JsonWriter {
 public:
  void BeginObject() { Open('{'); }
  void EndObject() { Close('}'); }
  void BeginArray() { Open('['); }
  void EndArray() { Close(']'); }
  void Key(std::string_view key);
  void String(std::string_view value);
  void Uint(std::uint64_t value);
  void Int(std::int64_t value);
  void Bool(bool value);
  void Null();

  // Key + value shorthands.
  void Field(std::string_view key, std::string_view value) {
    Key(key);
    String(value);
  }
  void Field(std::string_view key, const char* value) {
    Key(key);
    String(value);
  }
  void Field(std::string_view key, std::uint64_t value) {
    Key(key);
    Uint(value);
  }
  void FieldInt(std::string_view key, std::int64_t value) {
    Key(key);
    Int(value);
  }
  void FieldBool(std::string_view key, bool value) {
    Key(key);
    Bool(value);
  }
  void FieldNull(std::string_view key) {
    Key(key);
    Null();
  }

  // The document, with a final newline.
  std::string Take();

 private:
  struct Level {
    bool object = false;
    bool empty = true;
  };
  void Open(char c);
  void Close(char c);
  void BeforeValue();
  void NewLine();

  std::string out_;
  std::vector<Level> stack_;
  bool after_key_ = false;
};

// JSON string literal (with quotes).
std::string JsonQuote(std::string_view s);

}  // namespace mailrelay::report
