// Helpers shared by the queue benchmarks (queue_scan_bench.cc, postfix_queue_bench.cc): clocks,
// running a command with its wall and CPU time, the "key value" manifests of the generators.
#pragma once

#include <dirent.h>
#include <fcntl.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace mailrelay::bench {

inline double Now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

inline double CpuSeconds(const rusage& ru) {
  return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

inline double SelfCpu() {
  rusage ru{};
  ::getrusage(RUSAGE_SELF, &ru);
  return CpuSeconds(ru);
}

struct RunResult {
  bool ok = false;
  double wall = 0;
  double cpu = 0;
  std::string out;
};

inline std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// Runs argv with stdout to a temporary file; wall time and the child's CPU time (wait4).
inline RunResult Run(const std::vector<std::string>& args) {
  RunResult r;
  char out_path[] = "/tmp/mailrelay_bench.XXXXXX";
  int out_fd = ::mkstemp(out_path);
  if (out_fd < 0) return r;
  posix_spawn_file_actions_t fa;
  ::posix_spawn_file_actions_init(&fa);
  ::posix_spawn_file_actions_adddup2(&fa, out_fd, 1);
  ::posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  std::vector<char*> argv;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  double start = Now();
  pid_t pid = -1;
  int rc = ::posix_spawn(&pid, argv[0], &fa, nullptr, argv.data(), environ);
  ::posix_spawn_file_actions_destroy(&fa);
  ::close(out_fd);
  if (rc != 0) {
    std::cerr << "cannot run " << args[0] << ": " << std::strerror(rc) << "\n";
    ::unlink(out_path);
    return r;
  }
  int status = 0;
  rusage ru{};
  while (::wait4(pid, &status, 0, &ru) < 0) {
    if (errno != EINTR) break;
  }
  r.wall = Now() - start;
  r.cpu = CpuSeconds(ru);
  r.out = ReadFile(out_path);
  ::unlink(out_path);
  r.ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
  if (!r.ok) std::cerr << args[0] << " " << args.back() << " failed (status " << status << ")\n";
  return r;
}

inline std::map<std::string, std::string> ReadManifest(const std::string& path) {
  std::map<std::string, std::string> m;
  std::ifstream in(path);
  std::string k, v;
  while (in >> k >> v) m[k] = v;
  return m;
}

inline double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

// Waits (bounded, 10 s) until the mtime of every directory of `dirs` is more than
// settle_seconds + 1 in the past, so that a reader's first scan can mark them reusable.
inline void WaitSettled(const std::vector<std::string>& dirs, double settle_seconds) {
  double deadline = Now() + 10;
  for (;;) {
    std::time_t newest = 0;
    for (const auto& d : dirs) {
      struct stat st {};
      if (::stat(d.c_str(), &st) == 0) newest = std::max(newest, st.st_mtime);
    }
    if (static_cast<double>(std::time(nullptr) - newest) > settle_seconds + 1 || Now() > deadline) {
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

// Reads once, untimed, every regular file of `dirs` whose name `want` accepts. In a live queue
// the MTA's own delivery attempts have read the files, so their atime is already past their
// mtime; the files of a freshly generated queue have never been read, and whichever reader came
// first would pay relatime's one-time atime update (an inode write) of every file while the
// readers after it would not. Returns the number of files read.
inline std::size_t WarmUp(const std::vector<std::string>& dirs,
                          const std::function<bool(const std::string&)>& want) {
  std::size_t files = 0;
  std::vector<char> buf(1 << 16);
  for (const auto& d : dirs) {
    DIR* dir = ::opendir(d.c_str());
    if (dir == nullptr) continue;
    while (dirent* de = ::readdir(dir)) {
      if (de->d_type != DT_REG && de->d_type != DT_UNKNOWN) continue;
      if (!want(de->d_name)) continue;
      int fd = ::openat(::dirfd(dir), de->d_name, O_RDONLY | O_CLOEXEC);
      if (fd < 0) continue;
      while (::read(fd, buf.data(), buf.size()) > 0) {
      }
      ::close(fd);
      ++files;
    }
    ::closedir(dir);
  }
  return files;
}

// Failed checks of this run (the exit status).
inline int& Failures() {
  static int failures = 0;
  return failures;
}

inline void Check(const std::string& what, const std::string& want, const std::string& got) {
  if (want == got) {
    std::cout << "check_ok " << what << "=" << got << "\n";
  } else {
    std::cout << "check_FAILED " << what << " want=" << want << " got=" << got << "\n";
    ++Failures();
  }
}

// `n` rescans of a queue reader that has scanned the unchanged queue already: prints
// rescan_median_seconds, rescan_max_seconds, rescan_cpu_median_seconds, rescan_dirs_reused
// (mean) and rescan_files_read (sum); a scan with another number of messages than `messages`
// is a failure.
template <typename Scanner>
std::vector<double> UnchangedRescans(Scanner& scanner, int n, std::size_t messages) {
  std::vector<double> seconds, cpu;
  std::size_t reused = 0, read = 0;
  for (int i = 0; i < n; ++i) {
    double t0 = Now();
    double c0 = SelfCpu();
    auto scan = scanner.Scan();
    seconds.push_back(Now() - t0);
    cpu.push_back(SelfCpu() - c0);
    reused += scanner.last_stats().dirs_reused;
    read += scanner.last_stats().files_read;
    if (scan.messages.size() != messages) ++Failures();
  }
  std::cout << "rescan_median_seconds " << Median(seconds) << "\n"
            << "rescan_max_seconds " << *std::max_element(seconds.begin(), seconds.end()) << "\n"
            << "rescan_cpu_median_seconds " << Median(cpu) << "\n"
            << "rescan_dirs_reused " << reused / static_cast<std::size_t>(n) << "\n"
            << "rescan_files_read " << read << "\n";
  return seconds;
}

// A first scan of `listed` (made with trust_directory_mtime = false), then `n` timed rescans:
// every directory listed and every file stat-ed. Prints listed_rescan_median_seconds,
// listed_rescan_cpu_median_seconds and listed_rescan_files_cached.
template <typename Scanner>
std::vector<double> ListedRescans(Scanner& listed, int n, std::size_t messages) {
  listed.Scan();
  std::vector<double> seconds, cpu;
  for (int i = 0; i < n; ++i) {
    double t0 = Now();
    double c0 = SelfCpu();
    auto scan = listed.Scan();
    seconds.push_back(Now() - t0);
    cpu.push_back(SelfCpu() - c0);
    if (scan.messages.size() != messages) ++Failures();
  }
  std::cout << "listed_rescan_median_seconds " << Median(seconds) << "\n"
            << "listed_rescan_cpu_median_seconds " << Median(cpu) << "\n"
            << "listed_rescan_files_cached " << listed.last_stats().files_cached << "\n";
  return seconds;
}

}  // namespace mailrelay::bench
