#include "report/json_writer.h"

#include "common/text.h"

namespace mailrelay::report {

std::string JsonQuote(std::string_view s) { return DoubleQuoted(s, EscapeStyle::kJson); }

void JsonWriter::NewLine() {
  out_ += '\n';
  out_.append(stack_.size() * 2, ' ');
}

void JsonWriter::BeforeValue() {
  if (after_key_) {
    after_key_ = false;
    return;
  }
  if (stack_.empty()) return;
  if (!stack_.back().empty) out_ += ',';
  stack_.back().empty = false;
  NewLine();
}

void JsonWriter::Key(std::string_view key) {
  BeforeValue();
  out_ += JsonQuote(key);
  out_ += ": ";
  after_key_ = true;
}

void JsonWriter::Open(char c) {
  BeforeValue();
  out_ += c;
  stack_.push_back({c == '{', true});
}

void JsonWriter::Close(char c) {
  bool empty = stack_.back().empty;
  stack_.pop_back();
  if (!empty) NewLine();
  out_ += c;
}

void JsonWriter::String(std::string_view value) {
  BeforeValue();
  out_ += JsonQuote(value);
}

void JsonWriter::Uint(std::uint64_t value) {
  BeforeValue();
  out_ += std::to_string(value);
}

void JsonWriter::Int(std::int64_t value) {
  BeforeValue();
  out_ += std::to_string(value);
}

void JsonWriter::Bool(bool value) {
  BeforeValue();
  out_ += value ? "true" : "false";
}

void JsonWriter::Null() {
  BeforeValue();
  out_ += "null";
}

std::string JsonWriter::Take() {
  std::string out = std::move(out_);
  out += '\n';
  out_.clear();
  stack_.clear();
  after_key_ = false;
  return out;
}

}  // namespace mailrelay::report
