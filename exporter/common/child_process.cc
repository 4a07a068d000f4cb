#include "common/child_process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "common/text.h"

namespace mailrelay {

namespace {

void CloseAll(std::initializer_list<int> fds) {
  for (int fd : fds) {
    if (fd >= 0) ::close(fd);
  }
}

bool IsExecutable(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(path.c_str(), X_OK) == 0;
}

}  // namespace

bool SpawnChild(const std::vector<std::string>& argv, bool capture_stderr, ChildProcess* child,
                std::string* error, int* exec_errno, bool stderr_to_stdout) {
  *child = ChildProcess{};
  if (exec_errno != nullptr) *exec_errno = 0;
  if (argv.empty() || argv[0].empty()) {
    *error = "empty command";
    return false;
  }
  // Everything the child needs is prepared before fork(): after it only async-signal-safe
  // calls are made (the exporter is multi-threaded).
  std::vector<char*> args;
  args.reserve(argv.size() + 1);
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);

  int out_pipe[2] = {-1, -1};
  int err_pipe[2] = {-1, -1};   // the child's stderr, when captured
  int exec_pipe[2] = {-1, -1};  // carries exec's errno when execv fails
  if (::pipe2(out_pipe, O_CLOEXEC) != 0 || (capture_stderr && ::pipe2(err_pipe, O_CLOEXEC) != 0) ||
      ::pipe2(exec_pipe, O_CLOEXEC) != 0) {
    *error = std::string("pipe: ") + std::strerror(errno);
    CloseAll({out_pipe[0], out_pipe[1], err_pipe[0], err_pipe[1], exec_pipe[0], exec_pipe[1]});
    return false;
  }
  int devnull = ::open("/dev/null", O_RDWR | O_CLOEXEC);
  // For kernels without close_range (before 5.9, e.g. EL8's 4.18): close one by one up to this.
  long open_max = ::sysconf(_SC_OPEN_MAX);
  int last_fd = open_max > 0 && open_max < 65536 ? static_cast<int>(open_max) - 1 : 65535;

  pid_t pid = ::fork();
  if (pid < 0) {
    *error = std::string("fork: ") + std::strerror(errno);
    CloseAll(
        {out_pipe[0], out_pipe[1], err_pipe[0], err_pipe[1], exec_pipe[0], exec_pipe[1], devnull});
    return false;
  }
  if (pid == 0) {
    ::setpgid(0, 0);
    if (devnull >= 0) {
      ::dup2(devnull, STDIN_FILENO);
      ::dup2(devnull, STDERR_FILENO);
    }
    if (capture_stderr) ::dup2(err_pipe[1], STDERR_FILENO);
    ::dup2(out_pipe[1], STDOUT_FILENO);
    if (stderr_to_stdout && !capture_stderr) ::dup2(out_pipe[1], STDERR_FILENO);
    // The exec-error pipe stays open (close-on-exec) above the standard descriptors; close
    // every other inherited descriptor (sockets of the HTTP server, log files...).
    int keep = exec_pipe[1];
    if (::syscall(SYS_close_range, static_cast<unsigned>(keep + 1), ~0u, 0u) == 0) {
      if (keep > 3) ::syscall(SYS_close_range, 3u, static_cast<unsigned>(keep - 1), 0u);
    } else {
      for (int fd = 3; fd <= last_fd; ++fd) {
        if (fd != keep) ::close(fd);
      }
    }
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
  CloseAll({out_pipe[1], err_pipe[1], exec_pipe[1], devnull});

  // exec succeeded iff the exec-error pipe closes with nothing in it.
  int err = 0;
  ssize_t n = 0;
  do {
    n = ::read(exec_pipe[0], &err, sizeof err);
  } while (n < 0 && errno == EINTR);
  ::close(exec_pipe[0]);
  if (n == static_cast<ssize_t>(sizeof err)) {
    CloseAll({out_pipe[0], err_pipe[0]});
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    *error = "exec " + argv[0] + ": " + std::strerror(err);
    if (exec_errno != nullptr) *exec_errno = err;
    return false;
  }
  child->pid = pid;
  child->stdout_fd = out_pipe[0];
  child->stderr_fd = err_pipe[0];
  return true;
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
