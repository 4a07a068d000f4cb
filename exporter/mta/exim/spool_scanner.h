// Incremental reader of an Exim spool `input/` directory, flat or split (`input/<c>/` with
// split_spool_directory; both are read, as Exim itself looks in both).
//
// Cost control (see bench/README.md for the measurements behind it):
//  - every parsed -H file is cached under its file name and (inode, mtime, size), with the
//    size of its -D file; a later scan re-reads a -H only when that identity changed (Exim
//    rewrites -H files by writing a new file and renaming it, so any change is a new inode);
//  - a -H file that is not in the cache costs five system calls: openat, fstat (its identity
//    for the cache, taken from the open file so that it describes what was read), one read()
//    into a reused buffer, close, and a stat of its -D file (the size); the directory entry's
//    d_type stands in for a stat before the open (only regular files are opened, with
//    O_NOFOLLOW | O_NONBLOCK, and fstat checks again), and the file is parsed in place
//    (ParseEximSpoolSummary: no copy, no allocation but the message's own); where io_uring
//    is available the openat, read and close of kBatch files go in two io_uring_enter calls
//    (Options::io_uring), and large scans stat and read on several threads
//    (Options::threads), each with its own buffer and ring;
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

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
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
    // Threads that stat, read and parse -H files when a scan has many to do (one more per
    // kFilesPerThread files, this one included); 0 = the hardware threads, at most 4.
    unsigned threads = 0;
    // Open, read and close -H files in batches through io_uring when the kernel allows it
    // (else, or when false, one system call each).
    bool io_uring = true;
    // Test hook: called with the file name just before a -H file is opened (from a worker
    // thread when the scan uses several).
    std::function<void(const std::string&)> before_open;
  };
  static constexpr std::size_t kFilesPerThread = 1024;
  static constexpr std::size_t kBatch = 32;               // files per io_uring batch (open at once)
  static constexpr std::size_t kMessagesPerBlock = 2048;  // see MessageBlock in the .cc
  struct Stats {                                          // of the last scan
    std::size_t files_read = 0;                           // -H files opened and parsed
    std::size_t files_cached = 0;  // -H files listed and taken from the cache
    std::size_t dirs_listed = 0;
    std::size_t dirs_reused = 0;    // directories not even listed (unchanged)
    unsigned threads = 1;           // most threads one of its steps ran on
    std::size_t files_batched = 0;  // of files_read: opened, read and closed through io_uring
  };

  explicit EximSpoolScanner(Options options);
  ~EximSpoolScanner() override;

  std::vector<std::string> QueueNames() const override { return {"input"}; }
  QueueScan Scan() override;
  const Stats& last_stats() const { return stats_; }

 private:
  // A message id (IsEximMessageId: 16 or 23 characters), held inline.
  struct MessageId {
    char text[24] = {};
    unsigned char size = 0;
    std::string_view view() const { return {text, size}; }
    bool operator==(const MessageId& o) const { return view() == o.view(); }
    bool operator<(const MessageId& o) const { return view() < o.view(); }
  };
  struct MessageIdHash {
    std::size_t operator()(const MessageId& id) const {
      return std::hash<std::string_view>{}(id.view());
    }
  };
  // For the large arrays of a scan and of the cache: an allocation of kPopulateBytes or more
  // is mapped with all its pages populated by one madvise(MADV_POPULATE_WRITE) (Linux 5.14;
  // elsewhere the pages fault in one by one as usual), which under virtualisation costs a
  // small part of a page fault per 4 KiB page (bench/README.md).
  static constexpr std::size_t kPopulateBytes = 256u << 10;
  static void* AllocatePopulated(std::size_t bytes);
  static void FreePopulated(void* p, std::size_t bytes);
  template <typename T>
  struct PopulatedAllocator {
    using value_type = T;
    PopulatedAllocator() = default;
    template <typename U>
    PopulatedAllocator(const PopulatedAllocator<U>&) {}  // NOLINT: implicit by design
    T* allocate(std::size_t n) { return static_cast<T*>(AllocatePopulated(n * sizeof(T))); }
    void deallocate(T* p, std::size_t n) { FreePopulated(p, n * sizeof(T)); }
    template <typename U>
    bool operator==(const PopulatedAllocator<U>&) const {
      return true;
    }
  };
  template <typename T>
  using Array = std::vector<T, PopulatedAllocator<T>>;

  struct FileKey {
    ino_t ino = 0;
    std::int64_t mtime_ns = 0;
    std::int64_t size = 0;
    bool operator==(const FileKey& o) const {
      return ino == o.ino && mtime_ns == o.mtime_ns && size == o.size;
    }
  };
  struct FileEntry {
    MessageId id;
    bool counts_error = false;  // corrupt, or envelope fine but header section malformed
    FileKey key;
    std::shared_ptr<const QueueMessage> message;  // null when the file is corrupt
  };
  // The cache of one directory: its entries in a vector, found by message id through an
  // open-addressing index (no allocation per entry). Built once per listing.
  class FileTable {
   public:
    void Reserve(std::size_t n);
    FileEntry* Find(const MessageId& id);
    void Add(FileEntry entry);  // an id not in the table yet
    const Array<FileEntry>& entries() const { return entries_; }
    std::size_t size() const { return entries_.size(); }

   private:
    Array<FileEntry> entries_;
    Array<std::uint32_t> index_;  // entry number + 1, 0 = free; a power of two in size
  };
  struct DirState {
    bool valid = false;
    ino_t ino = 0;
    std::int64_t mtime_ns = 0;
    bool reusable = false;  // last listing was complete, no journal, no open errors
    FileTable files;
    std::vector<std::string> subdirs;  // top directory only
  };

  struct Directory;    // one spool directory in a scan (the .cc)
  struct Work;         // one listed -H file in a scan (the .cc)
  class IoUring;       // the .cc
  class MessageBlock;  // the .cc

  // Opens (as `fd`, consumed) and lists a directory unless its state can be reused.
  void PrepareDirectory(int fd, DirState* state, bool top, Directory* dir, QueueScan* scan);
  // Compares a listed file with the cache (a stat).
  void StatFile(Work* work) const;
  // Opens, reads and parses files: one by one, or a batch through io_uring.
  void ReadFile(Work* work, std::vector<char>* buffer, std::size_t thread);
  void ReadFiles(Work* const* works, std::size_t n, std::size_t thread);
  void Parse(Work* work, std::string_view text, std::size_t thread);
  // Calls fn(begin, end, thread) for consecutive ranges of [0, n), on several threads when n
  // is large.
  template <typename Fn>
  void ForEach(std::size_t n, Fn fn);

  Options options_;
  Stats stats_;
  DirState top_;
  std::map<std::string, DirState> subdirs_;
  std::vector<std::vector<char>> buffers_;             // per thread: the -H files being parsed
  std::vector<std::unique_ptr<IoUring>> rings_;        // per thread, made when first needed
  std::vector<std::shared_ptr<MessageBlock>> blocks_;  // per thread, during a scan
  std::size_t block_capacity_ = 0;                     // messages per block in this scan
  std::atomic<bool> io_uring_unavailable_{false};
  std::atomic<std::size_t> files_batched_{0};
};

}  // namespace mailrelay
