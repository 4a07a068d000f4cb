#include "mta/exim/spool_scanner.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/io_uring.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <exception>
#include <mutex>
#include <new>
#include <system_error>
#include <thread>

#include "common/file_io.h"
#include "common/logging.h"
#include "common/unique_fd.h"
#include "mta/exim/spool_header.h"

namespace mailrelay {

namespace {

std::int64_t MtimeNs(const struct stat& st) {
  return static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
}

std::int64_t RealtimeNs() {
  timespec ts{};
  ::clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

bool IsBase62(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

// Reads an open regular file whose fstat gave `expected` bytes into *buf (kept for the next
// file) and sets *size. Returns 0 or an errno value (EFBIG when larger than max_bytes).
// The buffer has room for a byte more than expected, so one read() usually does it: a
// regular file reads short only at its end, and once `expected` bytes have come a short read
// is taken as the end, without a second read() to see 0 (a file that shrank meanwhile
// reads short before `expected`, and is read on until 0).
int ReadWholeFile(int fd, std::size_t expected, std::size_t max_bytes, std::vector<char>* buf,
                  std::size_t* size) {
  std::size_t room = std::min(expected, max_bytes) + 1;
  if (buf->size() < room) buf->resize(room);
  std::size_t total = 0;
  for (;;) {
    if (total == buf->size()) {  // it grew since fstat
      if (total > max_bytes) return EFBIG;
      buf->resize(std::min(max_bytes + 1, buf->size() * 2));
    }
    std::size_t want = buf->size() - total;
    ssize_t n = ::read(fd, buf->data() + total, want);
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    if (n == 0) break;
    total += static_cast<std::size_t>(n);
    if (total > max_bytes) return EFBIG;
    if (static_cast<std::size_t>(n) < want && total >= expected) break;
  }
  *size = total;
  return 0;
}

// "<id>-<kind>" as a C string.
struct FileName {
  char text[32];
  FileName(std::string_view id, char kind) {
    std::memcpy(text, id.data(), id.size());
    text[id.size()] = '-';
    text[id.size() + 1] = kind;
    text[id.size() + 2] = '\0';
  }
  const char* c_str() const { return text; }
};

// The size of the message's -D file, or -1 when it has none (see EximMessageSize).
std::int64_t DataFileSize(int dir_fd, std::string_view id) {
  FileName dname(id, 'D');
  struct stat st {};
  if (::fstatat(dir_fd, dname.c_str(), &st, 0) != 0) return -1;
  return static_cast<std::int64_t>(st.st_size);
}

}  // namespace

// A minimal io_uring (raw system calls; liburing is not needed for this little): entries are
// prepared with Next(), then SubmitAndWait() submits them all and waits for every completion.
// Used only for IORING_OP_OPENAT, IORING_OP_READ and IORING_OP_CLOSE (Linux 5.6), which the
// kernel runs inline for a file in the page cache and dentry cache: the saving is the system
// call entry and exit of each, which is most of their cost (bench/README.md).
class EximSpoolScanner::IoUring {
 public:
  // Null when io_uring is unavailable (old kernel, seccomp filter, sysctl
  // kernel.io_uring_disabled, no memory) or lacks one of the three operations.
  static std::unique_ptr<IoUring> Create(unsigned entries) {
    io_uring_params p{};
    int fd = static_cast<int>(::syscall(__NR_io_uring_setup, entries, &p));
    if (fd < 0) return nullptr;
    std::unique_ptr<IoUring> r(new IoUring(fd));
    if (!r->Map(p) || !r->Supports({IORING_OP_OPENAT, IORING_OP_READ, IORING_OP_CLOSE})) {
      return nullptr;
    }
    return r;
  }
  ~IoUring() {
    if (sqes_map_ != MAP_FAILED) ::munmap(sqes_map_, sqes_len_);
    if (cq_ptr_ != MAP_FAILED && cq_ptr_ != sq_ptr_) ::munmap(cq_ptr_, cq_len_);
    if (sq_ptr_ != MAP_FAILED) ::munmap(sq_ptr_, sq_len_);
    ::close(fd_);
  }
  IoUring(const IoUring&) = delete;
  IoUring& operator=(const IoUring&) = delete;

  // A zeroed entry to fill; at most `entries` (of Create) before SubmitAndWait.
  io_uring_sqe* Next() {
    unsigned tail = *sq_tail_ + prepared_;
    unsigned index = tail & sq_mask_;
    io_uring_sqe* sqe = &sqes_[index];
    std::memset(sqe, 0, sizeof *sqe);
    sq_array_[index] = index;
    ++prepared_;
    return sqe;
  }

  // Submits the prepared entries and calls done(user_data, res) for each completion, until
  // every submitted entry has completed. False when io_uring_enter fails for good: entries
  // not yet submitted are then dropped (never run), and the ring must not be used again.
  template <typename Done>
  bool SubmitAndWait(Done done) {
    __atomic_store_n(sq_tail_, *sq_tail_ + prepared_, __ATOMIC_RELEASE);
    unsigned to_submit = prepared_;
    unsigned inflight = 0;
    prepared_ = 0;
    for (;;) {
      unsigned head = *cq_head_;
      unsigned tail = __atomic_load_n(cq_tail_, __ATOMIC_ACQUIRE);
      for (; head != tail; ++head) {
        const io_uring_cqe& cqe = cqes_[head & cq_mask_];
        done(cqe.user_data, cqe.res);
        --inflight;
      }
      __atomic_store_n(cq_head_, head, __ATOMIC_RELEASE);
      if (to_submit == 0 && inflight == 0) return true;
      unsigned wait = to_submit + inflight;
      long n =
          ::syscall(__NR_io_uring_enter, fd_, to_submit, wait, IORING_ENTER_GETEVENTS, nullptr, 0);
      if (n < 0) {
        if (errno == EINTR) continue;
        if ((errno == EAGAIN || errno == EBUSY) && inflight > 0) {
          ::syscall(__NR_io_uring_enter, fd_, 0, 1, IORING_ENTER_GETEVENTS, nullptr, 0);
          continue;
        }
        if (inflight > 0) {  // reap what was submitted; the rest never runs
          to_submit = 0;
          if (::syscall(__NR_io_uring_enter, fd_, 0, inflight, IORING_ENTER_GETEVENTS, nullptr,
                        0) >= 0) {
            continue;
          }
        }
        return false;
      }
      to_submit -= static_cast<unsigned>(n);
      inflight += static_cast<unsigned>(n);
    }
  }

 private:
  explicit IoUring(int fd) : fd_(fd) {}

  bool Map(const io_uring_params& p) {
    sq_entries_ = p.sq_entries;
    sq_len_ = p.sq_off.array + p.sq_entries * sizeof(unsigned);
    cq_len_ = p.cq_off.cqes + p.cq_entries * sizeof(io_uring_cqe);
    bool single = (p.features & IORING_FEAT_SINGLE_MMAP) != 0;
    if (single) sq_len_ = cq_len_ = std::max(sq_len_, cq_len_);
    sq_ptr_ = ::mmap(nullptr, sq_len_, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd_,
                     IORING_OFF_SQ_RING);
    if (sq_ptr_ == MAP_FAILED) return false;
    cq_ptr_ = single ? sq_ptr_
                     : ::mmap(nullptr, cq_len_, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE,
                              fd_, IORING_OFF_CQ_RING);
    if (cq_ptr_ == MAP_FAILED) return false;
    sqes_len_ = p.sq_entries * sizeof(io_uring_sqe);
    sqes_map_ = ::mmap(nullptr, sqes_len_, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd_,
                       IORING_OFF_SQES);
    if (sqes_map_ == MAP_FAILED) return false;
    sqes_ = static_cast<io_uring_sqe*>(sqes_map_);
    auto* sq = static_cast<char*>(sq_ptr_);
    auto* cq = static_cast<char*>(cq_ptr_);
    sq_tail_ = reinterpret_cast<unsigned*>(sq + p.sq_off.tail);
    sq_mask_ = *reinterpret_cast<unsigned*>(sq + p.sq_off.ring_mask);
    sq_array_ = reinterpret_cast<unsigned*>(sq + p.sq_off.array);
    cq_head_ = reinterpret_cast<unsigned*>(cq + p.cq_off.head);
    cq_tail_ = reinterpret_cast<unsigned*>(cq + p.cq_off.tail);
    cq_mask_ = *reinterpret_cast<unsigned*>(cq + p.cq_off.ring_mask);
    cqes_ = reinterpret_cast<io_uring_cqe*>(cq + p.cq_off.cqes);
    return true;
  }

  bool Supports(std::initializer_list<int> ops) {
    constexpr unsigned kOps = 64;
    std::vector<char> buf(sizeof(io_uring_probe) + kOps * sizeof(io_uring_probe_op), 0);
    auto* probe = reinterpret_cast<io_uring_probe*>(buf.data());
    if (::syscall(__NR_io_uring_register, fd_, IORING_REGISTER_PROBE, probe, kOps) < 0) {
      return false;
    }
    for (int op : ops) {
      if (op > probe->last_op || (probe->ops[op].flags & IO_URING_OP_SUPPORTED) == 0) {
        return false;
      }
    }
    return true;
  }

  int fd_;
  unsigned sq_entries_ = 0;
  void* sq_ptr_ = MAP_FAILED;
  void* cq_ptr_ = MAP_FAILED;
  void* sqes_map_ = MAP_FAILED;
  std::size_t sq_len_ = 0;
  std::size_t cq_len_ = 0;
  std::size_t sqes_len_ = 0;
  io_uring_sqe* sqes_ = nullptr;
  unsigned* sq_tail_ = nullptr;
  unsigned sq_mask_ = 0;
  unsigned* sq_array_ = nullptr;
  unsigned* cq_head_ = nullptr;
  unsigned* cq_tail_ = nullptr;
  unsigned cq_mask_ = 0;
  io_uring_cqe* cqes_ = nullptr;
  unsigned prepared_ = 0;
};

void* EximSpoolScanner::AllocatePopulated(std::size_t bytes) {
  if (bytes < kPopulateBytes) return ::operator new(bytes);
  void* p = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) throw std::bad_alloc();
#ifdef MADV_POPULATE_WRITE
  ::madvise(p, bytes, MADV_POPULATE_WRITE);  // EINVAL before Linux 5.14: faults as usual
#endif
  return p;
}

void EximSpoolScanner::FreePopulated(void* p, std::size_t bytes) {
  if (bytes < kPopulateBytes) {
    ::operator delete(p);
  } else {
    ::munmap(p, bytes);
  }
}

void EximSpoolScanner::FileTable::Reserve(std::size_t n) {
  entries_.clear();
  entries_.reserve(n);
  std::size_t slots = 16;
  while (slots < 2 * n) slots *= 2;
  index_.assign(slots, 0);
}

EximSpoolScanner::FileEntry* EximSpoolScanner::FileTable::Find(const MessageId& id) {
  if (entries_.empty()) return nullptr;
  std::size_t mask = index_.size() - 1;
  for (std::size_t i = MessageIdHash{}(id)&mask;; i = (i + 1) & mask) {
    std::uint32_t e = index_[i];
    if (e == 0) return nullptr;
    if (entries_[e - 1].id == id) return &entries_[e - 1];
  }
}

void EximSpoolScanner::FileTable::Add(FileEntry entry) {
  if (2 * (entries_.size() + 1) > index_.size()) {  // not reserved: grow the index
    Array<FileEntry> old = std::move(entries_);
    Reserve(std::max<std::size_t>(2 * old.size(), 8));
    for (auto& e : old) Add(std::move(e));
  }
  std::size_t mask = index_.size() - 1;
  std::size_t i = MessageIdHash{}(entry.id) & mask;
  while (index_[i] != 0) i = (i + 1) & mask;
  entries_.push_back(std::move(entry));
  index_[i] = static_cast<std::uint32_t>(entries_.size());
}

// The messages read by a thread in a scan, made in blocks (one populated allocation each)
// rather than one by one: a message is a shared_ptr that aliases its block, and a block goes
// when its last message does. (So a block outlives most of its messages when a few of them
// stay queued long after the others: at most kMessagesPerBlock - 1 messages of memory each.)
class EximSpoolScanner::MessageBlock {
 public:
  explicit MessageBlock(std::size_t capacity)
      : capacity_(capacity),
        data_(static_cast<QueueMessage*>(AllocatePopulated(capacity * sizeof(QueueMessage)))) {}
  ~MessageBlock() {
    for (std::size_t i = 0; i < size_; ++i) data_[i].~QueueMessage();
    FreePopulated(data_, capacity_ * sizeof(QueueMessage));
  }
  MessageBlock(const MessageBlock&) = delete;
  MessageBlock& operator=(const MessageBlock&) = delete;
  bool full() const { return size_ == capacity_; }
  const QueueMessage* Add(QueueMessage&& m) {
    return new (&data_[size_++]) QueueMessage(std::move(m));
  }

 private:
  std::size_t capacity_;
  std::size_t size_ = 0;
  QueueMessage* data_;
};

struct EximSpoolScanner::Work {
  enum class Outcome : unsigned char {
    kStat,      // to compare with the cache (or to learn its type)
    kRead,      // to open and parse
    kCached,    // unchanged: the cached entry stands
    kMessage,   // read: `message`
    kCorrupt,   // read: unusable envelope (parse error)
    kVanished,  // gone since the listing
    kOpen,      // cannot be opened or read, or not a regular file
    kSkipped,   // over the max_files budget
  };
  MessageId id;
  unsigned char type = DT_UNKNOWN;  // from the listing (d_type)
  Outcome outcome = Outcome::kRead;
  bool has_journal = false;
  bool headers_valid = true;
  const Directory* dir = nullptr;
  FileEntry* cached = nullptr;  // in dir->state->files
  FileKey key;
  std::shared_ptr<const QueueMessage> message;
  std::string why;  // of a parse error
};

struct EximSpoolScanner::Directory {
  ~Directory() {
    if (fd >= 0) ::close(fd);
  }
  int fd = -1;
  DirState* state = nullptr;
  bool top = false;
  bool listed = false;  // false: reused as it was (or unreadable: state reset)
  ino_t ino = 0;
  std::int64_t mtime_ns = 0;
  std::int64_t listing_started = 0;
  Array<Work> works;                // its -H files, in listing order
  std::vector<MessageId> journals;  // sorted
  std::vector<std::string> subdirs;
};

EximSpoolScanner::EximSpoolScanner(Options options) : options_(std::move(options)) {}
EximSpoolScanner::~EximSpoolScanner() = default;

template <typename Fn>
void EximSpoolScanner::ForEach(std::size_t n, Fn fn) {
  // Ranges of kChunk, handed out in order from a shared counter: the threads finish together.
  constexpr std::size_t kChunk = kBatch;
  unsigned max_threads = options_.threads;
  if (max_threads == 0) max_threads = std::clamp(std::thread::hardware_concurrency(), 1u, 4u);
  std::size_t threads = std::min<std::size_t>(max_threads, n / kFilesPerThread + 1);
  if (buffers_.size() < threads) buffers_.resize(threads);
  if (rings_.size() < threads) rings_.resize(threads);
  if (blocks_.size() < threads) blocks_.resize(threads);
  if (threads <= 1) {
    for (std::size_t begin = 0; begin < n; begin += kChunk) {
      fn(begin, std::min(begin + kChunk, n), std::size_t{0});
    }
    return;
  }
  std::atomic<std::size_t> next{0};
  std::mutex failure_mutex;
  std::exception_ptr failure;
  auto run = [&](std::size_t thread) {
    try {
      for (;;) {
        std::size_t begin = next.fetch_add(kChunk, std::memory_order_relaxed);
        if (begin >= n) return;
        fn(begin, std::min(begin + kChunk, n), thread);
      }
    } catch (...) {
      std::lock_guard<std::mutex> lock(failure_mutex);
      if (!failure) failure = std::current_exception();
      next.store(n);
    }
  };
  std::vector<std::thread> pool;
  for (std::size_t t = 1; t < threads; ++t) {
    try {
      pool.emplace_back(run, t);
    } catch (const std::system_error&) {
      break;  // no more threads: the others do the work
    }
  }
  stats_.threads = std::max(stats_.threads, static_cast<unsigned>(pool.size() + 1));
  run(0);
  for (auto& t : pool) t.join();
  if (failure) std::rethrow_exception(failure);
}

QueueScan EximSpoolScanner::Scan() {
  QueueScan scan;
  stats_ = Stats{};
  int fd = ::open(options_.input_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    int e = errno;
    scan.AddError(QueueError::kDirectory);
    Log(LogLevel::kDebug, "cannot open Exim spool directory",
        {{"path", options_.input_dir}, {"error", std::strerror(e)}});
    top_ = DirState{};
    subdirs_.clear();
    return scan;
  }
  scan.ok = true;

  // 1. The directories, in order: input/, then (split spool) input/<c>/ for each base62
  // character c that the listing of input/ showed. Unchanged ones are not listed.
  std::vector<std::unique_ptr<Directory>> dirs;
  dirs.push_back(std::make_unique<Directory>());
  PrepareDirectory(fd, &top_, true, dirs.back().get(), &scan);
  const std::vector<std::string>& subdir_names =
      dirs.back()->listed ? dirs.back()->subdirs : top_.subdirs;
  std::map<std::string, DirState> next;
  int top_fd = dirs.back()->fd;
  for (const auto& name : subdir_names) {
    int sub = top_fd < 0 ? -1 : ::openat(top_fd, name.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (sub < 0) {
      if (errno != ENOENT) scan.AddError(QueueError::kDirectory);
      continue;
    }
    DirState& state = next[name];
    if (auto it = subdirs_.find(name); it != subdirs_.end()) state = std::move(it->second);
    dirs.push_back(std::make_unique<Directory>());
    PrepareDirectory(sub, &state, false, dirs.back().get(), &scan);
  }

  // 2. What each listed -H file needs: nothing (cached and unchanged), a stat to compare
  // with the cache, or to be read.
  std::size_t total = 0;
  for (auto& d : dirs) total += d->listed ? d->works.size() : d->state->files.size();
  scan.messages.reserve(total);
  std::vector<Work*> to_stat;
  std::vector<Work*> to_read;
  to_read.reserve(total);
  for (auto& d : dirs) {
    for (Work& w : d->works) {
      w.dir = d.get();
      w.has_journal =
          !d->journals.empty() && std::binary_search(d->journals.begin(), d->journals.end(), w.id);
      if (!w.has_journal) w.cached = d->state->files.Find(w.id);
      if (w.cached != nullptr || w.type == DT_UNKNOWN) {
        w.outcome = Work::Outcome::kStat;
        to_stat.push_back(&w);
      } else if (w.type != DT_REG) {  // listed as a directory, symlink, FIFO, device
        w.outcome = Work::Outcome::kOpen;
      }
    }
  }

  // 3. Stat the files the cache knows (in parallel when many), then hand out the max_files
  // budget in listing order, then open and parse the files to read (in parallel when many).
  ForEach(to_stat.size(), [&](std::size_t begin, std::size_t end, std::size_t) {
    for (std::size_t i = begin; i < end; ++i) StatFile(to_stat[i]);
  });
  std::size_t budget = options_.max_files;
  for (auto& d : dirs) {
    for (Work& w : d->works) {
      if (w.outcome != Work::Outcome::kRead) continue;
      if (budget == 0) {
        w.outcome = Work::Outcome::kSkipped;
        scan.truncated = true;
        continue;
      }
      --budget;
      to_read.push_back(&w);
    }
  }
  stats_.files_read = to_read.size();
  files_batched_ = 0;
  // Blocks of messages big enough to be populated at once, none bigger than this scan needs.
  block_capacity_ = std::clamp<std::size_t>(to_read.size(), 1, kMessagesPerBlock);
  ForEach(to_read.size(), [&](std::size_t begin, std::size_t end, std::size_t thread) {
    ReadFiles(to_read.data() + begin, end - begin, thread);
  });
  blocks_.clear();  // the blocks now belong to their messages
  stats_.files_batched = files_batched_;

  // 4. Results, errors and the new cache, in listing order.
  for (auto& d : dirs) {
    DirState* state = d->state;
    if (!d->listed) {
      if (state->valid) {
        for (const FileEntry& entry : state->files.entries()) {
          if (entry.message) scan.messages.push_back(entry.message);
          if (entry.counts_error) scan.AddError(QueueError::kParse);
        }
      }
      continue;
    }
    bool complete = true;
    FileTable files;
    files.Reserve(d->works.size());
    for (Work& w : d->works) {
      switch (w.outcome) {
        case Work::Outcome::kCached:
          ++stats_.files_cached;
          if (w.cached->message) scan.messages.push_back(w.cached->message);
          if (w.cached->counts_error) scan.AddError(QueueError::kParse);
          files.Add(std::move(*w.cached));
          break;
        case Work::Outcome::kMessage:
          if (!w.headers_valid) {
            // Envelope usable, header section malformed: listed by `exim -bp` too, so counted.
            scan.AddError(QueueError::kParse);
            Log(LogLevel::kDebug, "bad headers in Exim spool header file",
                {{"file", FileName(w.id.view(), 'H').c_str()}, {"error", std::string_view(w.why)}});
          }
          scan.messages.push_back(w.message);
          // Messages with a journal are re-read at every scan while the journal exists.
          if (!w.has_journal) {
            files.Add(FileEntry{w.id, !w.headers_valid, w.key, std::move(w.message)});
          }
          break;
        case Work::Outcome::kCorrupt:
          scan.AddError(QueueError::kParse);
          Log(LogLevel::kDebug, "bad Exim spool header file",
              {{"file", FileName(w.id.view(), 'H').c_str()}, {"error", std::string_view(w.why)}});
          files.Add(FileEntry{w.id, true, w.key, nullptr});
          break;
        case Work::Outcome::kVanished:
          scan.AddError(QueueError::kVanished);
          break;
        case Work::Outcome::kOpen:
          scan.AddError(QueueError::kOpen);
          complete = false;
          break;
        case Work::Outcome::kSkipped:
        case Work::Outcome::kStat:
        case Work::Outcome::kRead:
          complete = false;
          break;
      }
    }
    state->valid = true;
    state->ino = d->ino;
    state->mtime_ns = d->mtime_ns;
    // Trust the directory's mtime next time only if it had settled before this listing began
    // (a change within the same timestamp tick could otherwise go unseen).
    bool settled = d->mtime_ns + static_cast<std::int64_t>(kDirectorySettleSeconds * 1e9) <=
                   d->listing_started;
    state->reusable = complete && d->journals.empty() && settled;
    state->files = std::move(files);
    if (d->top) state->subdirs = std::move(d->subdirs);
  }
  subdirs_ = std::move(next);
  for (auto& b : buffers_) {
    if (b.size() > (1u << 20)) std::vector<char>().swap(b);  // after a huge -H
  }
  return scan;
}

void EximSpoolScanner::PrepareDirectory(int fd, DirState* state, bool top, Directory* dir,
                                        QueueScan* scan) {
  dir->fd = fd;
  dir->state = state;
  dir->top = top;
  struct stat dst {};
  if (::fstat(fd, &dst) != 0) {
    scan->AddError(QueueError::kDirectory);
    *state = DirState{};
    return;
  }
  dir->ino = dst.st_ino;
  dir->mtime_ns = MtimeNs(dst);
  if (options_.trust_directory_mtime && state->valid && state->reusable && state->ino == dir->ino &&
      state->mtime_ns == dir->mtime_ns) {
    ++stats_.dirs_reused;
    return;
  }

  ++stats_.dirs_listed;
  dir->listing_started = RealtimeNs();
  // Read the whole listing first (fdopendir takes over a duplicate of the descriptor).
  int list_fd = ::dup(fd);
  DIR* d = list_fd < 0 ? nullptr : ::fdopendir(list_fd);
  if (d == nullptr) {
    if (list_fd >= 0) ::close(list_fd);
    scan->AddError(QueueError::kDirectory);
    *state = DirState{};
    return;
  }
  dir->works.reserve(state->files.size() + 64);
  errno = 0;
  while (dirent* de = ::readdir(d)) {
    std::string_view name(de->d_name);
    if (name.size() > 2 && name[name.size() - 2] == '-') {
      std::string_view id = name.substr(0, name.size() - 2);
      char kind = name.back();
      if ((kind == 'H' || kind == 'J') && IsEximMessageId(id)) {
        MessageId mid;
        std::memcpy(mid.text, id.data(), id.size());
        mid.size = static_cast<unsigned char>(id.size());
        if (kind == 'H') {
          dir->works.emplace_back();
          dir->works.back().id = mid;
          dir->works.back().type = de->d_type;
        } else {
          dir->journals.push_back(mid);
        }
      }
    } else if (top && name.size() == 1 && IsBase62(name[0])) {
      bool is_dir = de->d_type == DT_DIR;
      if (de->d_type == DT_UNKNOWN) {
        struct stat st {};
        is_dir = ::fstatat(fd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode);
      }
      if (is_dir) dir->subdirs.emplace_back(name);
    }
    errno = 0;
  }
  bool failed = errno != 0;
  ::closedir(d);
  if (failed) {
    scan->AddError(QueueError::kDirectory);
    *state = DirState{};
    dir->works.clear();
    dir->journals.clear();
    dir->subdirs.clear();
    return;
  }
  std::sort(dir->journals.begin(), dir->journals.end());
  dir->listed = true;
}

void EximSpoolScanner::StatFile(Work* w) const {
  FileName hname(w->id.view(), 'H');
  struct stat st {};
  if (::fstatat(w->dir->fd, hname.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
    w->outcome = errno == ENOENT ? Work::Outcome::kVanished : Work::Outcome::kOpen;
    return;
  }
  if (!S_ISREG(st.st_mode)) {  // a directory, symlink or device named like a -H file
    w->outcome = Work::Outcome::kOpen;
    return;
  }
  w->key = FileKey{st.st_ino, MtimeNs(st), static_cast<std::int64_t>(st.st_size)};
  w->outcome = w->cached != nullptr && w->cached->key == w->key ? Work::Outcome::kCached
                                                                : Work::Outcome::kRead;
}

void EximSpoolScanner::ReadFile(Work* w, std::vector<char>* buffer, std::size_t thread) {
  FileName hname(w->id.view(), 'H');
  if (options_.before_open) options_.before_open(hname.c_str());
  // O_NONBLOCK: a FIFO put there since the listing must not block the open.
  int hfd = ::openat(w->dir->fd, hname.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
  if (hfd < 0) {
    w->outcome = errno == ENOENT ? Work::Outcome::kVanished : Work::Outcome::kOpen;
    return;
  }
  std::size_t size = 0;
  int rerr = 0;
  {
    UniqueFd h(hfd);
    struct stat hst {};
    if (::fstat(h.get(), &hst) != 0 || !S_ISREG(hst.st_mode)) {
      w->outcome = Work::Outcome::kOpen;
      return;
    }
    // The identity of what is read (the stat before the open may be of an older file).
    w->key = FileKey{hst.st_ino, MtimeNs(hst), static_cast<std::int64_t>(hst.st_size)};
    rerr = ReadWholeFile(h.get(), static_cast<std::size_t>(hst.st_size),
                         options_.max_header_file_bytes, buffer, &size);
  }
  if (rerr == EFBIG) {
    w->why = "file too large";
    w->outcome = Work::Outcome::kCorrupt;
  } else if (rerr != 0) {
    w->outcome = Work::Outcome::kOpen;
  } else {
    Parse(w, std::string_view(buffer->data(), size), thread);
  }
}

// The same as ReadFile for each work, with the openat, read and close of the whole batch
// submitted to io_uring at once (two io_uring_enter calls in all); the fstat of each open file
// stays a system call (io_uring's statx would go through a kernel worker thread, which costs
// more than it saves). A file whose size differs from its fstat's, or whose open ran out of
// descriptors, is read again by ReadFile.
void EximSpoolScanner::ReadFiles(Work* const* works, std::size_t n, std::size_t thread) {
  std::vector<char>* buffer = &buffers_[thread];
  IoUring* ring = nullptr;
  if (options_.io_uring && n >= 2 && !io_uring_unavailable_.load(std::memory_order_relaxed)) {
    if (!rings_[thread]) {
      rings_[thread] = IoUring::Create(2 * kBatch);
      if (!rings_[thread] && !io_uring_unavailable_.exchange(true)) {
        Log(LogLevel::kDebug,
            "io_uring unavailable, reading the Exim spool with plain system calls");
      }
    }
    ring = rings_[thread].get();
  }
  if (ring == nullptr) {
    for (std::size_t i = 0; i < n; ++i) ReadFile(works[i], buffer, thread);
    return;
  }
  struct Slot {
    char name[32];
    int fd = -1;
    int error = -1;     // of the open: errno, 0, or -1 when it never completed
    bool redo = false;  // to read again with ReadFile
    bool closed = false;
    bool read_done = false;
    int read = 0;  // bytes, or -errno
    std::size_t offset = 0;
    std::size_t expected = 0;
  };
  Slot slots[kBatch];
  // 1. The opens.
  for (std::size_t i = 0; i < n; ++i) {
    Slot& s = slots[i];
    FileName hname(works[i]->id.view(), 'H');
    std::memcpy(s.name, hname.c_str(), sizeof s.name);
    if (options_.before_open) options_.before_open(s.name);
    io_uring_sqe* sqe = ring->Next();
    sqe->opcode = IORING_OP_OPENAT;
    sqe->fd = works[i]->dir->fd;
    sqe->addr = reinterpret_cast<std::uint64_t>(s.name);
    sqe->open_flags = O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK;
    sqe->user_data = i;
  }
  bool ring_ok = ring->SubmitAndWait([&](std::uint64_t i, int res) {
    if (res >= 0) {
      slots[i].fd = res;
      slots[i].error = 0;
    } else {
      slots[i].error = -res;
    }
  });
  // 2. fstat each (a system call), then the reads and closes through the ring.
  std::size_t room = 0;
  for (std::size_t i = 0; i < n; ++i) {
    Slot& s = slots[i];
    Work* w = works[i];
    if (s.fd < 0) {
      if (s.error == -1 || s.error == EMFILE || s.error == ENFILE) {
        s.redo = true;
      } else {
        w->outcome = s.error == ENOENT ? Work::Outcome::kVanished : Work::Outcome::kOpen;
      }
      continue;
    }
    struct stat hst {};
    if (::fstat(s.fd, &hst) != 0 || !S_ISREG(hst.st_mode)) {
      w->outcome = Work::Outcome::kOpen;
      continue;
    }
    w->key = FileKey{hst.st_ino, MtimeNs(hst), static_cast<std::int64_t>(hst.st_size)};
    if (static_cast<std::size_t>(hst.st_size) > options_.max_header_file_bytes) {
      w->why = "file too large";
      w->outcome = Work::Outcome::kCorrupt;
      continue;
    }
    s.expected = static_cast<std::size_t>(hst.st_size);
    s.offset = room;
    room += s.expected + 1;  // one more byte: a file that grew fills it
  }
  if (buffer->size() < room) buffer->resize(room);
  if (ring_ok) {
    for (std::size_t i = 0; i < n; ++i) {
      Slot& s = slots[i];
      if (s.fd < 0) continue;
      if (works[i]->outcome == Work::Outcome::kRead) {
        io_uring_sqe* sqe = ring->Next();
        sqe->opcode = IORING_OP_READ;
        sqe->fd = s.fd;
        sqe->addr = reinterpret_cast<std::uint64_t>(buffer->data() + s.offset);
        sqe->len = static_cast<unsigned>(s.expected + 1);
        sqe->off = 0;
        sqe->flags = IOSQE_IO_HARDLINK;  // the close runs whatever the read gives
        sqe->user_data = 2 * i;
      }
      io_uring_sqe* sqe = ring->Next();
      sqe->opcode = IORING_OP_CLOSE;
      sqe->fd = s.fd;
      sqe->user_data = 2 * i + 1;
    }
    ring_ok = ring->SubmitAndWait([&](std::uint64_t u, int res) {
      Slot& s = slots[u / 2];
      if (u % 2 == 0) {
        s.read = res;
        s.read_done = true;
      } else {
        s.closed = true;  // the descriptor is gone whatever res says (close(2))
      }
    });
  }
  if (!ring_ok) {
    rings_[thread].reset();
    if (!io_uring_unavailable_.exchange(true)) {
      Log(LogLevel::kInfo, "io_uring failed, reading the Exim spool with plain system calls",
          {{"error", std::strerror(errno)}});
    }
  }
  // 3. Parse what was read; read the rest again.
  std::size_t batched = 0;
  for (std::size_t i = 0; i < n; ++i) {
    Slot& s = slots[i];
    Work* w = works[i];
    if (s.fd >= 0 && !s.closed) ::close(s.fd);
    if (w->outcome == Work::Outcome::kRead &&
        (s.redo || !s.read_done ||
         (s.read >= 0 && static_cast<std::size_t>(s.read) != s.expected))) {
      // Not opened for want of descriptors, not read (the ring failed), or its size changed
      // since its fstat: read it again (not into the buffer that holds the batch).
      std::vector<char> again;
      ReadFile(w, &again, thread);
      continue;
    }
    ++batched;
    if (w->outcome != Work::Outcome::kRead) continue;  // decided at the open or the fstat
    if (s.read < 0) {
      w->outcome = Work::Outcome::kOpen;
      continue;
    }
    Parse(w, std::string_view(buffer->data() + s.offset, s.expected), thread);
  }
  files_batched_ += batched;
}

void EximSpoolScanner::Parse(Work* w, std::string_view text, std::size_t thread) {
  std::string_view id = w->id.view();
  int dir_fd = w->dir->fd;
  EximSpoolSummary summary;
  if (Status parsed = ParseEximSpoolSummary(text, id, &summary); !parsed.ok()) {
    w->why = parsed.message();
    w->outcome = Work::Outcome::kCorrupt;
    return;
  }
  w->headers_valid = summary.headers_valid;
  if (!summary.headers_valid) w->why = summary.header_problem;
  if (!w->has_journal) {
    std::shared_ptr<MessageBlock>& block = blocks_[thread];
    if (!block || block->full()) block = std::make_shared<MessageBlock>(block_capacity_);
    w->message = std::shared_ptr<const QueueMessage>(
        block, block->Add(ToQueueMessage(summary, DataFileSize(dir_fd, id))));
  } else {
    // The same parser again, this time with the recipient lists (a message being delivered).
    EximSpoolHeader header;
    (void)ParseEximSpoolHeader(text, id, &header);  // the same text parsed above
    std::vector<std::string> journal;
    FileName jname(id, 'J');
    int jfd = ::openat(dir_fd, jname.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
    if (jfd >= 0) {
      UniqueFd j(jfd);
      std::string jtext;
      if (ReadFd(j.get(), options_.max_header_file_bytes, &jtext) == 0) {
        journal = ParseEximJournal(jtext);
      }
    }
    w->message = std::make_shared<const QueueMessage>(
        ToQueueMessage(header, DataFileSize(dir_fd, id), journal));
  }
  w->outcome = Work::Outcome::kMessage;
}

}  // namespace mailrelay
