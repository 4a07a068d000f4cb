// What the two journal readers share: their options, the cursor file, and the syslog line made
// of one entry,
//   `YYYY-MM-DDTHH:MM:SS.ffffffZ host IDENTIFIER[PID]: MESSAGE`
// so the file parsers read journal entries and rsyslog's lines the same way.
//   JournalReader        libsystemd's sd-journal (source/journal_reader.h, dynamic builds)
//   JournalExportReader  the host's `journalctl -o export` (source/journal_export_reader.h,
//                        builds without libsystemd such as the static release binary)
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace mailrelay {

struct JournalOptions {
  std::string path;         // journal directory or file; empty: the local journal
  std::string cursor_file;  // empty: no cursor kept
  std::string identifier_prefix = "postfix";
  bool start_at_end = true;
  // false (--oneshot): read what the journal holds now and stop. sd-journal does that on every
  // poll anyway; journalctl then runs without --follow and is read to its end.
  bool follow = true;
  // JournalExportReader: journalctl to run; empty: /usr/bin/journalctl, then /bin/journalctl.
  std::string journalctl;
};

// Writes the syslog line of one entry into *out (replacing its contents). `realtime_usec` is
// the entry's wall-clock time (printed in UTC); an empty `host` becomes "localhost", an empty
// `pid` drops the [PID]; newlines in the message become spaces (one entry is one line).
void FormatJournalLine(std::uint64_t realtime_usec, std::string_view host,
                       std::string_view identifier, std::string_view pid, std::string_view message,
                       std::string* out);

// Writes `cursor` and a newline to `file` atomically (write + rename); a failure is logged.
void SaveJournalCursor(const std::string& file, const std::string& cursor);

// The cursor saved in `file`, or "" when there is none.
std::string LoadJournalCursor(const std::string& file);

}  // namespace mailrelay
