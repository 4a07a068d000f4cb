#include "queue/exim_spool_scanner.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <unordered_set>

#include "common/logging.h"
#include "queue/exim_spool_header.h"

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

// Reads a whole file. Returns 0 or an errno value (EFBIG when larger than max_bytes).
int ReadAll(int fd, std::size_t max_bytes, std::string* out) {
  out->clear();
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    if (n == 0) return 0;
    if (out->size() + static_cast<std::size_t>(n) > max_bytes) return EFBIG;
    out->append(buf, static_cast<std::size_t>(n));
  }
}

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

}  // namespace

EximSpoolScanner::EximSpoolScanner(Options options) : options_(std::move(options)) {}
EximSpoolScanner::~EximSpoolScanner() = default;

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
  std::size_t budget = options_.max_files;
  int top_fd = ::dup(fd);
  ScanDirectory(fd, &top_, true, &budget, &scan);

  // Split spool: input/<c>/ for each base62 character c.
  std::map<std::string, DirState> next;
  for (const auto& name : top_.subdirs) {
    DirState state;
    if (auto it = subdirs_.find(name); it != subdirs_.end()) state = std::move(it->second);
    int sub = top_fd < 0 ? -1 : ::openat(top_fd, name.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (sub < 0) {
      if (errno != ENOENT) scan.AddError(QueueError::kDirectory);
      continue;
    }
    ScanDirectory(sub, &state, false, &budget, &scan);
    next.emplace(name, std::move(state));
  }
  subdirs_ = std::move(next);
  if (top_fd >= 0) ::close(top_fd);
  return scan;
}

void EximSpoolScanner::ScanDirectory(int dir_fd_in, DirState* state, bool top, std::size_t* budget,
                                     QueueScan* scan) {
  Fd dir_fd(dir_fd_in);
  struct stat dst {};
  if (::fstat(dir_fd.get(), &dst) != 0) {
    scan->AddError(QueueError::kDirectory);
    *state = DirState{};
    return;
  }
  std::int64_t dir_mtime = MtimeNs(dst);

  if (options_.trust_directory_mtime && state->valid && state->reusable &&
      state->ino == dst.st_ino && state->mtime_ns == dir_mtime) {
    ++stats_.dirs_reused;
    for (const auto& [id, entry] : state->files) {
      if (entry.message) scan->messages.push_back(entry.message);
      if (entry.counts_error) scan->AddError(QueueError::kParse);
    }
    return;
  }

  ++stats_.dirs_listed;
  std::int64_t listing_started = RealtimeNs();
  // Read the whole listing first (fdopendir takes over a duplicate of the descriptor).
  std::vector<std::string> headers;
  std::unordered_set<std::string> journals;
  std::vector<std::string> subdirs;
  {
    int list_fd = ::dup(dir_fd.get());
    DIR* dir = list_fd < 0 ? nullptr : ::fdopendir(list_fd);
    if (dir == nullptr) {
      if (list_fd >= 0) ::close(list_fd);
      scan->AddError(QueueError::kDirectory);
      *state = DirState{};
      return;
    }
    errno = 0;
    while (dirent* de = ::readdir(dir)) {
      std::string_view name(de->d_name);
      if (name.size() > 2 && name[name.size() - 2] == '-') {
        std::string_view id = name.substr(0, name.size() - 2);
        if (IsEximMessageId(id)) {
          if (name.back() == 'H') headers.emplace_back(id);
          if (name.back() == 'J') journals.emplace(id);
        }
      } else if (top && name.size() == 1 && IsBase62(name[0])) {
        bool is_dir = de->d_type == DT_DIR;
        if (de->d_type == DT_UNKNOWN) {
          struct stat st {};
          is_dir = ::fstatat(dir_fd.get(), de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
                   S_ISDIR(st.st_mode);
        }
        if (is_dir) subdirs.emplace_back(name);
      }
      errno = 0;
    }
    bool failed = errno != 0;
    ::closedir(dir);
    if (failed) {
      scan->AddError(QueueError::kDirectory);
      *state = DirState{};
      return;
    }
  }

  bool complete = true;
  std::unordered_map<std::string, FileEntry> files;
  files.reserve(headers.size());
  std::string text;
  for (const auto& id : headers) {
    std::string hname = id + "-H";
    bool has_journal = journals.count(id) != 0;
    struct stat st {};
    if (::fstatat(dir_fd.get(), hname.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
      if (errno == ENOENT) {
        scan->AddError(QueueError::kVanished);
      } else {
        scan->AddError(QueueError::kOpen);
        complete = false;
      }
      continue;
    }
    if (!S_ISREG(st.st_mode)) {  // a directory, symlink or device named like a -H file
      scan->AddError(QueueError::kOpen);
      complete = false;
      continue;
    }
    FileKey key{st.st_ino, MtimeNs(st), static_cast<std::int64_t>(st.st_size)};
    if (!has_journal) {
      if (auto it = state->files.find(id); it != state->files.end() && it->second.key == key) {
        ++stats_.files_cached;
        if (it->second.message) scan->messages.push_back(it->second.message);
        if (it->second.counts_error) scan->AddError(QueueError::kParse);
        files.emplace(id, std::move(it->second));
        continue;
      }
    }
    if (*budget == 0) {
      scan->truncated = true;
      complete = false;
      continue;
    }
    --*budget;
    ++stats_.files_read;
    if (options_.before_open) options_.before_open(hname);
    int hfd = ::openat(dir_fd.get(), hname.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (hfd < 0) {
      if (errno == ENOENT) {
        scan->AddError(QueueError::kVanished);
      } else {
        scan->AddError(QueueError::kOpen);
        complete = false;
      }
      continue;
    }
    Fd h(hfd);
    struct stat hst {};
    if (::fstat(h.get(), &hst) == 0) {
      key = FileKey{hst.st_ino, MtimeNs(hst), static_cast<std::int64_t>(hst.st_size)};
    }
    int rerr = ReadAll(h.get(), options_.max_header_file_bytes, &text);
    if (rerr != 0 && rerr != EFBIG) {
      scan->AddError(QueueError::kOpen);
      complete = false;
      continue;
    }
    EximSpoolHeader header;
    std::string why;
    if (rerr == EFBIG || !ParseEximSpoolHeader(text, id, &header, &why)) {
      if (rerr == EFBIG) why = "file too large";
      scan->AddError(QueueError::kParse);
      Log(LogLevel::kDebug, "bad Exim spool header file", {{"file", hname}, {"error", why}});
      files.emplace(id, FileEntry{key, nullptr, true});
      continue;
    }
    if (!header.headers_valid) {
      // Envelope usable, header section malformed: listed by `exim -bp` too, so counted.
      scan->AddError(QueueError::kParse);
      Log(LogLevel::kDebug, "bad headers in Exim spool header file",
          {{"file", hname}, {"error", why}});
    }
    std::int64_t data_size = -1;
    std::string dname = id + "-D";
    if (struct stat dstat{}; ::fstatat(dir_fd.get(), dname.c_str(), &dstat, 0) == 0) {
      data_size = static_cast<std::int64_t>(dstat.st_size);
    }
    std::vector<std::string> journal;
    if (has_journal) {
      std::string jname = id + "-J";
      int jfd = ::openat(dir_fd.get(), jname.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
      if (jfd >= 0) {
        Fd j(jfd);
        std::string jtext;
        if (ReadAll(j.get(), options_.max_header_file_bytes, &jtext) == 0) {
          journal = ParseEximJournal(jtext);
        }
      }
    }
    auto message = std::make_shared<const QueueMessage>(ToQueueMessage(header, data_size, journal));
    scan->messages.push_back(message);
    // Messages with a journal are re-read at every scan while the journal exists.
    if (!has_journal) {
      files.emplace(id, FileEntry{key, std::move(message), !header.headers_valid});
    }
  }

  state->valid = true;
  state->ino = dst.st_ino;
  state->mtime_ns = dir_mtime;
  // Trust the directory's mtime next time only if it had settled before this listing began
  // (a change within the same timestamp tick could otherwise go unseen).
  bool settled =
      dir_mtime + static_cast<std::int64_t>(kDirectorySettleSeconds * 1e9) <= listing_started;
  state->reusable = complete && journals.empty() && settled;
  state->files = std::move(files);
  if (top) state->subdirs = std::move(subdirs);
}

}  // namespace mailrelay
