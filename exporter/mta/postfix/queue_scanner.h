// Incremental reader of the Postfix queue straight from the queue files (docs/postfix-queue.md),
// the counterpart of EximSpoolScanner: what `postqueue -j` lists, plus who submitted each
// message (sasl_username, or the local user of a pickup submission) for the queue-by-owner
// families, which `postqueue -j` cannot give.
//
// What is read: the queues showq(8) lists, under queue_directory: maildrop, incoming, active,
// deferred and hold, each flat or hashed into one-character subdirectories (hash_queue_names,
// hash_queue_depth: every subdirectory named by one character is descended into, to any
// depth up to kMaxHashDepth, so no Postfix setting is needed). A file counts when its name is a
// queue id and, as showq requires (mail_open_ok), it is a regular file whose owner bits are
// rwx: Postfix writes a queue file with mode 0600 and makes it 0700 once complete, so files
// still being written are left out without an error. Not read: corrupt/ (Postfix's quarantine)
// and the per-message logs (defer/, bounce/, trace/).
//
// Cost control (bench/README.md has the measurements):
//  - every parsed file is cached under its queue id with (inode, mtime, size, mode); a later
//    scan re-reads a file only when that identity changed. Postfix edits queue files in place
//    (a delivered recipient's record is retyped, the mtime of a deferred file is set to its
//    next retry time), which changes the mtime; a move between queues is a rename (same
//    inode and mtime), so a message moving deferred -> active is not parsed again;
//  - a file not in the cache costs four system calls: openat (O_NOFOLLOW | O_NONBLOCK, only
//    for entries listed as regular files), fstat (the cache identity of what is read, and the
//    mode check), one pread of the first kHeadBytes (the envelope and the first content line;
//    the whole file for small messages), close; the content is not read: a larger file costs
//    one more pread for its extracted segment, past the content (PostfixQueueFileInput);
//  - a directory whose (inode, mtime) is unchanged since a listing taken after that mtime had
//    settled (kDirectorySettleSeconds) and that held no file being written, no unreadable
//    file and no file left for a later scan is not listed again: its cached messages are
//    reused. Never for active/, where the queue manager marks delivered recipients in place;
//  - at most max_files files are opened per scan; the rest are left out of that scan
//    (QueueScan::truncated) and read by the following scans.
// Errors (QueueError): a queue directory that cannot be opened or listed (`directory`; the
// scan is then not ok, and last_status() says why, e.g. the permission the exporter lacks),
// a file that cannot be opened or read or is not a regular file (`open`, retried at each
// scan), a file gone between the listing and its open (`vanished`), a corrupt file (`parse`:
// cached as corrupt and counted again at each scan while it stays). Never throws.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "mta/postfix/postqueue_json_parser.h"  // PostfixQueueNames
#include "mta/postfix/queue_file.h"
#include "queue/queue_source.h"

namespace mailrelay {

class PostfixQueueScanner : public QueueSource {
 public:
  static constexpr double kDirectorySettleSeconds = 2.0;
  static constexpr int kMaxHashDepth = 8;
  static constexpr std::size_t kHeadBytes = 16384;

  struct Options {
    std::string queue_directory = "/var/spool/postfix";  // `postconf -h queue_directory`
    // The queues read, as named under queue_directory (also the `queue` label values): those
    // showq lists, as the postqueue -j reader names them.
    std::vector<std::string> queues = PostfixQueueNames();
    std::size_t max_files = 200000;
    bool trust_directory_mtime = true;
    // Login name of a uid (local submissions); default SystemUidName (getpwuid_r through NSS,
    // cached). A static build without NSS passes a reader of /etc/passwd here.
    PostfixUidResolver uid_resolver;
    // Wall time for the directory settle rule; default SystemClock::Get().
    const Clock* clock = nullptr;
    // Test hook: called with the path relative to queue_directory just before a file is opened.
    std::function<void(const std::string&)> before_open;
  };
  struct Stats {                      // of the last scan
    std::size_t files_read = 0;       // queue files opened and parsed
    std::size_t files_cached = 0;     // listed, unchanged, taken from the cache
    std::size_t files_moved = 0;      // of files_cached: found in another queue than before
    std::size_t files_not_ready = 0;  // being written (mode not rwx for the owner): left out
    std::size_t dirs_listed = 0;
    std::size_t dirs_reused = 0;   // not even listed (unchanged)
    std::uint64_t bytes_read = 0;  // by the preads of files_read
    std::size_t extra_reads = 0;   // preads beyond the first one per file
  };

  explicit PostfixQueueScanner(Options options);
  ~PostfixQueueScanner() override;

  std::vector<std::string> QueueNames() const override { return options_.queues; }
  QueueScan Scan() override;

  // OK when the last scan could read every queue directory; otherwise why not (the first
  // failure: PermissionDenied "cannot open /var/spool/postfix/deferred: Permission denied",
  // NotFound for a missing queue_directory), for /-/ready and the logs.
  const Status& last_status() const { return status_; }
  const Stats& last_stats() const { return stats_; }

 private:
  struct FileKey {
    ino_t ino = 0;
    std::int64_t mtime_ns = 0;
    std::int64_t size = 0;
    mode_t mode = 0;
    bool operator==(const FileKey& o) const {
      return ino == o.ino && mtime_ns == o.mtime_ns && size == o.size && mode == o.mode;
    }
  };
  struct Entry {  // one queue file of a directory, as last read
    std::string id;
    FileKey key;
    std::shared_ptr<const QueueMessage> message;  // null when the file is corrupt
  };
  struct DirState {
    bool valid = false;
    ino_t ino = 0;
    std::int64_t mtime_ns = 0;
    bool reusable = false;  // listed completely, after its mtime had settled (not active/)
    std::vector<Entry> entries;
    std::vector<std::string> subdirs;  // one-character subdirectories
  };
  struct Directory;  // one directory in a scan (the .cc)
  struct Work;       // one listed file in a scan (the .cc)
  class FileInput;   // the .cc

  // Opens the directory `rel` (relative to queue_directory; `name` in parent_fd) of `queue`
  // and lists it unless its state can be reused, then its one-character subdirectories.
  // Returns false (with status_ set when `required`) when it cannot be opened or listed.
  bool PrepareDirectory(int parent_fd, const std::string& name, const std::string& rel,
                        const std::string& queue, int depth, bool required, QueueScan* scan,
                        std::vector<std::unique_ptr<Directory>>* dirs);
  void ReadFile(Work* work);

  Options options_;
  Stats stats_;
  Status status_;
  std::map<std::string, DirState> dirs_;  // by path relative to queue_directory
  std::vector<char> buffer_;              // the head of the file being read
};

}  // namespace mailrelay
