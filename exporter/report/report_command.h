// `mailrelay_exporter report [<flags>]`: reads the logs (and the queue) once and prints what
// happened in a time window, as text tables or JSON (docs/report.md). main.cc hands it argv from
// the word "report" on.
//
// Flags: the report's own (--since, --until, --top, --format, --queue) and the shared ones of
// the one flag table (app/command_line.h) whose scope includes the report (--mta, the MTA
// modules' log and queue flags, --queue.*, --relay.*, --log.level). Other exporter flags (web,
// tail, state, metrics) are refused: they mean nothing here.
#pragma once

#include <cstddef>
#include <cstdint>
#include <ostream>
#include <string>

#include "app/command_line.h"
#include "common/clock.h"
#include "common/status.h"

namespace mailrelay::report {

struct ReportOptions {
  std::string since;  // empty: until - 1h
  std::string until;  // empty: now
  std::size_t top = 10;
  std::string format = "text";  // text | json
  bool queue = true;            // --no-queue: leave the queue out
};

// The shared command line plus the report's own flags.
class ReportCommandLine {
 public:
  ReportCommandLine();
  // argv[0] is the command word ("report").
  Status Parse(int argc, const char* const* argv);

  CommandLine shared;
  ReportOptions report;
};

std::string ReportHelpText(const std::string& program);

// The "Commands:" paragraph the exporter's --help ends with (no line starts with "  --": the
// README flags lint reads the exporter's flags from those lines).
std::string CommandsHelpText();

// Runs the command; returns the process exit status (0 ok, 1 nothing readable, 2 bad flags).
int RunReport(int argc, const char* const* argv, std::ostream& out, std::ostream& err,
              const Clock& clock);

}  // namespace mailrelay::report
