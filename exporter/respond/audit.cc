#include "respond/audit.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstdio>

#include "common/file_io.h"
#include "common/logging.h"
#include "common/text.h"

namespace mailrelay::respond {

namespace {

constexpr std::size_t kMaxStringBytes = 8192;

std::string Hex(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (char c : bytes) {
    auto u = static_cast<unsigned char>(c);
    out += kDigits[u >> 4];
    out += kDigits[u & 15];
  }
  return out;
}

}  // namespace

std::string JsonStringLiteral(std::string_view value) {
  return DoubleQuoted(SanitizeLabelValue(value, kMaxStringBytes), EscapeStyle::kJson);
}

void JsonLine::Key(std::string_view key) {
  out_ += out_.empty() ? "{" : ",";
  out_ += DoubleQuoted(key, EscapeStyle::kJson);
  out_ += ':';
}

JsonLine& JsonLine::Str(std::string_view key, std::string_view value) {
  Key(key);
  std::string clean = SanitizeLabelValue(value, kMaxStringBytes);
  out_ += DoubleQuoted(clean, EscapeStyle::kJson);
  if (clean != value && value.size() <= kMaxStringBytes) {
    Key(std::string(key) + "_hex");
    out_ += '"' + Hex(value) + '"';
  }
  return *this;
}

JsonLine& JsonLine::Int(std::string_view key, std::int64_t value) {
  Key(key);
  out_ += std::to_string(value);
  return *this;
}

JsonLine& JsonLine::Num(std::string_view key, double value) {
  Key(key);
  if (!std::isfinite(value)) {
    out_ += "null";
    return *this;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3f", value);
  out_ += buf;
  return *this;
}

JsonLine& JsonLine::Bool(std::string_view key, bool value) {
  Key(key);
  out_ += value ? "true" : "false";
  return *this;
}

JsonLine& JsonLine::StrArray(std::string_view key, const std::vector<std::string>& values) {
  Key(key);
  out_ += '[';
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (i > 0) out_ += ',';
    out_ += JsonStringLiteral(values[i]);
  }
  out_ += ']';
  return *this;
}

JsonLine& JsonLine::Raw(std::string_view key, std::string_view json) {
  Key(key);
  out_ += json;
  return *this;
}

std::string JsonLine::Finish() const { return out_.empty() ? "{}" : out_ + "}"; }

AuditLog::~AuditLog() {
  if (fd_ >= 0) ::close(fd_);
}

Status AuditLog::Open() {
  if (path_.empty()) return Status::Ok();
  fd_ = ::open(path_.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
  if (fd_ < 0) return ErrnoStatus(errno, "cannot open the audit log " + path_);
  return Status::Ok();
}

Status AuditLog::Append(const std::string& record) {
  std::string line = record + "\n";
  std::lock_guard<std::mutex> lock(mutex_);
  int fd = path_.empty() ? STDERR_FILENO : fd_;
  if (fd < 0 || !WriteAll(fd, line)) {
    Status failed = ErrnoStatus(errno, "cannot write the audit log " + path_);
    Log(LogLevel::kError, "audit log write failed", {{"err", failed.message()}});
    return failed;
  }
  return Status::Ok();
}

}  // namespace mailrelay::respond
