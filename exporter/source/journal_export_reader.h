// JournalExportReader: --postfix.journal where libsystemd is not linked (MAILRELAY_WITH_LIBSYSTEMD
// off: the static release binary). It runs the host's journalctl in export format and hands each
// entry of a matching program to a callback as FormatJournalLine's syslog line, exactly like
// JournalReader (sd-journal) does; it is JournalReader in such builds (source/journal_reader.h).
//
// journalctl comes with systemd wherever there is a journal, and reads that host's journal files
// in whatever format version they have, so the static binary carries no journal code of its own.
// It runs as
//   journalctl --output=export --output-fields=SYSLOG_IDENTIFIER,MESSAGE,SYSLOG_PID,_PID,_HOSTNAME
//              --quiet --no-pager [--directory=DIR | --file=FILE] [--follow]
//              [--after-cursor=CURSOR | --lines=0 | --no-tail]
// (every option exists since systemd 236; EL8 has 239). Position: the cursor of the last entry
// read (saved to the cursor file, write + rename, after every poll that read something) is passed
// with --after-cursor when journalctl starts; without one, --lines=0 (start at the end) or
// --no-tail (from the beginning) when following, everything when not (--oneshot).
//
// When journalctl ends while following (journal removed, killed...), the reader is not open
// (mailrelay_log_file_open 0, /-/ready says why), the reason and journalctl's stderr are logged,
// and it is started again after the last entry read, at most every 5 s. A saved cursor that
// journalctl refuses (it exits non-zero before printing an entry) is logged and dropped once;
// reading then starts as without a cursor. Not thread-safe: one thread owns a reader.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "common/child_process.h"
#include "common/status.h"
#include "source/journal_line.h"

namespace mailrelay {

// The fields of one journal entry that the readers use.
struct JournalExportEntry {
  std::string cursor;               // __CURSOR
  std::uint64_t realtime_usec = 0;  // __REALTIME_TIMESTAMP
  std::string identifier;           // SYSLOG_IDENTIFIER
  std::string message;              // MESSAGE
  std::string syslog_pid;           // SYSLOG_PID
  std::string pid;                  // _PID
  std::string hostname;             // _HOSTNAME
  bool has_identifier = false;
  bool has_message = false;
};

// Parser of journalctl's export format (systemd's "Journal Export Format"), fed in chunks as they
// arrive from the pipe; a field or entry cut between two chunks is completed by the next. Pure.
//   text field    NAME=value\n
//   binary field  NAME\n, the value's length as 64-bit little-endian, the value, \n
//                 (journalctl uses it for values with newlines or other control characters)
//   an empty line ends an entry.
// Input that is not that format (a field name with characters other than A-Z, 0-9 and _, a
// binary field without its closing newline) and values above kMaxValueBytes are skipped and
// counted in malformed(); parsing continues with the next line or entry.
class JournalExportParser {
 public:
  using EntryCallback = std::function<void(const JournalExportEntry&)>;
  static constexpr std::uint64_t kMaxValueBytes = 16u << 20;  // 16 MiB

  void Feed(std::string_view data, const EntryCallback& on_entry);
  // End of the stream: an entry missing only its closing empty line is handed out too.
  void Finish(const EntryCallback& on_entry);
  std::uint64_t malformed() const { return malformed_; }

 private:
  // Parses buffer_ from its start; returns the bytes consumed.
  std::size_t Parse(const EntryCallback& on_entry);
  void SetField(std::string_view name, std::string_view value);
  void EndEntry(const EntryCallback& on_entry);

  std::string buffer_;
  JournalExportEntry entry_;
  bool entry_has_fields_ = false;
  std::uint64_t skip_bytes_ = 0;  // of an oversized binary value, plus its newline
  bool skip_line_ = false;        // an oversized text line: drop up to its newline
  std::uint64_t malformed_ = 0;
};

class JournalExportReader {
 public:
  using Options = JournalOptions;
  using LineCallback = std::function<void(std::string_view)>;

  explicit JournalExportReader(Options options);
  ~JournalExportReader();  // stops journalctl (SIGTERM, then SIGKILL after 2 s)
  JournalExportReader(const JournalExportReader&) = delete;
  JournalExportReader& operator=(const JournalExportReader&) = delete;

  // Reads what journalctl has written (starting it first if needed). Following: never blocks,
  // at most 16 MiB per call. Not following: runs journalctl to its end. Returns the bytes of the
  // lines handed out.
  std::size_t Poll(const LineCallback& on_line);

  // journalctl runs (or, not following, ran to its end with status 0).
  bool is_open() const { return open_; }
  // Why it is not open (OK when open): no journalctl (not found), journalctl failed.
  Status open_status() const {
    if (open_) return Status::Ok();
    if (last_error_ < 0) return ErrnoStatus(-last_error_, description_);
    return Unavailable(description_ + ": not open");
  }
  const std::string& description() const { return description_; }
  std::uint64_t malformed() const { return parser_.malformed(); }

  // The command Poll() starts journalctl with, given the cursor to continue after ("" for none).
  std::vector<std::string> Command(const std::string& journalctl,
                                   const std::string& after_cursor) const;

 private:
  bool Start();
  void Read(bool to_end, const LineCallback& on_line, std::size_t* bytes);
  void OnEntry(const JournalExportEntry& entry, const LineCallback& on_line, std::size_t* bytes);
  void OnExit();
  void Kill();
  void SetError(int err, const std::string& why);

  Options options_;
  std::string description_;
  ChildProcess child_;
  bool running_ = false;
  bool open_ = false;
  bool finished_ = false;  // not following: journalctl ran to its end
  bool cursor_loaded_ = false;
  int last_error_ = 0;
  std::string cursor_;        // of the last entry read (every program's)
  std::string start_cursor_;  // the one journalctl was started after
  std::uint64_t entries_since_start_ = 0;
  bool read_any_ = false;    // since the last cursor save
  std::string stderr_tail_;  // journalctl's last words
  std::chrono::steady_clock::time_point next_start_{};
  JournalExportParser parser_;
  std::string line_;
};

}  // namespace mailrelay
