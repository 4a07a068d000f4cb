// JournalReader follows the systemd journal with sd-journal and hands each entry of a matching
// program to a callback as the syslog line rsyslog would have written for it
// (FormatJournalLine, source/journal_line.h), so the file parsers read both sources the same way.
// Entries are selected by SYSLOG_IDENTIFIER prefix (sd-journal matches are exact, and Postfix's
// identifiers vary: postfix/smtpd, postfix/submission/smtpd, postfix-in/qmgr...), checked per
// entry.
//
// Start: after the entry named by the cursor file when it exists and is valid; otherwise at
// the end of the journal (start_at_end) or its beginning. The cursor of the last entry read is
// written (write + rename) after every poll that read something, when a cursor file is set.
// Not thread-safe: one thread owns a reader.
//
// Builds without libsystemd (MAILRELAY_WITH_LIBSYSTEMD=OFF, the static release binary) have no
// sd-journal: there JournalReader is JournalExportReader, which runs the host's journalctl.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "common/status.h"
#include "source/journal_line.h"

#if defined(MAILRELAY_HAVE_LIBSYSTEMD)

struct sd_journal;

namespace mailrelay {

class JournalReader {
 public:
  using Options = JournalOptions;  // follow and journalctl are not used
  using LineCallback = std::function<void(std::string_view)>;

  explicit JournalReader(Options options);
  ~JournalReader();
  JournalReader(const JournalReader&) = delete;
  JournalReader& operator=(const JournalReader&) = delete;

  // Reads every entry available now (opening the journal first if needed). Returns the bytes
  // of the lines handed out.
  std::size_t Poll(const LineCallback& on_line);

  bool is_open() const { return journal_ != nullptr; }
  // Why the journal is not open (OK when open): "journal: No such file or directory".
  Status open_status() const;
  const std::string& description() const { return description_; }

 private:
  bool Open();
  void SaveCursor();

  Options options_;
  std::string description_;
  sd_journal* journal_ = nullptr;
  int last_error_ = 0;
  std::string cursor_;  // of the last entry handed out
  std::string line_;
};

}  // namespace mailrelay

#else

#include "source/journal_export_reader.h"

namespace mailrelay {
using JournalReader = JournalExportReader;
}  // namespace mailrelay

#endif
