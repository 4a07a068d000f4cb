#include "common/file_io.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

namespace mailrelay {

namespace {

Status Errno(const std::string& what, const std::string& path) {
  return ErrnoStatus(errno, what + " " + path);
}

}  // namespace

bool WriteAll(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

int ReadFd(int fd, std::size_t max_bytes, std::string* out) {
  constexpr std::size_t kChunk = 16384;
  out->clear();
  for (;;) {
    std::size_t have = out->size();
    out->resize(have + kChunk);
    ssize_t n = ::read(fd, out->data() + have, kChunk);
    if (n < 0) {
      out->resize(have);
      if (errno == EINTR) continue;
      return errno;
    }
    out->resize(have + static_cast<std::size_t>(n));
    if (n == 0) return 0;
    if (out->size() > max_bytes) return EFBIG;
  }
}

StatusOr<std::string> ReadWholeFile(const std::string& path, std::size_t max_bytes) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Errno("cannot open", path);
  std::string text;
  int err = ReadFd(fd, max_bytes, &text);
  ::close(fd);
  if (err == EFBIG) {
    return InvalidArgument(path + ": larger than " + std::to_string(max_bytes) + " bytes");
  }
  if (err != 0) return ErrnoStatus(err, "cannot read " + path);
  return text;
}

Status WriteFileAtomically(const std::string& path, std::string_view content, mode_t mode) {
  std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) return Errno("cannot create", tmp);
  // open() applies the umask; the file gets exactly `mode` (a map the MTA must read).
  if (::fchmod(fd, mode) != 0 || !WriteAll(fd, content)) {
    Status failed = Errno("cannot write", tmp);
    ::close(fd);
    ::unlink(tmp.c_str());
    return failed;
  }
  if (::fsync(fd) != 0) {
    Status failed = Errno("cannot fsync", tmp);
    ::close(fd);
    ::unlink(tmp.c_str());
    return failed;
  }
  ::close(fd);
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    Status failed = Errno("cannot rename to", path);
    ::unlink(tmp.c_str());
    return failed;
  }
  // Make the rename itself durable.
  auto slash = path.rfind('/');
  std::string dir = slash == std::string::npos ? "." : (slash == 0 ? "/" : path.substr(0, slash));
  int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  return Status::Ok();
}

}  // namespace mailrelay
