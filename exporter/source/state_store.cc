#include "source/state_store.h"

#include <charconv>

#include "common/file_io.h"
#include "common/text.h"

namespace mailrelay {

namespace {

constexpr std::string_view kHeader = "mailrelay_exporter state 1";

std::string Hex(std::uint64_t v) {
  char buf[17];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v, 16);
  (void)ec;
  return std::string(buf, end);
}

bool ParseHex(std::string_view in, std::uint64_t* out) {
  if (in.empty() || in.size() > 16) return false;
  auto [ptr, ec] = std::from_chars(in.data(), in.data() + in.size(), *out, 16);
  return ec == std::errc() && ptr == in.data() + in.size();
}

// Splits off the next space-separated field.
std::string_view NextField(std::string_view* rest) {
  auto sp = rest->find(' ');
  std::string_view field = rest->substr(0, sp);
  rest->remove_prefix(sp == std::string_view::npos ? rest->size() : sp + 1);
  return field;
}

bool ParseLogLine(std::string_view rest, std::string* path, ReadPosition* pos) {
  std::uint64_t dev = 0, ino = 0, offset = 0, fp = 0, fp_len = 0, skip = 0;
  if (!ParseUint64(NextField(&rest), &dev) || !ParseUint64(NextField(&rest), &ino) ||
      !ParseUint64(NextField(&rest), &offset) || !ParseHex(NextField(&rest), &fp) ||
      !ParseUint64(NextField(&rest), &fp_len) || !ParseUint64(NextField(&rest), &skip)) {
    return false;
  }
  if (fp_len > kFingerprintMaxBytes || skip > 1 || rest.empty()) return false;
  pos->file = {dev, ino, fp, static_cast<std::uint32_t>(fp_len)};
  pos->offset = offset;
  pos->skip_to_newline = skip == 1;
  *path = std::string(rest);
  return true;
}

}  // namespace

std::string SerializeState(const StateEntries& entries) {
  std::string out(kHeader);
  out += '\n';
  for (const auto& [path, p] : entries) {
    if (path.empty() || path.find('\n') != std::string::npos) continue;  // cannot be stored
    out += "log " + std::to_string(p.file.dev) + ' ' + std::to_string(p.file.ino) + ' ' +
           std::to_string(p.offset) + ' ' + Hex(p.file.fingerprint) + ' ' +
           std::to_string(p.file.fingerprint_len) + ' ' + (p.skip_to_newline ? "1" : "0") + ' ' +
           path + '\n';
  }
  out += "end\n";
  return out;
}

Status ParseState(std::string_view text, StateEntries* out) {
  out->clear();
  bool header = false;
  std::size_t line_no = 0;
  while (!text.empty()) {
    auto nl = text.find('\n');
    if (nl == std::string_view::npos) {
      return InvalidArgument("incomplete last line");
    }
    std::string_view line = text.substr(0, nl);
    text.remove_prefix(nl + 1);
    ++line_no;
    if (!header) {
      if (line != kHeader) {
        return InvalidArgument("not a mailrelay_exporter state file (version 1)");
      }
      header = true;
      continue;
    }
    if (line == "end") {
      if (!text.empty()) {
        return InvalidArgument("data after end");
      }
      return Status::Ok();
    }
    std::string path;
    ReadPosition pos;
    if (line.substr(0, 4) != "log " || !ParseLogLine(line.substr(4), &path, &pos)) {
      return InvalidArgument("malformed line " + std::to_string(line_no));
    }
    (*out)[path] = pos;
  }
  return InvalidArgument(header ? "truncated (no end line)" : "empty");
}

Status StateStore::Load() {
  entries_.clear();
  dirty_ = false;
  StatusOr<std::string> text = ReadWholeFile(path_, 64u << 20);
  if (!text.ok()) {
    if (text.status().code() == StatusCode::kNotFound) return Status::Ok();
    if (text.status().code() == StatusCode::kInvalidArgument) {
      return InvalidArgument(path_ + ": too large for a state file");
    }
    return text.status();
  }
  StateEntries parsed;
  if (Status parsed_ok = ParseState(*text, &parsed); !parsed_ok.ok()) {
    return parsed_ok.WithContext(path_);
  }
  entries_ = std::move(parsed);
  return Status::Ok();
}

const ReadPosition* StateStore::Find(std::string_view log_path) const {
  auto it = entries_.find(log_path);
  return it == entries_.end() ? nullptr : &it->second;
}

void StateStore::Set(const std::string& log_path, const ReadPosition& position) {
  auto it = entries_.find(log_path);
  if (it != entries_.end() && it->second == position) return;
  entries_[log_path] = position;
  dirty_ = true;
}

Status StateStore::Save() {
  if (Status saved = WriteFileAtomically(path_, SerializeState(entries_), 0640); !saved.ok()) {
    return saved;
  }
  dirty_ = false;
  return Status::Ok();
}

}  // namespace mailrelay
