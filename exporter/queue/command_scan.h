// Runs a queue command for a QueueSource scan: its output on success; on failure the error is
// counted in the scan (`timeout` when killed after the timeout, else `command`: it could not
// start, exited non-zero or printed too much) and logged, and nothing is returned.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/command_runner.h"
#include "queue/queue_source.h"

namespace mailrelay {

std::optional<std::string> RunQueueCommand(const std::vector<std::string>& argv,
                                           const CommandOptions& options, QueueScan* scan);

}  // namespace mailrelay
