// mailrelay_exporter: picks the subcommand and hands it argv. Everything else lives in the
// libraries (app/, report/, respond/), where it is tested.
#include <malloc.h>
#include <sys/prctl.h>

#include <iostream>
#include <string_view>

#include "app/exporter_command.h"
#include "common/clock.h"
#include "report/report_command.h"
#include "respond/respond_command.h"

int main(int argc, char** argv) {
#ifdef M_ARENA_MAX
  // glibc gives every thread that allocates its own arena and keeps their memory: each of the
  // HTTP worker threads that renders a /metrics page would hold on to a few MiB (60 MiB RSS
  // with 10k series instead of 20). Two arenas are plenty: the log thread allocates next to
  // nothing per line (bench/README.md, "Log throughput").
  mallopt(M_ARENA_MAX, 2);
#endif
#ifdef PR_CAP_AMBIENT
  // A capability the unit grants (CAP_DAC_READ_SEARCH for the Postfix queue files) stays in
  // this process's own set; the commands it runs (postqueue, postconf, exim -bp) do not inherit it.
  ::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
#endif
  const mailrelay::Clock& clock = mailrelay::SystemClock::Get();
  if (argc > 1 && std::string_view(argv[1]) == "report") {
    return mailrelay::report::RunReport(argc - 1, argv + 1, std::cout, std::cerr, clock);
  }
  if (argc > 1 && std::string_view(argv[1]) == "respond") {
    return mailrelay::respond::RunRespond(argc - 1, argv + 1, std::cout, std::cerr, clock);
  }
  return mailrelay::RunExporter(argc, argv, std::cout, std::cerr, clock);
}
