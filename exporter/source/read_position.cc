#include "source/read_position.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <map>

namespace mailrelay {

std::uint64_t Fnv1a64(std::string_view data, std::uint64_t hash) {
  for (char c : data) {
    hash ^= static_cast<unsigned char>(c);
    hash *= 0x100000001b3ULL;
  }
  return hash;
}

std::string ReadPrefix(int fd, std::size_t len) {
  std::string out(len, '\0');
  std::size_t got = 0;
  while (got < len) {
    ssize_t n = ::pread(fd, out.data() + got, len - got, static_cast<off_t>(got));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    got += static_cast<std::size_t>(n);
  }
  out.resize(got);
  return out;
}

bool ExtendFingerprint(int fd, FileIdentity* id) {
  if (id->fingerprint_len >= kFingerprintMaxBytes) return true;
  struct stat st {};
  if (::fstat(fd, &st) != 0) return true;
  auto size = static_cast<std::uint64_t>(st.st_size);
  if (size <= id->fingerprint_len) return size == id->fingerprint_len;
  std::string prefix =
      ReadPrefix(fd, static_cast<std::size_t>(std::min<std::uint64_t>(size, kFingerprintMaxBytes)));
  if (prefix.size() < id->fingerprint_len) return false;
  std::string_view view(prefix);
  std::uint64_t head = Fnv1a64(view.substr(0, id->fingerprint_len));
  if (head != id->fingerprint) return false;
  id->fingerprint = Fnv1a64(view.substr(id->fingerprint_len), head);
  id->fingerprint_len = static_cast<std::uint32_t>(prefix.size());
  return true;
}

bool FingerprintMatches(int fd, const FileIdentity& id) {
  std::string prefix = ReadPrefix(fd, id.fingerprint_len);
  return prefix.size() == id.fingerprint_len && Fnv1a64(prefix) == id.fingerprint;
}

GzipReader::GzipReader(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return;
  gz_ = gzdopen(fd, "rb");
  if (gz_ == nullptr) ::close(fd);
}

GzipReader::~GzipReader() {
  if (gz_ != nullptr) gzclose(gz_);
}

long GzipReader::Read(char* buf, std::size_t n) {
  if (gz_ == nullptr) return -1;
  auto want = static_cast<unsigned>(std::min<std::size_t>(n, INT_MAX));
  int got = gzread(gz_, buf, want);
  return got;
}

bool GzipReader::Skip(std::uint64_t n) {
  char buf[16384];
  while (n > 0) {
    long got = Read(buf, static_cast<std::size_t>(std::min<std::uint64_t>(n, sizeof buf)));
    if (got <= 0) return false;
    n -= static_cast<std::uint64_t>(got);
  }
  return true;
}

std::string GzipReader::error() const {
  if (gz_ == nullptr) return "cannot open";
  int code = 0;
  const char* msg = gzerror(gz_, &code);
  return msg != nullptr ? msg : "";
}

namespace {

bool IsRegularFile(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

// path itself, else path.gz; false when neither exists.
bool PlainOrGzip(const std::string& path, RotatedFile* out) {
  if (IsRegularFile(path)) {
    *out = {path, false};
    return true;
  }
  if (IsRegularFile(path + ".gz")) {
    *out = {path + ".gz", true};
    return true;
  }
  return false;
}

bool GzipMatches(const std::string& path, const ReadPosition& position) {
  GzipReader gz(path);
  if (!gz.ok()) return false;
  std::string prefix(position.file.fingerprint_len, '\0');
  std::size_t got = 0;
  while (got < prefix.size()) {
    long n = gz.Read(prefix.data() + got, prefix.size() - got);
    if (n <= 0) break;
    got += static_cast<std::size_t>(n);
  }
  return got == prefix.size() && Fnv1a64(prefix) == position.file.fingerprint;
}

bool Matches(const RotatedFile& f, const ReadPosition& position, bool require_inode) {
  if (f.gzip) return !require_inode && GzipMatches(f.path, position);
  int fd = ::open(f.path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) return false;
  bool match = IsSavedFile(fd, position, require_inode);
  ::close(fd);
  return match;
}

}  // namespace

bool IsSavedFile(int fd, const ReadPosition& position, bool require_inode) {
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) return false;
  if (static_cast<std::uint64_t>(st.st_size) < position.offset) return false;
  bool same_inode = static_cast<std::uint64_t>(st.st_dev) == position.file.dev &&
                    static_cast<std::uint64_t>(st.st_ino) == position.file.ino;
  if (require_inode && !same_inode) return false;
  // Without the inode only a real fingerprint identifies the file.
  if (!same_inode && position.file.fingerprint_len == 0) return false;
  return FingerprintMatches(fd, position.file);
}

std::vector<std::vector<RotatedFile>> RotatedSeries(const std::string& path) {
  std::vector<std::vector<RotatedFile>> series;
  std::vector<RotatedFile> numbered;
  for (int n = 9; n >= 0; --n) {
    RotatedFile f;
    if (PlainOrGzip(path + "." + std::to_string(n), &f)) numbered.push_back(f);
  }
  if (!numbered.empty()) series.push_back(std::move(numbered));

  auto slash = path.rfind('/');
  std::string dir = slash == std::string::npos ? "." : (slash == 0 ? "/" : path.substr(0, slash));
  std::string prefix = (slash == std::string::npos ? path : path.substr(slash + 1)) + "-";
  std::map<std::string, RotatedFile> dated;  // by name without .gz: sorted, plain preferred
  if (DIR* d = ::opendir(dir.c_str())) {
    while (dirent* e = ::readdir(d)) {
      std::string name = e->d_name;
      if (name.size() <= prefix.size() || name.compare(0, prefix.size(), prefix) != 0) continue;
      bool gz = name.size() > 3 && name.compare(name.size() - 3, 3, ".gz") == 0;
      std::string stem = gz ? name.substr(0, name.size() - 3) : name;
      std::string full = (slash == std::string::npos ? "" : dir + "/") + name;
      if (stem.size() <= prefix.size() || !IsRegularFile(full)) continue;
      auto it = dated.find(stem);
      if (it == dated.end() || (it->second.gzip && !gz)) dated[stem] = {full, gz};
    }
    ::closedir(d);
  }
  if (!dated.empty()) {
    std::vector<RotatedFile> v;
    for (auto& [stem, f] : dated) v.push_back(f);
    series.push_back(std::move(v));
  }
  return series;
}

ResumePlan PlanResume(const std::string& path, const ReadPosition& position) {
  ResumePlan plan;
  auto series = RotatedSeries(path);
  // First by inode (exact), then by fingerprint alone (copies, gzip'd files).
  for (bool require_inode : {true, false}) {
    if (Matches({path, false}, position, require_inode)) {
      plan.kind = ResumePlan::Kind::kCurrent;
      return plan;
    }
    for (const auto& s : series) {
      for (std::size_t i = 0; i < s.size(); ++i) {
        if (!Matches(s[i], position, require_inode)) continue;
        plan.kind = ResumePlan::Kind::kRotated;
        plan.backlog.assign(s.begin() + static_cast<std::ptrdiff_t>(i), s.end());
        return plan;
      }
    }
  }
  return plan;
}

}  // namespace mailrelay
