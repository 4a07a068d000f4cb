#include "common/file_io.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <vector>

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

StatusOr<std::string> ReadWholeFile(const std::string& path, std::size_t max_bytes) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Errno("cannot open", path);
  std::string text;
  std::vector<char> buf(65536);  // on the heap: callers may run on HTTP threads' small stacks
  while (true) {
    ssize_t n = ::read(fd, buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      Status failed = Errno("cannot read", path);
      ::close(fd);
      return failed;
    }
    if (n == 0) break;
    text.append(buf.data(), static_cast<std::size_t>(n));
    if (text.size() > max_bytes) {
      ::close(fd);
      return InvalidArgument(path + ": larger than " + std::to_string(max_bytes) + " bytes");
    }
  }
  ::close(fd);
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
