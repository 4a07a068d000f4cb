// The hold list: respond's record of the accounts whose mail is held, and the file the MTA
// snippets read (Exim: lsearch; Postfix: an access(5) table for check_sasl_access, through
// postmap). One account per line, its data after a blank:
//   bob@example.com HOLD held by mailrelay_exporter respond since=2026-11-23T10:00:00Z
//   alert=MailRelayAuthrelayHigh by=webhook
// Postfix returns the text after HOLD to smtpd (it is logged); Exim ignores it. Comments,
// blank lines and lines an admin added are kept as they are; a line starting with white space
// continues the previous one (both formats say so). Keys compare ASCII case-insensitively, as
// lsearch and postmap do. A release leaves a comment the MTAs ignore and respond reads:
//   #released bob@example.com 2026-11-23T11:00:00Z
// so that the repeats of the alert a person released the account from do not hold it again
// (a new incident, an alert that started later, does).
//
// HoldListFile serialises every read-modify-write, across threads and processes (the respond
// server and `respond release`), with an exclusive flock on PATH.lock, and replaces the list
// atomically (common/file_io.h), mode 0644: the MTA runs as its own user.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "common/unique_fd.h"

namespace mailrelay::respond {

struct HoldEntry {
  std::string account;
  std::int64_t since = 0;  // Unix seconds; 0 when the line does not say (an admin's line)
  std::string alert;       // the alert that caused it, "" when unknown
  std::string by;          // "webhook" or "cli"
};

// "2026-11-23T10:00:00Z"; and back (0 when `text` is not that form).
std::string FormatUtc(std::int64_t unix_seconds);
std::int64_t ParseUtc(std::string_view text);

class HoldListText {
 public:
  static HoldListText Parse(std::string_view text);

  std::vector<HoldEntry> Entries() const;  // in file order, one per account
  std::optional<HoldEntry> Find(std::string_view account) const;
  // Appends the entry's line (a header comment first when the list was empty). False when
  // the account is listed already (nothing changes).
  bool Add(const HoldEntry& entry);
  // Removes every line of the account (with its continuation lines). False when not listed.
  bool Remove(std::string_view account);
  // The release comment of the account: replaced by MarkReleased, dropped by ClearReleased;
  // ReleasedAt is 0 when there is none.
  void MarkReleased(std::string_view account, std::int64_t when);
  void ClearReleased(std::string_view account);
  std::int64_t ReleasedAt(std::string_view account) const;
  std::string Serialize() const;

  // The line Add() writes. The account must be plausible (policy.h); `alert` is written only
  // when it is a metric-name-like word.
  static std::string FormatLine(const HoldEntry& entry);

 private:
  struct Line {
    std::string text;     // without the newline
    std::string account;  // the key of an entry line (continuations too), else ""
  };
  std::vector<Line> lines_;
};

class HoldListFile {
 public:
  explicit HoldListFile(std::string path) : path_(std::move(path)) {}
  const std::string& path() const { return path_; }

  // An exclusive lock on PATH.lock (created 0600 when missing); released when destroyed.
  class Lock {
   public:
    explicit Lock(int fd) : fd_(fd) {}

   private:
    UniqueFd fd_;
  };
  StatusOr<std::unique_ptr<Lock>> Acquire() const;

  // The list (empty when the file does not exist yet).
  StatusOr<HoldListText> Read() const;
  Status Write(const HoldListText& list) const;

 private:
  std::string path_;
};

}  // namespace mailrelay::respond
