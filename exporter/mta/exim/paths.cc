#include "mta/exim/paths.h"

#include <sys/stat.h>

#include "common/command_runner.h"

namespace mailrelay::exim {

namespace {

constexpr const char* kMainlogs[] = {"/var/log/exim_mainlog", "/var/log/exim/mainlog",
                                     "/var/log/exim4/mainlog", "/var/log/exim/main.log"};

// Exim's programs, or cPanel (which runs Exim).
constexpr const char* kInstalled[] = {"/usr/sbin/exim", "/usr/sbin/exim4", "/usr/local/cpanel"};

template <std::size_t N>
std::string Join(const char* const (&paths)[N]) {
  std::string out;
  for (const char* p : paths) out += (out.empty() ? "" : ", ") + std::string(p);
  return out;
}

}  // namespace

std::string MainlogCandidates() { return Join(kMainlogs); }
std::string InstalledCandidates() { return Join(kInstalled); }

std::string DetectMainlog(const RootFs& root, bool* found) {
  if (found != nullptr) *found = true;
  for (const char* p : kMainlogs) {
    if (root.Exists(p)) return root.Path(p);
  }
  if (found != nullptr) *found = false;
  // Nothing there yet: wait for the Debian path, or the cPanel one on a cPanel host.
  if (root.Exists("/usr/local/cpanel")) return root.Path("/var/log/exim_mainlog");
  return root.Path("/var/log/exim4/mainlog");
}

bool AnyMainlogExists(const RootFs& root) {
  for (const char* p : kMainlogs) {
    if (root.Exists(p)) return true;
  }
  return false;
}

bool EximInstalled(const RootFs& root) {
  for (const char* p : kInstalled) {
    if (root.Exists(p)) return true;
  }
  return false;
}

std::string RejectlogFor(const std::string& mainlog) {
  auto slash = mainlog.rfind('/');
  std::string dir = slash == std::string::npos ? "" : mainlog.substr(0, slash + 1);
  std::string base = slash == std::string::npos ? mainlog : mainlog.substr(slash + 1);
  if (base == "exim_mainlog") return dir + "exim_rejectlog";
  if (base == "mainlog") return dir + "rejectlog";
  if (base == "main.log") return dir + "reject.log";
  return "";
}

std::string DetectSpoolDir(const RootFs& root) {
  for (const char* p : {"/var/spool/exim/input", "/var/spool/exim4/input"}) {
    if (root.Exists(p)) return root.Path(p);
  }
  return root.Path("/var/spool/exim4/input");
}

std::string InputDir(const std::string& spool_dir) {
  std::string dir = spool_dir;
  while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
  auto slash = dir.rfind('/');
  if (dir.substr(slash == std::string::npos ? 0 : slash + 1) == "input") return dir;
  // The spool root (it has input/, or msglog/ and db/ before the first message arrives).
  for (const char* sub : {"/input", "/msglog", "/db"}) {
    struct stat st {};
    std::string path = dir + sub;
    if (::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) return dir + "/input";
  }
  return dir;
}

std::string SpoolRootOf(const std::string& input_dir) {
  auto slash = input_dir.rfind('/');
  if (slash == std::string::npos || input_dir.substr(slash + 1) != "input") return "";
  return slash == 0 ? "/" : input_dir.substr(0, slash);
}

std::string DetectBinary() { return FindExecutable({"exim", "exim4"}); }

}  // namespace mailrelay::exim
