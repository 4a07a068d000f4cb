// Starting a helper program without a shell (exim -bp, postqueue -j, journalctl): fork + execv
// with stdout (and optionally stderr) on pipes, stdin on /dev/null, every other descriptor
// closed, signals unblocked and at their defaults, and the child in its own process group so
// that it and anything it started can be killed together (kill(-pid, ...)).
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

namespace mailrelay {

struct ChildProcess {
  pid_t pid = -1;
  int stdout_fd = -1;  // read end, close-on-exec
  int stderr_fd = -1;  // read end when stderr was captured, else -1 (stderr on /dev/null)
};

// argv[0] must be a path (absolute or relative); it is not searched in PATH. Returns false with
// *error ("exec <path>: <reason>" when exec failed) and *exec_errno set when the program could
// not be started; nothing is left running or open then. With `stderr_to_stdout` (and without
// `capture_stderr`) the child's stderr goes into the stdout pipe too (2>&1).
bool SpawnChild(const std::vector<std::string>& argv, bool capture_stderr, ChildProcess* child,
                std::string* error, int* exec_errno = nullptr, bool stderr_to_stdout = false);

// The first of `names` found as an executable in $PATH, then in /usr/sbin and /usr/bin, or ""
// (an absolute path is returned as-is when executable).
std::string FindExecutable(const std::vector<std::string>& names);

}  // namespace mailrelay
