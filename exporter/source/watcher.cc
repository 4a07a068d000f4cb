#include "source/watcher.h"

#include <poll.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <thread>

namespace mailrelay {

namespace {
std::string DirName(const std::string& path) {
  auto slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}
}  // namespace

Watcher::Watcher(const std::vector<std::string>& paths) {
  for (const auto& p : paths) {
    std::string d = DirName(p);
    if (std::find(dirs_.begin(), dirs_.end(), d) == dirs_.end()) dirs_.push_back(d);
  }
  fd_ = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  AddWatches();
}

Watcher::~Watcher() {
  if (fd_ >= 0) ::close(fd_);
}

void Watcher::AddWatches() {
  if (fd_ < 0) return;
  watches_.clear();
  for (const auto& d : dirs_) {
    // A directory that does not exist yet is covered by the timeout-based polling.
    int wd = inotify_add_watch(fd_, d.c_str(),
                               IN_MODIFY | IN_CREATE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE |
                                   IN_ATTRIB | IN_CLOSE_WRITE | IN_DELETE_SELF | IN_MOVE_SELF);
    watches_.push_back(wd);
  }
}

void Watcher::Wait(int timeout_ms) {
  if (fd_ < 0) {
    std::this_thread::sleep_for(std::chrono::milliseconds(timeout_ms));
    return;
  }
  pollfd pfd{fd_, POLLIN, 0};
  int rc = ::poll(&pfd, 1, timeout_ms);
  if (rc > 0) {
    alignas(inotify_event) char buf[4096];
    bool dir_gone = false;
    while (true) {
      ssize_t n = ::read(fd_, buf, sizeof buf);
      if (n <= 0) break;
      for (ssize_t off = 0; off < n;) {
        inotify_event ev{};
        std::copy_n(buf + off, sizeof ev, reinterpret_cast<char*>(&ev));
        if ((ev.mask & (IN_DELETE_SELF | IN_MOVE_SELF | IN_IGNORED)) != 0) dir_gone = true;
        off += static_cast<ssize_t>(sizeof(inotify_event) + ev.len);
      }
    }
    if (dir_gone) AddWatches();
  } else if (std::any_of(watches_.begin(), watches_.end(), [](int wd) { return wd < 0; })) {
    AddWatches();  // retry directories that did not exist before
  }
}

}  // namespace mailrelay
