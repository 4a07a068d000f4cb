#include "common/command_runner.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <thread>

#include "common/text.h"

namespace mailrelay {

namespace {

using Clock = std::chrono::steady_clock;

double SecondsSince(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

int RemainingMs(Clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
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

bool IsExecutable(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(path.c_str(), X_OK) == 0;
}

}  // namespace

CommandResult RunCommand(const std::vector<std::string>& argv, const CommandOptions& options) {
  CommandResult result;
  auto start = Clock::now();
  if (argv.empty() || argv[0].empty()) {
    result.error = "empty command";
    return result;
  }
  // Everything the child needs is prepared before fork(): after it only async-signal-safe
  // calls are made (the exporter is multi-threaded).
  std::vector<char*> args;
  args.reserve(argv.size() + 1);
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);

  int out_pipe[2];
  int err_pipe[2];  // carries exec's errno when execv fails
  if (::pipe2(out_pipe, O_CLOEXEC) != 0) {
    result.error = std::string("pipe: ") + std::strerror(errno);
    return result;
  }
  if (::pipe2(err_pipe, O_CLOEXEC) != 0) {
    result.error = std::string("pipe: ") + std::strerror(errno);
    ::close(out_pipe[0]);
    ::close(out_pipe[1]);
    return result;
  }
  int devnull = ::open("/dev/null", O_RDWR | O_CLOEXEC);

  pid_t pid = ::fork();
  if (pid < 0) {
    result.error = std::string("fork: ") + std::strerror(errno);
    for (int fd : {out_pipe[0], out_pipe[1], err_pipe[0], err_pipe[1], devnull}) {
      if (fd >= 0) ::close(fd);
    }
    return result;
  }
  if (pid == 0) {
    ::setpgid(0, 0);
    if (devnull >= 0) {
      ::dup2(devnull, STDIN_FILENO);
      ::dup2(devnull, STDERR_FILENO);
    }
    ::dup2(out_pipe[1], STDOUT_FILENO);
    // The exec-error pipe stays open (close-on-exec) above the standard descriptors; close
    // every other inherited descriptor (sockets of the HTTP server, log files...).
    int keep = err_pipe[1];
    if (keep > 3) ::syscall(SYS_close_range, 3u, static_cast<unsigned>(keep - 1), 0u);
    ::syscall(SYS_close_range, static_cast<unsigned>(keep + 1), ~0u, 0u);
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::signal(SIGPIPE, SIG_DFL);
    ::execv(args[0], args.data());
    int e = errno;
    ssize_t w = ::write(keep, &e, sizeof e);
    (void)w;
    ::_exit(127);
  }
  ::close(out_pipe[1]);
  ::close(err_pipe[1]);
  if (devnull >= 0) ::close(devnull);

  // exec succeeded iff the error pipe closes with nothing in it.
  int exec_errno = 0;
  ssize_t n = 0;
  do {
    n = ::read(err_pipe[0], &exec_errno, sizeof exec_errno);
  } while (n < 0 && errno == EINTR);
  ::close(err_pipe[0]);
  auto deadline =
      start + std::chrono::microseconds(static_cast<std::int64_t>(options.timeout_seconds * 1e6));
  if (n == static_cast<ssize_t>(sizeof exec_errno)) {
    ::close(out_pipe[0]);
    bool unused = false;
    Reap(pid, Clock::now() + std::chrono::seconds(5), &unused);
    result.status = CommandResult::Status::kStartFailed;
    result.error = "exec " + argv[0] + ": " + std::strerror(exec_errno);
    result.elapsed_seconds = SecondsSince(start);
    return result;
  }

  bool timed_out = false;
  bool too_large = false;
  char buf[65536];
  for (;;) {
    int wait_ms = RemainingMs(deadline);
    if (wait_ms == 0) {
      timed_out = true;
      break;
    }
    pollfd pfd{out_pipe[0], POLLIN, 0};
    int pr = ::poll(&pfd, 1, wait_ms);
    if (pr < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if (pr == 0) continue;  // re-checks the deadline
    ssize_t r = ::read(out_pipe[0], buf, sizeof buf);
    if (r < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      break;
    }
    if (r == 0) break;  // EOF: every writer has closed stdout
    if (result.output.size() + static_cast<std::size_t>(r) > options.max_output) {
      too_large = true;
      break;
    }
    result.output.append(buf, static_cast<std::size_t>(r));
  }
  ::close(out_pipe[0]);
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

std::string FindExecutable(const std::vector<std::string>& names) {
  std::vector<std::string> dirs;
  if (const char* path = std::getenv("PATH"); path != nullptr) dirs = SplitList(path, ':');
  dirs.push_back("/usr/sbin");
  dirs.push_back("/usr/bin");
  for (const auto& name : names) {
    if (!name.empty() && name[0] == '/') {
      if (IsExecutable(name)) return name;
      continue;
    }
    for (const auto& d : dirs) {
      std::string candidate = d + "/" + name;
      if (IsExecutable(candidate)) return candidate;
    }
  }
  return "";
}

}  // namespace mailrelay
