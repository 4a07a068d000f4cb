// The files of one log for the report: the live file and its rotated predecessors, in
// chronological order, and which of them a time window needs.
//
// Rotated names (beside the live file, same directory):
//   numbered  PATH.N and PATH.N.gz (N = 0, 1, 2, ...; larger N is older): logrotate's default,
//             Debian's exim4-base (mainlog.1, mainlog.2.gz ... mainlog.10.gz), mail.log.1;
//   dated     PATH-SUFFIX and PATH-SUFFIX.gz where SUFFIX starts with a digit (logrotate's
//             dateext: mainlog-20261122, exim_mainlog-20261122.gz, maillog-20261122), oldest
//             first by name.
// When a name exists both plain and gzip'd, the plain file is used. Other compressions (.bz2,
// .xz, .zst) are not read.
//
// Order: the rotated files in name order (numbered, then dated), then the live file; when every
// rotated file's first timestamp is known they are sorted by it instead (a directory may hold
// both a numbered and a dated series).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "report/time_window.h"

namespace mailrelay::report {

struct LogFile {
  std::string path;
  bool gzip = false;
  bool live = false;            // the file at the configured path itself
  std::int64_t first_time = 0;  // time of its first timestamped line; 0: unknown
  std::int64_t last_time = 0;   // of its last one (plain files only); 0: unknown
};

// The live file (when it exists) and its rotated siblings, oldest first (name order; see above).
std::vector<LogFile> FindLogFiles(const std::string& path);

// Time written in a line (Unix seconds), 0 when none: the MTA parser's view of the line.
using LineTimeFn = std::function<std::int64_t(std::string_view line)>;

// Reads the first timestamped line (and, for a plain file, the last one) from at most
// `probe_bytes` at each end of the file. Cheap: no full read.
void ProbeTimes(LogFile* file, const LineTimeFn& line_time, std::size_t probe_bytes = 64 * 1024);

// Probes every file and sorts the rotated ones by first time when all are known.
void ProbeAndOrder(std::vector<LogFile>* files, const LineTimeFn& line_time);

// Whether `files[i]` can hold lines of the window. Its lines lie between its first time and
// its last time (plain files) or the next file's first time (the next file was started after
// it ended). `slack` widens the window on both sides: lines of several processes are not
// strictly ordered, and the Postfix correlator needs the lines just before the window.
enum class FileVerdict { kRead, kBeforeWindow, kAfterWindow };
FileVerdict JudgeFile(const std::vector<LogFile>& files, std::size_t i, const TimeWindow& window,
                      std::int64_t slack_seconds);

struct ReadStats {
  std::uint64_t lines = 0;
  std::uint64_t bytes = 0;
  std::uint64_t long_lines = 0;  // cut to max_line_bytes
};

// Reads every line of the file (plain or gzip; a last line without '\n' counts too). Lines
// longer than max_line_bytes are cut to that length. An error (cannot open, corrupt gzip) is
// returned (without the path) after the lines read so far were handed on.
StatusOr<ReadStats> ReadLogLines(const LogFile& file,
                                 const std::function<void(std::string_view)>& on_line,
                                 std::size_t max_line_bytes = 1 << 20);

}  // namespace mailrelay::report
