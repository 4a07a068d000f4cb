#include "mta/postfix/queue_scanner.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string_view>
#include <unordered_map>
#include <utility>

#include "common/logging.h"
#include "common/unique_fd.h"
#include "mta/postfix/correlator.h"  // SystemUidName
#include "mta/postfix/log_parser.h"  // IsPostfixQueueId

namespace mailrelay {

namespace {

constexpr mode_t kReadyMode = S_IRUSR | S_IWUSR | S_IXUSR;  // MAIL_QUEUE_STAT_READY

std::int64_t MtimeNs(const struct stat& st) {
  return static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
}

bool IsHashDirName(std::string_view name) {
  return name.size() == 1 &&
         ((name[0] >= '0' && name[0] <= '9') || (name[0] >= 'A' && name[0] <= 'Z') ||
          (name[0] >= 'a' && name[0] <= 'z'));
}

// pread until `len` bytes or the end of the file; false (errno set) on an error.
bool PreadFull(int fd, char* to, std::size_t len, std::uint64_t offset, std::size_t* got) {
  *got = 0;
  while (*got < len) {
    ssize_t n = ::pread(fd, to + *got, len - *got, static_cast<off_t>(offset + *got));
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    if (n == 0) break;
    *got += static_cast<std::size_t>(n);
  }
  return true;
}

}  // namespace

// The bytes of an open queue file for the parser: the head read at once (kHeadBytes, the whole
// of a small file) and one more window read on demand (the extracted segment of a large file,
// or records that pointers lead to).
class PostfixQueueScanner::FileInput final : public PostfixQueueFileInput {
 public:
  FileInput(int fd, std::uint64_t size, std::vector<char>* head, Stats* stats)
      : fd_(fd), size_(size), head_(head), stats_(stats) {}

  bool LoadHead() {
    std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(size_, kHeadBytes));
    if (head_->size() < want) head_->resize(kHeadBytes);
    if (!PreadFull(fd_, head_->data(), want, 0, &head_len_)) {
      error_ = errno;
      return false;
    }
    stats_->bytes_read += head_len_;
    return true;
  }
  int error() const { return error_; }

  std::uint64_t size() const override { return size_; }
  std::string_view Read(std::uint64_t offset, std::size_t len) override {
    if (Covers(0, head_len_, offset, len)) return Slice(head_->data(), 0, head_len_, offset, len);
    if (Covers(extra_start_, extra_.size(), offset, len)) {
      return Slice(extra_.data(), extra_start_, extra_.size(), offset, len);
    }
    if (offset >= size_ || error_ != 0) return {};
    std::size_t want = static_cast<std::size_t>(
        std::min<std::uint64_t>(std::max<std::size_t>(len, kHeadBytes), size_ - offset));
    extra_.resize(want);
    std::size_t got = 0;
    ++stats_->extra_reads;
    if (!PreadFull(fd_, extra_.data(), want, offset, &got)) {
      error_ = errno;
      got = 0;
    }
    extra_.resize(got);
    extra_start_ = offset;
    stats_->bytes_read += got;
    return Slice(extra_.data(), extra_start_, extra_.size(), offset, len);
  }

 private:
  // Whether a window [start, start + n) answers a read: it holds all of it, or all there is.
  bool Covers(std::uint64_t start, std::size_t n, std::uint64_t offset, std::size_t len) const {
    if (offset < start || offset > start + n) return false;
    return offset + len <= start + n || start + n >= size_;
  }
  static std::string_view Slice(const char* data, std::uint64_t start, std::size_t n,
                                std::uint64_t offset, std::size_t len) {
    std::size_t from = static_cast<std::size_t>(offset - start);
    return std::string_view(data + from, std::min(len, n - from));
  }

  int fd_;
  std::uint64_t size_;
  std::vector<char>* head_;
  std::size_t head_len_ = 0;
  std::string extra_;
  std::uint64_t extra_start_ = 0;
  Stats* stats_;
  int error_ = 0;
};

struct PostfixQueueScanner::Work {
  enum class Outcome {
    kStat,
    kRead,
    kCached,
    kMessage,
    kCorrupt,
    kVanished,
    kOpen,
    kNotReady,
    kSkipped
  };
  std::string id;
  unsigned char type = DT_UNKNOWN;
  Directory* dir = nullptr;
  Outcome outcome = Outcome::kRead;
  FileKey key;
  const Entry* cached = nullptr;  // the file as last read, in this queue or another one
  std::shared_ptr<const QueueMessage> message;
  std::string why;  // of kCorrupt
};

struct PostfixQueueScanner::Directory {
  ~Directory() {
    if (fd >= 0) ::close(fd);
  }
  int fd = -1;
  std::string rel;
  const std::string* queue = nullptr;
  const DirState* old = nullptr;  // in dirs_; null when new
  bool listed = false;            // false: its state is reused as it was
  bool complete = true;
  ino_t ino = 0;
  std::int64_t mtime_ns = 0;
  std::int64_t listing_started_ns = 0;
  std::vector<Work> works;  // its queue files, in listing order
  std::vector<std::string> subdirs;
};

PostfixQueueScanner::PostfixQueueScanner(Options options) : options_(std::move(options)) {
  if (!options_.uid_resolver) options_.uid_resolver = SystemUidName;
  if (options_.clock == nullptr) options_.clock = &SystemClock::Get();
}

PostfixQueueScanner::~PostfixQueueScanner() = default;

QueueScan PostfixQueueScanner::Scan() {
  QueueScan scan;
  stats_ = Stats{};
  Status previous_status = status_;
  status_ = Status::Ok();
  int top = ::open(options_.queue_directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (top < 0) {
    status_ =
        ErrnoStatus(errno, "cannot open the Postfix queue directory " + options_.queue_directory);
    scan.AddError(QueueError::kDirectory);
    dirs_.clear();
  } else {
    UniqueFd top_fd(top);
    // 1. The directories: each queue, then its hashed subdirectories. Unchanged ones are not
    // listed.
    std::vector<std::unique_ptr<Directory>> dirs;
    bool all = true;
    for (const std::string& queue : options_.queues) {
      all = PrepareDirectory(top, queue, queue, queue, 0, true, &scan, &dirs) && all;
    }

    // 2. The files the listings show: known (the cache, from this or another directory's last
    // listing: a message moves between queues by a rename) -> a stat to compare; unknown -> to
    // read. The max_files budget is handed out in listing order.
    std::unordered_map<std::string_view, const Entry*> previous;
    for (const auto& d : dirs) {
      if (!d->listed || d->old == nullptr) continue;
      for (const Entry& e : d->old->entries) previous.emplace(e.id, &e);
    }
    std::size_t budget = options_.max_files;
    for (const auto& d : dirs) {
      for (Work& w : d->works) {
        if (auto it = previous.find(w.id); it != previous.end()) w.cached = it->second;
        if (w.cached != nullptr || w.type == DT_UNKNOWN) {
          struct stat st {};
          if (::fstatat(d->fd, w.id.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
            w.outcome = errno == ENOENT ? Work::Outcome::kVanished : Work::Outcome::kOpen;
            continue;
          }
          if (!S_ISREG(st.st_mode)) {
            w.outcome = Work::Outcome::kOpen;
            continue;
          }
          if ((st.st_mode & S_IRWXU) != kReadyMode) {
            w.outcome = Work::Outcome::kNotReady;
            continue;
          }
          w.key =
              FileKey{st.st_ino, MtimeNs(st), static_cast<std::int64_t>(st.st_size), st.st_mode};
          if (w.cached != nullptr && w.cached->key == w.key) {
            w.outcome = Work::Outcome::kCached;
            continue;
          }
        } else if (w.type != DT_REG) {  // a directory, symlink, FIFO or device named like one
          w.outcome = Work::Outcome::kOpen;
          continue;
        }
        if (budget == 0) {
          w.outcome = Work::Outcome::kSkipped;
          scan.truncated = true;
          continue;
        }
        --budget;
        w.outcome = Work::Outcome::kRead;
        ReadFile(&w);
      }
    }

    // 3. Results, errors and the new states, in listing order.
    std::map<std::string, DirState> next;
    for (const auto& d : dirs) {
      if (!d->listed) {
        ++stats_.dirs_reused;
        for (const Entry& e : d->old->entries) {
          if (e.message) {
            scan.messages.push_back(e.message);
          } else {
            scan.AddError(QueueError::kParse);
          }
        }
        stats_.files_cached += d->old->entries.size();
        DirState& state = next[d->rel];
        state = std::move(dirs_[d->rel]);
        state.subdirs = std::move(d->subdirs);
        continue;
      }
      ++stats_.dirs_listed;
      DirState state;
      state.entries.reserve(d->works.size());
      for (Work& w : d->works) {
        switch (w.outcome) {
          case Work::Outcome::kCached: {
            ++stats_.files_cached;
            std::shared_ptr<const QueueMessage> m = w.cached->message;
            if (m && m->queue != *d->queue) {
              auto moved = std::make_shared<QueueMessage>(*m);
              moved->queue = *d->queue;
              m = std::move(moved);
              ++stats_.files_moved;
            }
            if (m) {
              scan.messages.push_back(m);
            } else {
              scan.AddError(QueueError::kParse);
            }
            state.entries.push_back(Entry{std::move(w.id), w.key, std::move(m)});
            break;
          }
          case Work::Outcome::kMessage:
            scan.messages.push_back(w.message);
            state.entries.push_back(Entry{std::move(w.id), w.key, std::move(w.message)});
            break;
          case Work::Outcome::kCorrupt:
            scan.AddError(QueueError::kParse);
            Log(LogLevel::kDebug, "bad Postfix queue file",
                {{"file", d->rel + "/" + w.id}, {"error", w.why}});
            state.entries.push_back(Entry{std::move(w.id), w.key, nullptr});
            break;
          case Work::Outcome::kVanished:
            scan.AddError(QueueError::kVanished);
            break;
          case Work::Outcome::kOpen:
            scan.AddError(QueueError::kOpen);
            d->complete = false;
            break;
          case Work::Outcome::kNotReady:
            ++stats_.files_not_ready;
            d->complete = false;
            break;
          case Work::Outcome::kSkipped:
          case Work::Outcome::kStat:
          case Work::Outcome::kRead:
            d->complete = false;
            break;
        }
      }
      state.valid = true;
      state.ino = d->ino;
      state.mtime_ns = d->mtime_ns;
      // Trust the mtime next time only if it had settled before this listing began (a change
      // within the same timestamp tick could otherwise go unseen), and never for active/.
      bool settled = d->mtime_ns + static_cast<std::int64_t>(kDirectorySettleSeconds * 1e9) <=
                     d->listing_started_ns;
      state.reusable = d->complete && settled && *d->queue != "active";
      state.subdirs = std::move(d->subdirs);
      next[d->rel] = std::move(state);
    }
    dirs_ = std::move(next);
    scan.ok = all;
    if (!all) scan.messages.clear();
  }
  if (!scan.ok) scan.status = status_;
  if (!status_.ok() && status_.message() != previous_status.message()) {
    Log(LogLevel::kWarn, "cannot read the Postfix queue files",
        {{"error", status_.message()},
         {"hint", "see docs/postfix-queue.md (CAP_DAC_READ_SEARCH)"}});
  }
  return scan;
}

bool PostfixQueueScanner::PrepareDirectory(int parent_fd, const std::string& name,
                                           const std::string& rel, const std::string& queue,
                                           int depth, bool required, QueueScan* scan,
                                           std::vector<std::unique_ptr<Directory>>* dirs) {
  int fd = ::openat(parent_fd, name.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) {
    int e = errno;
    // A hashed subdirectory removed since the listing of its parent is not an error.
    if (!required && e == ENOENT) return true;
    scan->AddError(QueueError::kDirectory);
    if (required && status_.ok()) {
      status_ = ErrnoStatus(e, "cannot open " + options_.queue_directory + "/" + rel);
    }
    return false;
  }
  auto dir = std::make_unique<Directory>();
  dir->fd = fd;
  dir->rel = rel;
  dir->queue = &queue;
  Directory* d = dir.get();
  auto fail = [&](int e) {
    scan->AddError(QueueError::kDirectory);
    if (required && status_.ok()) {
      status_ = ErrnoStatus(e, "cannot list " + options_.queue_directory + "/" + rel);
    }
    return false;
  };
  struct stat dst {};
  if (::fstat(fd, &dst) != 0) return fail(errno);
  d->ino = dst.st_ino;
  d->mtime_ns = MtimeNs(dst);
  if (auto it = dirs_.find(rel); it != dirs_.end() && it->second.valid) d->old = &it->second;

  if (options_.trust_directory_mtime && d->old != nullptr && d->old->reusable &&
      d->old->ino == d->ino && d->old->mtime_ns == d->mtime_ns) {
    d->subdirs = d->old->subdirs;
  } else {
    d->listing_started_ns = options_.clock->UnixSeconds() * 1000000000;
    int list_fd = ::dup(fd);
    DIR* listing = list_fd < 0 ? nullptr : ::fdopendir(list_fd);
    if (listing == nullptr) {
      int e = errno;
      if (list_fd >= 0) ::close(list_fd);
      return fail(e);
    }
    d->works.reserve(d->old != nullptr ? d->old->entries.size() + 64 : 64);
    errno = 0;
    while (dirent* de = ::readdir(listing)) {
      std::string_view entry(de->d_name);
      if (IsHashDirName(entry)) {
        bool is_dir = de->d_type == DT_DIR;
        if (de->d_type == DT_UNKNOWN) {
          struct stat st {};
          is_dir = ::fstatat(fd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode);
        }
        if (is_dir && depth < kMaxHashDepth) d->subdirs.emplace_back(entry);
      } else if (IsPostfixQueueId(entry)) {
        d->works.emplace_back();
        d->works.back().id.assign(entry);
        d->works.back().type = de->d_type;
        d->works.back().dir = d;
      }
      errno = 0;
    }
    int e = errno;
    ::closedir(listing);
    if (e != 0) return fail(e);
    std::sort(d->subdirs.begin(), d->subdirs.end());
    d->listed = true;
  }
  dirs->push_back(std::move(dir));
  for (const std::string& sub : d->subdirs) {
    PrepareDirectory(fd, sub, rel + "/" + sub, queue, depth + 1, false, scan, dirs);
  }
  return true;
}

void PostfixQueueScanner::ReadFile(Work* w) {
  const Directory& d = *w->dir;
  if (options_.before_open) options_.before_open(d.rel + "/" + w->id);
  // O_NONBLOCK: a FIFO put there since the listing must not block the open.
  int fd = ::openat(d.fd, w->id.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
  if (fd < 0) {
    w->outcome = errno == ENOENT ? Work::Outcome::kVanished : Work::Outcome::kOpen;
    return;
  }
  UniqueFd file(fd);
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    w->outcome = Work::Outcome::kOpen;
    return;
  }
  if ((st.st_mode & S_IRWXU) != kReadyMode) {
    w->outcome = Work::Outcome::kNotReady;
    return;
  }
  // The identity of what is read (a stat before the open may be of an older file).
  w->key = FileKey{st.st_ino, MtimeNs(st), static_cast<std::int64_t>(st.st_size), st.st_mode};
  ++stats_.files_read;
  FileInput input(fd, static_cast<std::uint64_t>(st.st_size), &buffer_, &stats_);
  if (!input.LoadHead()) {
    w->outcome = Work::Outcome::kOpen;
    return;
  }
  StatusOr<PostfixQueueFile> parsed = ParsePostfixQueueFile(input);
  if (input.error() != 0) {
    w->outcome = Work::Outcome::kOpen;
    return;
  }
  if (!parsed.ok()) {
    w->outcome = Work::Outcome::kCorrupt;
    w->why = parsed.status().message();
    return;
  }
  std::int64_t maildrop_uid = *d.queue == "maildrop" ? static_cast<std::int64_t>(st.st_uid) : -1;
  std::string owner = PostfixQueueOwner(*parsed, maildrop_uid, options_.uid_resolver);
  w->message = std::make_shared<const QueueMessage>(
      ToQueueMessage(*parsed, w->id, *d.queue, static_cast<std::uint64_t>(st.st_size),
                     static_cast<std::int64_t>(st.st_mtim.tv_sec), owner));
  w->outcome = Work::Outcome::kMessage;
}

}  // namespace mailrelay
