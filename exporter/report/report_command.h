// `mailrelay_exporter report [<flags>]`: reads the logs (and the queue) once and prints what
// happened in a time window, as text tables or JSON (docs/report.md). main.cc hands it argv from
// the word "report" on.
//
// Flags: the report's own (--since, --until, --top, --format, --queue, --help) and a fixed set
// of the exporter's flags with the same meaning and parser (app/config.h: --mta, --exim.*,
// --postfix.log, --queue.*, --relay.*, --log.level, ...). Other exporter flags (web, tail,
// state, metrics) are rejected: they mean nothing here.
#pragma once

#include <cstddef>
#include <cstdint>
#include <ostream>
#include <string>

#include "app/config.h"
#include "report/result.h"

namespace mailrelay::report {

struct ReportOptions {
  Config config;  // the shared flags, parsed by the exporter's ParseFlags
  bool log_level_given = false;
  std::string since;  // empty: until - 1h
  std::string until;  // empty: now
  std::size_t top = 10;
  std::string format = "text";  // text | json
  bool queue = true;            // --no-queue: leave the queue out
  bool help = false;
};

// argv[0] is the command word ("report").
Result<ReportOptions> ParseReportFlags(int argc, const char* const* argv);

std::string ReportHelpText(const std::string& program);

// The "Commands:" paragraph the exporter's --help ends with (no line starts with "  --": the
// README flags lint reads the exporter's flags from those lines).
std::string CommandsHelpText();

// Runs the command; returns the process exit status (0 ok, 1 nothing readable, 2 bad flags).
// `now` is Unix seconds (0: the system clock).
int RunReport(int argc, const char* const* argv, std::ostream& out, std::ostream& err,
              std::int64_t now = 0);

}  // namespace mailrelay::report
