// Incremental reader of an Exim spool `input/` directory, flat or split (`input/<c>/` with
// split_spool_directory; both are read, as Exim itself looks in both).
//
// Cost control:
//  - every parsed -H file is cached under its file name and (inode, mtime, size), with the
//    size of its -D file; a later scan re-reads a -H only when that identity changed (Exim
//    rewrites -H files by writing a new file and renaming it, so any change is a new inode);
//  - a directory whose own (inode, mtime) is unchanged since a listing taken after that
//    mtime had settled (older than the listing by kDirectorySettleSeconds) cannot have gained,
//    lost or replaced a -H file, so its cached messages are reused without even readdir()
//    (disable with trust_directory_mtime = false; directories holding -J journals or whose
//    last listing was incomplete are always listed again);
//  - at most max_files -H files are opened and parsed per scan; messages left unread are
//    left out of that scan (QueueScan::truncated) and read by the following scans.
// Errors (see QueueError) are counted per scan in which they are seen: a corrupt -H stays
// cached as corrupt and counts again at each scan while it is in the spool, without being
// re-read; an unreadable one is retried at each scan.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "queue/queue_source.h"

namespace mailrelay {

class EximSpoolScanner : public QueueSource {
 public:
  static constexpr double kDirectorySettleSeconds = 2.0;

  struct Options {
    std::string input_dir;  // .../spool/exim4/input
    std::size_t max_files = 200000;
    bool trust_directory_mtime = true;
    std::size_t max_header_file_bytes = 32u << 20;
    // Test hook: called with the file name just before a -H file is opened.
    std::function<void(const std::string&)> before_open;
  };
  struct Stats {                   // of the last scan
    std::size_t files_read = 0;    // -H files opened and parsed
    std::size_t files_cached = 0;  // -H files listed and taken from the cache
    std::size_t dirs_listed = 0;
    std::size_t dirs_reused = 0;  // directories not even listed (unchanged)
  };

  explicit EximSpoolScanner(Options options);
  ~EximSpoolScanner() override;

  std::vector<std::string> QueueNames() const override { return {"input"}; }
  QueueScan Scan() override;
  const Stats& last_stats() const { return stats_; }

 private:
  struct FileKey {
    ino_t ino = 0;
    std::int64_t mtime_ns = 0;
    std::int64_t size = 0;
    bool operator==(const FileKey& o) const {
      return ino == o.ino && mtime_ns == o.mtime_ns && size == o.size;
    }
  };
  struct FileEntry {
    FileKey key;
    std::shared_ptr<const QueueMessage> message;  // null when the file is corrupt
    bool counts_error = false;  // corrupt, or envelope fine but header section malformed
  };
  struct DirState {
    bool valid = false;
    ino_t ino = 0;
    std::int64_t mtime_ns = 0;
    bool reusable = false;  // last listing was complete, no journal, no open errors
    std::unordered_map<std::string, FileEntry> files;  // by message id
    std::vector<std::string> subdirs;                  // top directory only
  };

  // Reads one directory (dir_fd is consumed). `top` = the input directory itself.
  void ScanDirectory(int dir_fd, DirState* state, bool top, std::size_t* budget, QueueScan* scan);

  Options options_;
  Stats stats_;
  DirState top_;
  std::map<std::string, DirState> subdirs_;
};

}  // namespace mailrelay
