#include "common/command_runner.h"

#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <thread>
#include <vector>

namespace mailrelay {

namespace {

using Clock = std::chrono::steady_clock;

double SecondsSince(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

int RemainingMs(Clock::time_point deadline) {
  // Rounded up: a wait of 0 means the deadline has passed, not that less than 1 ms is left.
  auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now());
  if (left.count() <= 0) return 0;
  if (left.count() > 60000) return 60000;
  return static_cast<int>(left.count());
}

void KillGroup(pid_t pid) {
  ::kill(-pid, SIGKILL);  // the child's process group (it called setpgid(0, 0))
  ::kill(pid, SIGKILL);   // in case setpgid had not run yet
}

// Reaps `pid`, waiting at most until `deadline`; kills the group past it. Returns the wait
// status, and sets *timed_out when the kill was needed.
int Reap(pid_t pid, Clock::time_point deadline, bool* timed_out) {
  int status = 0;
  for (;;) {
    pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid) return status;
    if (r < 0 && errno != EINTR) return 0;
    if (Clock::now() >= deadline) {
      *timed_out = true;
      KillGroup(pid);
      while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
      }
      return status;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
}

}  // namespace

CommandResult RunCommand(const std::vector<std::string>& argv, const CommandOptions& options) {
  CommandResult result;
  auto start = Clock::now();
  if (argv.empty() || argv[0].empty()) {
    result.error = "empty command";
    return result;
  }
  ChildProcess child;
  if (!SpawnChild(argv, /*capture_stderr=*/false, &child, &result.error, /*exec_errno=*/nullptr,
                  options.merge_stderr)) {
    result.status = CommandResult::Status::kStartFailed;
    result.elapsed_seconds = SecondsSince(start);
    return result;
  }
  pid_t pid = child.pid;
  int out_fd = child.stdout_fd;
  auto deadline =
      start + std::chrono::microseconds(static_cast<std::int64_t>(options.timeout_seconds * 1e6));

  bool timed_out = false;
  bool too_large = false;
  std::vector<char> buf(65536);  // on the heap: callers may run on HTTP threads' small stacks
  for (;;) {
    int wait_ms = RemainingMs(deadline);
    if (wait_ms == 0) {
      timed_out = true;
      break;
    }
    pollfd pfd{out_fd, POLLIN, 0};
    int pr = ::poll(&pfd, 1, wait_ms);
    if (pr < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if (pr == 0) continue;  // re-checks the deadline
    ssize_t r = ::read(out_fd, buf.data(), buf.size());
    if (r < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      break;
    }
    if (r == 0) break;  // EOF: every writer has closed stdout
    if (result.output.size() + static_cast<std::size_t>(r) > options.max_output) {
      too_large = true;
      break;
    }
    result.output.append(buf.data(), static_cast<std::size_t>(r));
  }
  ::close(out_fd);
  if (timed_out || too_large) KillGroup(pid);
  int status = Reap(pid, timed_out || too_large ? Clock::now() : deadline, &timed_out);
  result.elapsed_seconds = SecondsSince(start);

  if (too_large) {
    result.status = CommandResult::Status::kOutputTooLarge;
    result.error = "output larger than " + std::to_string(options.max_output) + " bytes";
    return result;
  }
  if (timed_out) {
    result.status = CommandResult::Status::kTimeout;
    result.error = "timed out after " + std::to_string(options.timeout_seconds) + "s";
    return result;
  }
  if (WIFEXITED(status)) {
    result.exit_code = WEXITSTATUS(status);
    result.status =
        result.exit_code == 0 ? CommandResult::Status::kOk : CommandResult::Status::kExitStatus;
    if (result.exit_code != 0) result.error = "exit status " + std::to_string(result.exit_code);
  } else if (WIFSIGNALED(status)) {
    result.exit_code = 128 + WTERMSIG(status);
    result.status = CommandResult::Status::kExitStatus;
    result.error = "killed by signal " + std::to_string(WTERMSIG(status));
  }
  return result;
}

}  // namespace mailrelay
