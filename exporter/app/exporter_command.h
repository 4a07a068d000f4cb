// The exporter itself (`mailrelay_exporter [flags]`): follows the chosen MTA module's logs,
// reads its queue, and serves /metrics until SIGTERM; or, with --oneshot, reads the logs once
// and prints the metrics. Everything main() did, testable: output streams and clock injected.
#pragma once

#include <ostream>

#include "common/clock.h"

namespace mailrelay {

// argv as main() gets it. Returns the process exit status (0 ok, 1 runtime failure, 2 bad flags).
int RunExporter(int argc, const char* const* argv, std::ostream& out, std::ostream& err,
                const Clock& clock);

// The exporter's --help text (flags from the shared table, then the subcommands).
std::string ExporterHelpText();

}  // namespace mailrelay
