#include "queue/command_scan.h"

#include "common/logging.h"

namespace mailrelay {

std::optional<std::string> RunQueueCommand(const std::vector<std::string>& argv,
                                           const CommandOptions& options, QueueScan* scan) {
  CommandResult r = RunCommand(argv, options);
  if (r.status == CommandResult::Status::kOk) return std::move(r.output);
  scan->AddError(r.status == CommandResult::Status::kTimeout ? QueueError::kTimeout
                                                             : QueueError::kCommand);
  Log(LogLevel::kWarn, "queue command failed",
      {{"command", argv.empty() ? std::string() : argv[0]}, {"error", r.error}});
  return std::nullopt;
}

}  // namespace mailrelay
