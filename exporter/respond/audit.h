// The audit log: one JSON object per line (JSON lines), appended with one write(2) per record
// on a file opened O_APPEND, so that records of the respond server and of `respond release`
// (another process) never interleave. Every decision is recorded: each notification, each
// refusal with its reason, each hold and release with the exact commands (argv) that ran or,
// in dry-run, would have run, their exit status and output, and the files written.
// Field reference: docs/respond.md ("Audit log").
#pragma once

#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace mailrelay::respond {

// Builds one compact JSON object. String values are made valid UTF-8 without control bytes
// (SanitizeLabelValue, so `\n` shows as `?`) and escaped; values that had to change get a
// sibling "<key>_hex" with their raw bytes.
class JsonLine {
 public:
  JsonLine& Str(std::string_view key, std::string_view value);
  JsonLine& Int(std::string_view key, std::int64_t value);
  JsonLine& Num(std::string_view key, double value);
  JsonLine& Bool(std::string_view key, bool value);
  JsonLine& StrArray(std::string_view key, const std::vector<std::string>& values);
  // `json` must be a complete JSON value (another JsonLine's Finish(), an array of them).
  JsonLine& Raw(std::string_view key, std::string_view json);
  std::string Finish() const;  // "{...}"

 private:
  void Key(std::string_view key);
  std::string out_;
};

// A JSON string literal of `value`, sanitised as JsonLine does.
std::string JsonStringLiteral(std::string_view value);

class AuditLog {
 public:
  // `path` "" writes the records to stderr (for `respond status` and tests).
  explicit AuditLog(std::string path) : path_(std::move(path)) {}
  ~AuditLog();
  AuditLog(const AuditLog&) = delete;
  AuditLog& operator=(const AuditLog&) = delete;

  // Opens (creates 0640) the file for appending. An error names the path.
  Status Open();
  // Appends `record` (a JsonLine::Finish()) and a newline in one write. A failure is returned
  // and also logged; the caller counts it.
  Status Append(const std::string& record);
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  int fd_ = -1;
  std::mutex mutex_;
};

}  // namespace mailrelay::respond
