#include "source/journal_reader.h"

#include <sys/stat.h>
#include <systemd/sd-journal.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <utility>

#include "common/logging.h"

namespace mailrelay {

namespace {

// The value of FIELD=value data returned by sd_journal_get_data.
bool GetField(sd_journal* j, const char* field, std::string_view* out) {
  const void* data = nullptr;
  std::size_t len = 0;
  if (sd_journal_get_data(j, field, &data, &len) < 0) return false;
  std::string_view v(static_cast<const char*>(data), len);
  std::size_t name_len = std::strlen(field);
  if (v.size() <= name_len || v[name_len] != '=') return false;
  *out = v.substr(name_len + 1);
  return true;
}

}  // namespace

JournalReader::JournalReader(Options options) : options_(std::move(options)) {
  description_ = options_.path.empty() ? std::string("journal") : "journal:" + options_.path;
}

JournalReader::~JournalReader() {
  if (journal_ != nullptr) sd_journal_close(journal_);
}

bool JournalReader::Open() {
  int r = 0;
  if (options_.path.empty()) {
    r = sd_journal_open(&journal_, SD_JOURNAL_LOCAL_ONLY);
  } else {
    struct stat st {};
    if (::stat(options_.path.c_str(), &st) != 0) {
      r = -errno;
    } else if (S_ISDIR(st.st_mode)) {
      r = sd_journal_open_directory(&journal_, options_.path.c_str(), 0);
    } else {
      const char* files[] = {options_.path.c_str(), nullptr};
      r = sd_journal_open_files(&journal_, files, 0);
    }
  }
  if (r < 0) {
    if (r != last_error_) {
      Log(LogLevel::kWarn, "cannot open the journal",
          {{"journal", description_}, {"err", std::strerror(-r)}});
    }
    last_error_ = r;
    journal_ = nullptr;
    return false;
  }
  last_error_ = 0;
  bool positioned = false;
  if (!options_.cursor_file.empty()) {
    std::string cursor = LoadJournalCursor(options_.cursor_file);
    if (!cursor.empty() && sd_journal_seek_cursor(journal_, cursor.c_str()) >= 0) {
      // seek_cursor lands on the entry itself (or the nearest one if it was vacuumed): step
      // onto it and skip it only when it is exactly the one already read.
      if (sd_journal_next(journal_) > 0 && sd_journal_test_cursor(journal_, cursor.c_str()) <= 0) {
        sd_journal_previous(journal_);
      }
      cursor_ = cursor;
      positioned = true;
      Log(LogLevel::kInfo, "resuming the journal at the saved cursor",
          {{"cursor_file", options_.cursor_file}});
    }
  }
  if (!positioned) {
    if (options_.start_at_end) {
      sd_journal_seek_tail(journal_);
      sd_journal_previous(journal_);  // onto the last entry: next() yields only new ones
    } else {
      sd_journal_seek_head(journal_);
    }
  }
  // Sets up inotify so that sd_journal_process() notices new and rotated journal files.
  sd_journal_get_fd(journal_);
  Log(LogLevel::kInfo, "reading the journal", {{"journal", description_}});
  return true;
}

std::size_t JournalReader::Poll(const LineCallback& on_line) {
  if (journal_ == nullptr && !Open()) return 0;
  sd_journal_process(journal_);
  std::size_t bytes = 0;
  bool read_any = false;
  for (;;) {
    int r = sd_journal_next(journal_);
    if (r < 0) {
      Log(LogLevel::kWarn, "journal read error", {{"err", std::strerror(-r)}});
      break;
    }
    if (r == 0) break;
    if (!options_.cursor_file.empty()) {
      char* c = nullptr;
      if (sd_journal_get_cursor(journal_, &c) >= 0 && c != nullptr) {
        cursor_ = c;
        read_any = true;
      }
      std::free(c);
    }
    std::string_view ident;
    if (!GetField(journal_, "SYSLOG_IDENTIFIER", &ident) ||
        ident.substr(0, options_.identifier_prefix.size()) != options_.identifier_prefix) {
      continue;
    }
    std::string_view message;
    if (!GetField(journal_, "MESSAGE", &message)) continue;
    // Copy before the next get_data call invalidates the views.
    std::string ident_s(ident);
    std::string message_s(message);
    std::string_view pid;
    if (!GetField(journal_, "SYSLOG_PID", &pid)) GetField(journal_, "_PID", &pid);
    std::string pid_s(pid);
    std::string_view host;
    std::string host_s = GetField(journal_, "_HOSTNAME", &host) ? std::string(host) : "";
    std::uint64_t usec = 0;
    sd_journal_get_realtime_usec(journal_, &usec);
    FormatJournalLine(usec, host_s, ident_s, pid_s, message_s, &line_);
    bytes += line_.size() + 1;
    on_line(line_);
  }
  if (read_any) SaveCursor();
  return bytes;
}

void JournalReader::SaveCursor() {
  if (!options_.cursor_file.empty() && !cursor_.empty())
    SaveJournalCursor(options_.cursor_file, cursor_);
}

Status JournalReader::open_status() const {
  if (journal_ != nullptr) return Status::Ok();
  if (last_error_ < 0) return ErrnoStatus(-last_error_, description_);
  return Unavailable(description_ + ": not open");
}

}  // namespace mailrelay
