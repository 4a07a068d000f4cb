#include "source/journal_export_reader.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <thread>
#include <utility>

#include "common/logging.h"
#include "common/text.h"

namespace mailrelay {

namespace {

constexpr std::size_t kMaxReadPerPoll = 16u << 20;
constexpr std::size_t kStderrTail = 2048;
constexpr auto kRestartDelay = std::chrono::seconds(5);

bool IsFieldName(std::string_view name) {
  if (name.empty()) return false;
  for (char c : name) {
    if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_')) return false;
  }
  return true;
}

std::uint64_t LittleEndian64(const char* p) {
  std::uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(p[i]);
  return v;
}

void SetNonBlocking(int fd) {
  if (fd < 0) return;
  int flags = ::fcntl(fd, F_GETFL);
  if (flags >= 0) ::fcntl(fd, F_SETFL, flags | O_NONBLOCK);
}

}  // namespace

// --- JournalExportParser ---------------------------------------------------------------------

void JournalExportParser::SetField(std::string_view name, std::string_view value) {
  entry_has_fields_ = true;
  if (name == "MESSAGE") {
    entry_.message.assign(value);
    entry_.has_message = true;
  } else if (name == "SYSLOG_IDENTIFIER") {
    entry_.identifier.assign(value);
    entry_.has_identifier = true;
  } else if (name == "__CURSOR") {
    entry_.cursor.assign(value);
  } else if (name == "__REALTIME_TIMESTAMP") {
    std::uint64_t usec = 0;
    entry_.realtime_usec = ParseUint64(value, &usec) ? usec : 0;
  } else if (name == "SYSLOG_PID") {
    entry_.syslog_pid.assign(value);
  } else if (name == "_PID") {
    entry_.pid.assign(value);
  } else if (name == "_HOSTNAME") {
    entry_.hostname.assign(value);
  }
}

void JournalExportParser::EndEntry(const EntryCallback& on_entry) {
  if (entry_has_fields_) on_entry(entry_);
  entry_ = JournalExportEntry{};
  entry_has_fields_ = false;
}

std::size_t JournalExportParser::Parse(const EntryCallback& on_entry) {
  std::string_view buf(buffer_);
  std::size_t pos = 0;
  while (pos < buf.size()) {
    if (skip_bytes_ > 0) {
      std::size_t n = static_cast<std::size_t>(
          std::min<std::uint64_t>(skip_bytes_, static_cast<std::uint64_t>(buf.size() - pos)));
      skip_bytes_ -= n;
      pos += n;
      continue;
    }
    std::size_t nl = buf.find('\n', pos);
    if (nl == std::string_view::npos) {
      if (buf.size() - pos > kMaxValueBytes) {  // a text line that never ends: drop it
        ++malformed_;
        skip_line_ = true;
        return buf.size();
      }
      break;
    }
    std::string_view line = buf.substr(pos, nl - pos);
    if (skip_line_) {
      skip_line_ = false;
      pos = nl + 1;
      continue;
    }
    if (line.empty()) {
      EndEntry(on_entry);
      pos = nl + 1;
      continue;
    }
    std::size_t eq = line.find('=');
    if (eq != std::string_view::npos) {
      if (IsFieldName(line.substr(0, eq))) {
        SetField(line.substr(0, eq), line.substr(eq + 1));
      } else {
        ++malformed_;
      }
      pos = nl + 1;
      continue;
    }
    if (!IsFieldName(line)) {
      ++malformed_;
      pos = nl + 1;
      continue;
    }
    // Binary field: length, value, newline.
    std::size_t after_name = nl + 1;
    if (buf.size() - after_name < 8) break;
    std::uint64_t len = LittleEndian64(buf.data() + after_name);
    if (len > kMaxValueBytes) {
      ++malformed_;
      skip_bytes_ = len + 1;
      pos = after_name + 8;
      continue;
    }
    std::size_t value_at = after_name + 8;
    if (buf.size() - value_at < len + 1) break;
    std::size_t end = value_at + static_cast<std::size_t>(len);
    if (buf[end] != '\n') {
      // Not the format: resynchronise at the next line.
      ++malformed_;
      pos = after_name;
      continue;
    }
    SetField(line, buf.substr(value_at, static_cast<std::size_t>(len)));
    pos = end + 1;
  }
  return pos;
}

void JournalExportParser::Feed(std::string_view data, const EntryCallback& on_entry) {
  buffer_.append(data);
  std::size_t used = Parse(on_entry);
  buffer_.erase(0, used);
}

void JournalExportParser::Finish(const EntryCallback& on_entry) {
  if (!buffer_.empty()) {
    // Only a last text field without its newline can be completed; anything else is cut off.
    std::string_view line(buffer_);
    std::size_t eq = line.find('=');
    if (!skip_line_ && skip_bytes_ == 0 && eq != std::string_view::npos &&
        IsFieldName(line.substr(0, eq))) {
      SetField(line.substr(0, eq), line.substr(eq + 1));
    } else {
      ++malformed_;
    }
    buffer_.clear();
  }
  skip_bytes_ = 0;
  skip_line_ = false;
  EndEntry(on_entry);
}

// --- JournalExportReader ---------------------------------------------------------------------

JournalExportReader::JournalExportReader(Options options) : options_(std::move(options)) {
  description_ = options_.path.empty() ? std::string("journal") : "journal:" + options_.path;
}

JournalExportReader::~JournalExportReader() { Kill(); }

std::vector<std::string> JournalExportReader::Command(const std::string& journalctl,
                                                      const std::string& after_cursor) const {
  std::vector<std::string> argv = {journalctl, "--output=export",
                                   "--output-fields=SYSLOG_IDENTIFIER,MESSAGE,SYSLOG_PID,_PID,"
                                   "_HOSTNAME",
                                   "--quiet", "--no-pager"};
  if (!options_.path.empty()) {
    struct stat st {};
    bool dir = ::stat(options_.path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
    argv.push_back((dir ? "--directory=" : "--file=") + options_.path);
  }
  if (options_.follow) argv.emplace_back("--follow");
  if (!after_cursor.empty()) {
    argv.push_back("--after-cursor=" + after_cursor);
  } else if (options_.follow) {
    argv.emplace_back(options_.start_at_end ? "--lines=0" : "--no-tail");
  }
  return argv;
}

void JournalExportReader::SetError(int err, const std::string& why) {
  if (err != last_error_ || open_) {
    Log(LogLevel::kWarn, "cannot read the journal", {{"journal", description_}, {"err", why}});
  }
  last_error_ = err;
  open_ = false;
}

bool JournalExportReader::Start() {
  std::string journalctl = options_.journalctl;
  if (journalctl.empty()) journalctl = FindExecutable({"/usr/bin/journalctl", "/bin/journalctl"});
  if (journalctl.empty()) {
    SetError(-ENOENT, "journalctl not found in /usr/bin or /bin");
    return false;
  }
  if (!cursor_loaded_) {
    cursor_loaded_ = true;
    if (!options_.cursor_file.empty()) {
      cursor_ = LoadJournalCursor(options_.cursor_file);
      if (!cursor_.empty()) {
        Log(LogLevel::kInfo, "resuming the journal at the saved cursor",
            {{"cursor_file", options_.cursor_file}});
      }
    }
  }
  std::vector<std::string> argv = Command(journalctl, cursor_);
  std::string error;
  int exec_errno = 0;
  if (!SpawnChild(argv, /*capture_stderr=*/true, &child_, &error, &exec_errno)) {
    SetError(exec_errno != 0 ? -exec_errno : -EIO, error);
    return false;
  }
  SetNonBlocking(child_.stdout_fd);
  SetNonBlocking(child_.stderr_fd);
  running_ = true;
  open_ = true;
  last_error_ = 0;
  start_cursor_ = cursor_;
  entries_since_start_ = 0;
  stderr_tail_.clear();
  Log(LogLevel::kInfo, "reading the journal through journalctl",
      {{"journal", description_}, {"journalctl", journalctl}});
  return true;
}

void JournalExportReader::OnEntry(const JournalExportEntry& entry, const LineCallback& on_line,
                                  std::size_t* bytes) {
  ++entries_since_start_;
  if (!entry.cursor.empty()) {
    cursor_ = entry.cursor;
    read_any_ = true;
  }
  const std::string& prefix = options_.identifier_prefix;
  if (!entry.has_identifier || entry.identifier.compare(0, prefix.size(), prefix) != 0 ||
      !entry.has_message) {
    return;
  }
  FormatJournalLine(entry.realtime_usec, entry.hostname, entry.identifier,
                    entry.syslog_pid.empty() ? entry.pid : entry.syslog_pid, entry.message, &line_);
  *bytes += line_.size() + 1;
  on_line(line_);
}

void JournalExportReader::Read(bool to_end, const LineCallback& on_line, std::size_t* bytes) {
  auto on_entry = [&](const JournalExportEntry& e) { OnEntry(e, on_line, bytes); };
  char buf[65536];
  std::size_t read_now = 0;
  while (running_ && (to_end || read_now < kMaxReadPerPoll)) {
    pollfd fds[2] = {{child_.stdout_fd, POLLIN, 0}, {child_.stderr_fd, POLLIN, 0}};
    int pr = ::poll(fds, child_.stderr_fd >= 0 ? 2 : 1, to_end ? -1 : 0);
    if (pr < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if (pr == 0) break;  // nothing more for now
    if (child_.stderr_fd >= 0 && fds[1].revents != 0) {
      ssize_t n = ::read(child_.stderr_fd, buf, sizeof buf);
      if (n > 0) {
        stderr_tail_.append(buf, static_cast<std::size_t>(n));
        if (stderr_tail_.size() > kStderrTail) {
          stderr_tail_.erase(0, stderr_tail_.size() - kStderrTail);
        }
      } else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
        ::close(child_.stderr_fd);
        child_.stderr_fd = -1;
      }
    }
    if (fds[0].revents == 0) continue;
    ssize_t n = ::read(child_.stdout_fd, buf, sizeof buf);
    if (n > 0) {
      read_now += static_cast<std::size_t>(n);
      parser_.Feed(std::string_view(buf, static_cast<std::size_t>(n)), on_entry);
    } else if (n == 0) {  // EOF: journalctl is ending
      parser_.Finish(on_entry);
      OnExit();
    } else if (errno != EAGAIN && errno != EINTR) {
      std::string why = std::string("read from journalctl: ") + std::strerror(errno);
      Kill();
      next_start_ = std::chrono::steady_clock::now() + kRestartDelay;
      SetError(-EIO, why);
    }
  }
}

void JournalExportReader::OnExit() {
  // stdout is closed: journalctl is ending. Collect its last words and status.
  if (child_.stderr_fd >= 0) {
    char buf[4096];
    ssize_t n = 0;
    while ((n = ::read(child_.stderr_fd, buf, sizeof buf)) > 0) {
      stderr_tail_.append(buf, static_cast<std::size_t>(n));
    }
    ::close(child_.stderr_fd);
  }
  ::close(child_.stdout_fd);
  int status = 0;
  while (::waitpid(child_.pid, &status, 0) < 0 && errno == EINTR) {
  }
  child_ = ChildProcess{};
  running_ = false;
  next_start_ = std::chrono::steady_clock::now() + kRestartDelay;
  while (!stderr_tail_.empty() && (stderr_tail_.back() == '\n' || stderr_tail_.back() == ' ')) {
    stderr_tail_.pop_back();
  }
  bool ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
  std::string how = WIFEXITED(status) ? "exit status " + std::to_string(WEXITSTATUS(status))
                                      : "signal " + std::to_string(WTERMSIG(status));
  if (!options_.follow && ok) {
    finished_ = true;  // read to the end: open, nothing more to do
    return;
  }
  std::string why = "journalctl ended (" + how + ")";
  if (!stderr_tail_.empty()) why += ": " + stderr_tail_;
  if (!ok && !start_cursor_.empty() && entries_since_start_ == 0) {
    // Most likely a cursor of a journal that is gone (vacuumed, another machine id).
    Log(LogLevel::kWarn, "journalctl refused the saved cursor; reading on as without it",
        {{"journal", description_}, {"err", why}});
    cursor_.clear();
    next_start_ = std::chrono::steady_clock::now();
  }
  if (!options_.follow) finished_ = true;
  SetError(-EIO, why);
}

std::size_t JournalExportReader::Poll(const LineCallback& on_line) {
  if (!running_) {
    if (finished_) return 0;
    if (std::chrono::steady_clock::now() < next_start_) return 0;
    if (!Start()) {
      next_start_ = std::chrono::steady_clock::now() + kRestartDelay;
      if (!options_.follow) finished_ = true;
      return 0;
    }
  }
  std::size_t bytes = 0;
  Read(!options_.follow, on_line, &bytes);
  if (read_any_ && !options_.cursor_file.empty()) SaveJournalCursor(options_.cursor_file, cursor_);
  read_any_ = false;
  return bytes;
}

void JournalExportReader::Kill() {
  if (!running_) return;
  ::kill(-child_.pid, SIGTERM);
  int status = 0;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
  while (::waitpid(child_.pid, &status, WNOHANG) == 0) {
    if (std::chrono::steady_clock::now() >= deadline) {
      ::kill(-child_.pid, SIGKILL);
      while (::waitpid(child_.pid, &status, 0) < 0 && errno == EINTR) {
      }
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  if (child_.stdout_fd >= 0) ::close(child_.stdout_fd);
  if (child_.stderr_fd >= 0) ::close(child_.stderr_fd);
  child_ = ChildProcess{};
  running_ = false;
}

}  // namespace mailrelay
