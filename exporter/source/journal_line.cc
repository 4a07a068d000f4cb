#include "source/journal_line.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fstream>

#include "common/logging.h"

namespace mailrelay {

void FormatJournalLine(std::uint64_t realtime_usec, std::string_view host,
                       std::string_view identifier, std::string_view pid, std::string_view message,
                       std::string* out) {
  std::time_t secs = static_cast<std::time_t>(realtime_usec / 1000000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char ts[48];
  std::snprintf(ts, sizeof ts, "%04d-%02d-%02dT%02d:%02d:%02d.%06uZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<unsigned>(realtime_usec % 1000000));
  out->assign(ts);
  *out += ' ';
  *out += host.empty() ? std::string_view("localhost") : host;
  *out += ' ';
  *out += identifier;
  if (!pid.empty()) {
    *out += '[';
    *out += pid;
    *out += ']';
  }
  *out += ": ";
  for (char c : message) *out += (c == '\n' ? ' ' : c);
}

void SaveJournalCursor(const std::string& file, const std::string& cursor) {
  std::string tmp = file + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << cursor << '\n';
    if (!out.flush()) {
      Log(LogLevel::kWarn, "cannot write the journal cursor file", {{"path", tmp}});
      return;
    }
  }
  if (std::rename(tmp.c_str(), file.c_str()) != 0) {
    Log(LogLevel::kWarn, "cannot write the journal cursor file",
        {{"path", file}, {"err", std::strerror(errno)}});
  }
}

std::string LoadJournalCursor(const std::string& file) {
  std::ifstream in(file);
  std::string cursor;
  if (!std::getline(in, cursor)) return {};
  return cursor;
}

}  // namespace mailrelay
