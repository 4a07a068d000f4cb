// Runs a command (`exim -bp`, `postqueue -j`, respond's `exim -Mf`, `postsuper -h`) without a
// shell and with a hard timeout: SpawnChild (common/child_process.h), stdout through a pipe read
// with poll(), stdin on /dev/null, stderr on /dev/null or (merge_stderr) into the output. The child
// gets its own process group; on timeout the whole group is killed with SIGKILL and reaped, so a
// hanging command (or one that left children holding the pipe) can never block a scrape longer than
// the timeout.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "common/child_process.h"  // FindExecutable

namespace mailrelay {

struct CommandResult {
  enum class Status {
    kOk,              // exited with status 0
    kExitStatus,      // exited with another status (exit_code) or was killed by a signal
    kStartFailed,     // fork/exec failed (error says why)
    kTimeout,         // killed after the timeout
    kOutputTooLarge,  // stdout exceeded max_output bytes; killed
  };
  Status status = Status::kStartFailed;
  int exit_code = -1;  // exit status, or 128 + signal number
  std::string output;  // stdout, with merge_stderr stderr too (also what was read before a timeout)
  std::string error;
  double elapsed_seconds = 0;
};

struct CommandOptions {
  double timeout_seconds = 10;
  std::size_t max_output = 512u << 20;  // 512 MiB
  // stderr into `output` as well (2>&1): for commands that report on stderr (postsuper), where
  // the caller keeps what they said.
  bool merge_stderr = false;
};

// argv[0] must be a path (absolute or relative), it is not searched in PATH.
CommandResult RunCommand(const std::vector<std::string>& argv, const CommandOptions& options);

}  // namespace mailrelay
