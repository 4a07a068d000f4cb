#include "report/log_files.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>
#include <memory>

#include "common/unique_fd.h"
#include "source/line_splitter.h"
#include "source/read_position.h"  // GzipReader

namespace mailrelay::report {

namespace {

bool IsRegularFile(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

bool AllDigits(std::string_view s) {
  if (s.empty() || s.size() > 6) return false;
  return std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// A byte stream over a plain file or a gzip'd one.
class ByteSource {
 public:
  explicit ByteSource(const LogFile& file) {
    if (file.gzip) {
      gz_ = std::make_unique<GzipReader>(file.path);
      if (!gz_->ok()) error_ = std::strerror(errno != 0 ? errno : EIO);
    } else {
      fd_ = std::make_unique<UniqueFd>(::open(file.path.c_str(), O_RDONLY | O_CLOEXEC));
      if (fd_->get() < 0) error_ = std::strerror(errno);
    }
  }
  bool ok() const { return error_.empty(); }
  const std::string& error() const { return error_; }
  // Bytes read (0 at the end), -1 on error (error() says why).
  long Read(char* buf, std::size_t n) {
    if (gz_) {
      long got = gz_->Read(buf, n);
      // zlib reports a file cut short as a quiet end with an error message set.
      if (got <= 0 && !gz_->error().empty()) {
        error_ = "gzip: " + gz_->error();
        return -1;
      }
      return got;
    }
    while (true) {
      ssize_t got = ::read(fd_->get(), buf, n);
      if (got < 0 && errno == EINTR) continue;
      if (got < 0) error_ = std::strerror(errno);
      return static_cast<long>(got);
    }
  }
  int fd() const { return fd_ ? fd_->get() : -1; }

 private:
  std::unique_ptr<GzipReader> gz_;
  std::unique_ptr<UniqueFd> fd_;
  std::string error_;
};

// Splits bytes into lines, holding a partial last line; cuts lines at max_line bytes.
std::int64_t FirstTime(std::string_view data, bool skip_first_piece, const LineTimeFn& line_time) {
  if (skip_first_piece) {
    auto nl = data.find('\n');
    if (nl == std::string_view::npos) return 0;
    data.remove_prefix(nl + 1);
  }
  while (!data.empty()) {
    auto nl = data.find('\n');
    if (nl == std::string_view::npos) break;  // an incomplete line may be cut mid-timestamp
    if (std::int64_t t = line_time(data.substr(0, nl)); t != 0) return t;
    data.remove_prefix(nl + 1);
  }
  return 0;
}

std::int64_t LastTime(std::string_view data, bool skip_first_piece, const LineTimeFn& line_time) {
  if (skip_first_piece) {
    auto nl = data.find('\n');
    if (nl == std::string_view::npos) return 0;
    data.remove_prefix(nl + 1);
  }
  std::int64_t last = 0;
  while (!data.empty()) {
    auto nl = data.find('\n');
    std::string_view line = data.substr(0, nl);
    if (std::int64_t t = line_time(line); t != 0) last = t;
    if (nl == std::string_view::npos) break;
    data.remove_prefix(nl + 1);
  }
  return last;
}

}  // namespace

std::vector<LogFile> FindLogFiles(const std::string& path) {
  auto slash = path.rfind('/');
  std::string dir = slash == std::string::npos ? "." : (slash == 0 ? "/" : path.substr(0, slash));
  std::string base = slash == std::string::npos ? path : path.substr(slash + 1);
  std::string prefix = slash == std::string::npos ? "" : path.substr(0, slash + 1);

  std::map<int, LogFile, std::greater<>> numbered;  // oldest (largest N) first
  std::map<std::string, LogFile> dated;             // by name without .gz
  auto prefer = [](auto& map, const auto& key, LogFile f) {
    auto it = map.find(key);
    if (it == map.end() || (it->second.gzip && !f.gzip)) map[key] = std::move(f);
  };
  if (DIR* d = ::opendir(dir.c_str())) {
    while (dirent* e = ::readdir(d)) {
      std::string_view name = e->d_name;
      if (name.size() <= base.size() + 1 || name.substr(0, base.size()) != base) continue;
      char sep = name[base.size()];
      std::string_view rest = name.substr(base.size() + 1);
      bool gz = EndsWith(rest, ".gz");
      std::string_view stem = gz ? rest.substr(0, rest.size() - 3) : rest;
      LogFile f{prefix + std::string(name), gz, false, 0, 0};
      if (sep == '.' && AllDigits(stem)) {
        if (!IsRegularFile(f.path)) continue;
        prefer(numbered, std::stoi(std::string(stem)), std::move(f));
      } else if (sep == '-' && !stem.empty() && stem[0] >= '0' && stem[0] <= '9') {
        if (!IsRegularFile(f.path)) continue;
        prefer(dated, std::string(stem), std::move(f));
      }
    }
    ::closedir(d);
  }
  std::vector<LogFile> files;
  for (auto& [n, f] : numbered) files.push_back(std::move(f));
  for (auto& [stem, f] : dated) files.push_back(std::move(f));
  if (IsRegularFile(path)) files.push_back(LogFile{path, false, true, 0, 0});
  return files;
}

void ProbeTimes(LogFile* file, const LineTimeFn& line_time, std::size_t probe_bytes) {
  file->first_time = 0;
  file->last_time = 0;
  ByteSource src(*file);
  if (!src.ok()) return;
  std::string head = ReadPrefix(src, probe_bytes);
  file->first_time = FirstTime(head, false, line_time);
  if (file->gzip) return;
  struct stat st {};
  if (::fstat(src.fd(), &st) != 0) return;
  auto size = static_cast<std::uint64_t>(st.st_size);
  if (size <= head.size()) {
    file->last_time = LastTime(head, false, line_time);
    return;
  }
  std::uint64_t start = size - std::min<std::uint64_t>(size, probe_bytes);
  std::string tail(static_cast<std::size_t>(size - start), '\0');
  std::size_t tail_got = 0;
  while (tail_got < tail.size()) {
    ssize_t n = ::pread(src.fd(), tail.data() + tail_got, tail.size() - tail_got,
                        static_cast<off_t>(start + tail_got));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    tail_got += static_cast<std::size_t>(n);
  }
  tail.resize(tail_got);
  file->last_time = LastTime(tail, start > 0, line_time);
}

void ProbeAndOrder(std::vector<LogFile>* files, const LineTimeFn& line_time) {
  for (auto& f : *files) ProbeTimes(&f, line_time);
  auto rotated_end = files->end();
  if (!files->empty() && files->back().live) --rotated_end;
  bool all_known =
      std::all_of(files->begin(), rotated_end, [](const LogFile& f) { return f.first_time != 0; });
  if (all_known) {
    std::stable_sort(files->begin(), rotated_end, [](const LogFile& a, const LogFile& b) {
      return a.first_time < b.first_time;
    });
  }
}

FileVerdict JudgeFile(const std::vector<LogFile>& files, std::size_t i, const TimeWindow& window,
                      std::int64_t slack_seconds) {
  const LogFile& f = files[i];
  std::int64_t upper = f.last_time;
  if (upper == 0 && i + 1 < files.size()) upper = files[i + 1].first_time;
  if (upper != 0 && upper < window.since - slack_seconds) return FileVerdict::kBeforeWindow;
  if (f.first_time != 0 && f.first_time >= window.until + slack_seconds) {
    return FileVerdict::kAfterWindow;
  }
  return FileVerdict::kRead;
}

StatusOr<ReadStats> ReadLogLines(const LogFile& file,
                                 const std::function<void(std::string_view)>& on_line,
                                 std::size_t max_line_bytes) {
  ByteSource src(file);
  if (!src.ok()) return Unavailable(src.error());
  ReadStats stats;
  LineSplitter splitter(max_line_bytes);
  auto count_line = [&](std::string_view line) {
    ++stats.lines;
    on_line(line);
  };
  auto count_long = [&] { ++stats.long_lines; };
  auto feed = [&](const char* data, std::size_t size) {
    splitter.Feed(data, size, count_line, count_long, [](std::size_t) {});
  };
  std::vector<char> buf(1 << 18);
  while (true) {
    long n = src.Read(buf.data(), buf.size());
    if (n < 0) {
      splitter.Finish(count_line);
      return Unavailable(src.error());
    }
    if (n == 0) break;
    stats.bytes += static_cast<std::uint64_t>(n);
    feed(buf.data(), static_cast<std::size_t>(n));
  }
  splitter.Finish(count_line);
  return stats;
}

}  // namespace mailrelay::report
