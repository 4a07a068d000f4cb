#include "source/file_tailer.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "common/logging.h"

namespace mailrelay {

FileTailer::FileTailer(std::string path, Options options, TailerObserver* observer)
    : path_(std::move(path)), options_(options), observer_(observer) {
  buffer_.resize(options_.read_chunk_bytes);
}

FileTailer::~FileTailer() { Close(); }

void FileTailer::Close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

bool FileTailer::Open(bool seek_to_end) {
  int fd = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) {
    int err = errno;
    if (err != last_error_) {
      if (err == ENOENT) {
        Log(LogLevel::kInfo, "log file does not exist yet, waiting for it", {{"path", path_}});
      } else {
        Log(LogLevel::kWarn, "cannot open log file",
            {{"path", path_}, {"err", std::strerror(err)}});
      }
      if (observer_ != nullptr) observer_->OnOpenError(err);
    }
    last_error_ = err;
    return false;
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    ::close(fd);
    return false;
  }
  Close();
  fd_ = fd;
  dev_ = st.st_dev;
  ino_ = st.st_ino;
  offset_ = 0;
  if (seek_to_end) {
    off_t end = ::lseek(fd_, 0, SEEK_END);
    if (end > 0) offset_ = static_cast<std::uint64_t>(end);
  }
  if (last_error_ != 0) {
    Log(LogLevel::kInfo, "opened log file", {{"path", path_}});
  } else {
    Log(LogLevel::kDebug, "opened log file", {{"path", path_}});
  }
  last_error_ = 0;
  return true;
}

void FileTailer::EmitLine(std::string_view line, const LineCallback& on_line) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  on_line(line);
}

void FileTailer::ConsumeChunk(const char* data, std::size_t size, const LineCallback& on_line) {
  const char* p = data;
  const char* end = data + size;
  while (p < end) {
    const auto* nl =
        static_cast<const char*>(std::memchr(p, '\n', static_cast<std::size_t>(end - p)));
    if (nl == nullptr) {
      if (discarding_) return;
      std::size_t room = options_.max_line_bytes - partial_.size();
      std::size_t take = static_cast<std::size_t>(end - p);
      if (take > room) {
        partial_.append(p, room);
        EmitLine(partial_, on_line);
        partial_.clear();
        discarding_ = true;
        if (observer_ != nullptr) observer_->OnLongLine();
        return;
      }
      partial_.append(p, take);
      return;
    }
    std::size_t len = static_cast<std::size_t>(nl - p);
    if (discarding_) {
      discarding_ = false;
    } else if (partial_.empty()) {
      if (len > options_.max_line_bytes) {
        EmitLine(std::string_view(p, options_.max_line_bytes), on_line);
        if (observer_ != nullptr) observer_->OnLongLine();
      } else {
        EmitLine(std::string_view(p, len), on_line);
      }
    } else {
      std::size_t room = options_.max_line_bytes - partial_.size();
      if (len > room) {
        partial_.append(p, room);
        if (observer_ != nullptr) observer_->OnLongLine();
      } else {
        partial_.append(p, len);
      }
      EmitLine(partial_, on_line);
      partial_.clear();
    }
    p = nl + 1;
  }
}

void FileTailer::ReadToEof(const LineCallback& on_line) {
  if (fd_ < 0) return;
  while (true) {
    ssize_t n = ::read(fd_, buffer_.data(), buffer_.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno != EAGAIN) {
        Log(LogLevel::kWarn, "read error on log file",
            {{"path", path_}, {"err", std::strerror(errno)}});
      }
      return;
    }
    if (n == 0) return;
    auto size = static_cast<std::size_t>(n);
    offset_ += size;
    if (observer_ != nullptr) observer_->OnBytesRead(size);
    ConsumeChunk(buffer_.data(), size, on_line);
  }
}

void FileTailer::Poll(const LineCallback& on_line) {
  if (fd_ < 0) {
    bool first = !ever_tried_;
    ever_tried_ = true;
    if (!Open(first && options_.start_at_end)) {
      if (first) missing_at_start_ = true;
      return;
    }
  }
  ReadToEof(on_line);

  // Truncation of the file we hold (copytruncate, `: > mainlog`).
  struct stat fst {};
  if (::fstat(fd_, &fst) == 0 && static_cast<std::uint64_t>(fst.st_size) < offset_) {
    Log(LogLevel::kInfo, "log file truncated, reading from the start", {{"path", path_}});
    if (observer_ != nullptr) observer_->OnTruncation();
    ::lseek(fd_, 0, SEEK_SET);
    offset_ = 0;
    ReadToEof(on_line);
  }

  // Rotation: the path now names another file.
  struct stat st {};
  if (::stat(path_.c_str(), &st) != 0) return;  // gone: keep draining the old file meanwhile
  if (st.st_ino == ino_ && st.st_dev == dev_) return;
  ReadToEof(on_line);  // drain what was written before the switch
  Log(LogLevel::kInfo, "log file rotated, following the new file", {{"path", path_}});
  if (observer_ != nullptr) observer_->OnRotation();
  if (Open(false)) ReadToEof(on_line);
}

void FileTailer::FlushPartial(const LineCallback& on_line) {
  if (!partial_.empty()) {
    std::string line = std::move(partial_);
    partial_.clear();
    EmitLine(line, on_line);
  }
  discarding_ = false;
}

std::uint64_t FileTailer::LagBytes() const {
  struct stat st {};
  if (::stat(path_.c_str(), &st) != 0) return 0;
  auto size = static_cast<std::uint64_t>(st.st_size);
  if (st.st_ino != ino_ || st.st_dev != dev_) return size;
  return size > offset_ ? size - offset_ : 0;
}

}  // namespace mailrelay
