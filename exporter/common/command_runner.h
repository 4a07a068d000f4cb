// Runs a queue-listing command (`exim -bp`, `postqueue -j`) without a shell and with a hard
// timeout: fork + execv, stdout through a pipe read with poll(), stdin and stderr on
// /dev/null. The child gets its own process group; on timeout the whole group is killed
// with SIGKILL and reaped, so a hanging command (or one that left children holding the
// pipe) can never block a scrape longer than the timeout.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

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
  std::string output;  // stdout (what was read before a timeout, too)
  std::string error;
  double elapsed_seconds = 0;
};

struct CommandOptions {
  double timeout_seconds = 10;
  std::size_t max_output = 512u << 20;  // 512 MiB
};

// argv[0] must be a path (absolute or relative), it is not searched in PATH.
CommandResult RunCommand(const std::vector<std::string>& argv, const CommandOptions& options);

// The first of `names` found as an executable in $PATH, then in /usr/sbin and /usr/bin, or ""
// (an absolute path is returned as-is when executable).
std::string FindExecutable(const std::vector<std::string>& names);

}  // namespace mailrelay
