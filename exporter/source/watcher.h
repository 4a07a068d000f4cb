// Watcher blocks until one of the watched files may have changed, or a timeout passes.
// It uses inotify on the files' directories (so creation, rename and deletion are seen as
// well as appends) and falls back to plain polling when inotify is unavailable.
#pragma once

#include <string>
#include <vector>

namespace mailrelay {

class Watcher {
 public:
  explicit Watcher(const std::vector<std::string>& paths);
  ~Watcher();
  Watcher(const Watcher&) = delete;
  Watcher& operator=(const Watcher&) = delete;

  // Returns after an inotify event or after timeout_ms, whichever comes first.
  void Wait(int timeout_ms);
  bool using_inotify() const { return fd_ >= 0; }

 private:
  void AddWatches();

  std::vector<std::string> dirs_;
  std::vector<int> watches_;
  int fd_ = -1;
};

}  // namespace mailrelay
