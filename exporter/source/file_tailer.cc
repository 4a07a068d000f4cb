#include "source/file_tailer.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <utility>

#include "common/logging.h"

namespace mailrelay {

FileTailer::FileTailer(std::string path, Options options, TailerObserver* observer)
    : path_(std::move(path)),
      options_(options),
      observer_(observer),
      splitter_(options_.max_line_bytes) {
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
      if (observer_ != nullptr) observer_->OnOpenError(ErrnoStatus(err, path_));
    }
    last_error_ = err;
    return false;
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    ::close(fd);
    return false;
  }
  std::uint64_t start = 0;
  if (seek_to_end) {
    off_t end = ::lseek(fd, 0, SEEK_END);
    if (end > 0) start = static_cast<std::uint64_t>(end);
  }
  Adopt(fd, start);
  if (last_error_ != 0) {
    Log(LogLevel::kInfo, "opened log file", {{"path", path_}});
  } else {
    Log(LogLevel::kDebug, "opened log file", {{"path", path_}});
  }
  last_error_ = 0;
  return true;
}

void FileTailer::Adopt(int fd, std::uint64_t offset) {
  struct stat st {};
  ::fstat(fd, &st);
  FileIdentity id;
  id.dev = static_cast<std::uint64_t>(st.st_dev);
  id.ino = static_cast<std::uint64_t>(st.st_ino);
  ExtendFingerprint(fd, &id);
  SwitchIdentity(id, offset);
  Close();
  fd_ = fd;
  dev_ = st.st_dev;
  ino_ = st.st_ino;
  if (::lseek(fd_, static_cast<off_t>(offset), SEEK_SET) < 0) offset = 0;
  offset_ = offset;
}

void FileTailer::SwitchIdentity(const FileIdentity& next, std::uint64_t offset) {
  if (fd_ >= 0) ExtendFingerprint(fd_, &cur_id_);  // no-op once 1 KiB or if rewritten
  bool carry = splitter_.holding_partial();
  if (carry && have_commit_ && commit_in_current_) {
    commit_id_ = cur_id_;
    commit_in_current_ = false;
  }
  cur_id_ = next;
  if (!carry) Commit(offset);
}

void FileTailer::Commit(std::uint64_t offset) {
  have_commit_ = true;
  commit_in_current_ = true;
  commit_offset_ = offset;
  commit_skip_ = splitter_.discarding();
}

bool FileTailer::Position(ReadPosition* out) const {
  if (!have_commit_) return false;
  out->file = commit_in_current_ ? cur_id_ : commit_id_;
  out->offset = commit_offset_;
  out->skip_to_newline = commit_skip_;
  return true;
}

void FileTailer::ConsumeChunk(const char* data, std::size_t size, std::uint64_t base,
                              const LineCallback& on_line) {
  splitter_.Feed(
      data, size, on_line,
      [this] {
        if (observer_ != nullptr) observer_->OnLongLine();
      },
      [this, base](std::size_t consumed) { Commit(base + consumed); });
}

bool FileTailer::ReadToEof(const LineCallback& on_line) {
  if (fd_ < 0) return true;
  while (true) {
    if (budget_ == 0) return false;
    ssize_t n = ::read(fd_, buffer_.data(), std::min(buffer_.size(), budget_));
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno != EAGAIN) {
        Status error = ErrnoStatus(errno, "read " + path_);
        Log(LogLevel::kWarn, "read error on log file, retried at the next poll",
            {{"path", path_}, {"err", error.message()}});
        if (observer_ != nullptr) observer_->OnReadError(error);
      }
      break;
    }
    if (n == 0) break;
    auto size = static_cast<std::size_t>(n);
    std::uint64_t base = offset_;
    offset_ += size;
    budget_ -= size;
    if (observer_ != nullptr) observer_->OnBytesRead(size);
    ConsumeChunk(buffer_.data(), size, base, on_line);
  }
  if (cur_id_.fingerprint_len < kFingerprintMaxBytes && offset_ > cur_id_.fingerprint_len) {
    ExtendFingerprint(fd_, &cur_id_);
  }
  return true;
}

bool FileTailer::Poll(const LineCallback& on_line) {
  if (resume_) {
    ReadPosition position = *resume_;
    resume_.reset();
    ever_tried_ = true;  // from now on a file that appears is read from 0
    budget_ = SIZE_MAX;  // the rotated files of the backlog are read whole
    Resume(position, on_line);
  }
  budget_ = options_.max_bytes_per_poll == 0 ? SIZE_MAX : options_.max_bytes_per_poll;
  if (fd_ < 0) {
    bool first = !ever_tried_;
    ever_tried_ = true;
    if (!Open(first && options_.start_at_end)) {
      if (first) missing_at_start_ = true;
      return false;
    }
  }
  if (!ReadToEof(on_line)) return true;

  // Truncation of the file we hold (copytruncate, `: > mainlog`).
  struct stat fst {};
  if (::fstat(fd_, &fst) == 0 && static_cast<std::uint64_t>(fst.st_size) < offset_) {
    Log(LogLevel::kInfo, "log file truncated, reading from the start", {{"path", path_}});
    if (observer_ != nullptr) observer_->OnTruncation();
    FileIdentity rewritten;
    rewritten.dev = cur_id_.dev;
    rewritten.ino = cur_id_.ino;
    SwitchIdentity(rewritten, 0);
    ::lseek(fd_, 0, SEEK_SET);
    offset_ = 0;
    if (!ReadToEof(on_line)) return true;
  }

  // Rotation: the path now names another file.
  struct stat st {};
  if (::stat(path_.c_str(), &st) != 0) return false;  // gone: keep draining the old file
  if (st.st_ino == ino_ && st.st_dev == dev_) return false;
  if (!ReadToEof(on_line)) return true;  // drain what was written before the switch
  bool retry = rotation_pending_ && st.st_ino == pending_ino_ && st.st_dev == pending_dev_;
  if (!retry) {
    Log(LogLevel::kInfo, "log file rotated, following the new file", {{"path", path_}});
    if (observer_ != nullptr) observer_->OnRotation();
  }
  if (!Open(false)) {
    // Keep following the old file; retry the new one at the next poll (counted and logged once).
    rotation_pending_ = true;
    pending_dev_ = st.st_dev;
    pending_ino_ = st.st_ino;
    return false;
  }
  rotation_pending_ = false;
  return !ReadToEof(on_line);
}

void FileTailer::FlushPartial(const LineCallback& on_line) {
  splitter_.Finish(on_line);
  if (have_commit_) Commit(offset_);
}

void FileTailer::Resume(const ReadPosition& position, const LineCallback& on_line) {
  ResumePlan plan = PlanResume(path_, position);
  if (plan.kind == ResumePlan::Kind::kCurrent) {
    int fd = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd >= 0 && IsSavedFile(fd, position, false)) {
      splitter_.set_discarding(position.skip_to_newline);
      Adopt(fd, position.offset);
      Log(LogLevel::kInfo, "resuming at the saved position",
          {{"path", path_}, {"offset", std::to_string(position.offset)}});
      return;
    }
    if (fd >= 0) ::close(fd);
    plan.kind = ResumePlan::Kind::kNotFound;  // rotated right now: treat it as gone
  }
  if (plan.kind == ResumePlan::Kind::kNotFound) {
    Log(LogLevel::kWarn,
        "the file of the saved position is gone (not the file at the path nor a rotated "
        "file); reading the file at the path from the start",
        {{"path", path_}});
    return;
  }
  Log(LogLevel::kInfo, "log rotated while stopped: reading the rotated files first",
      {{"path", path_},
       {"from", plan.backlog.front().path},
       {"offset", std::to_string(position.offset)},
       {"files", std::to_string(plan.backlog.size())}});
  for (std::size_t i = 0; i < plan.backlog.size(); ++i) {
    const RotatedFile& f = plan.backlog[i];
    bool first = i == 0;
    std::uint64_t start = first ? position.offset : 0;
    if (first) splitter_.set_discarding(position.skip_to_newline);
    if (f.gzip) {
      if (!ReadGzip(f.path, start, on_line)) {
        Log(LogLevel::kWarn, "cannot read rotated file", {{"path", f.path}});
        if (observer_ != nullptr) observer_->OnReadError(Unavailable("cannot read " + f.path));
      }
      continue;
    }
    int fd = ::open(f.path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
      Log(LogLevel::kWarn, "cannot open rotated file",
          {{"path", f.path}, {"err", std::strerror(errno)}});
      continue;
    }
    Adopt(fd, start);
    // The newest rotated file stays open: Poll() drains it and then follows the path, like any
    // rotation (a writer may still append to it).
    if (i + 1 < plan.backlog.size()) ReadToEof(on_line);
  }
  if (plan.backlog.back().gzip) Close();
}

bool FileTailer::ReadGzip(const std::string& gz_path, std::uint64_t start,
                          const LineCallback& on_line) {
  GzipReader gz(gz_path);
  struct stat st {};
  if (!gz.ok() || ::stat(gz_path.c_str(), &st) != 0) return false;
  // Identity: the .gz file's inode and the fingerprint of the decompressed text.
  std::string prefix = ReadPrefix(gz, kFingerprintMaxBytes);
  const std::size_t got = prefix.size();
  FileIdentity id;
  id.dev = static_cast<std::uint64_t>(st.st_dev);
  id.ino = static_cast<std::uint64_t>(st.st_ino);
  id.fingerprint = Fnv1a64(prefix);
  id.fingerprint_len = static_cast<std::uint32_t>(got);
  SwitchIdentity(id, start);
  Close();
  offset_ = start;
  if (start < got) {
    std::uint64_t base = offset_;
    std::size_t size = got - static_cast<std::size_t>(start);
    offset_ += size;
    if (observer_ != nullptr) observer_->OnBytesRead(size);
    ConsumeChunk(prefix.data() + start, size, base, on_line);
  } else if (start > got && !gz.Skip(start - got)) {
    return false;
  }
  while (true) {
    long n = gz.Read(buffer_.data(), buffer_.size());
    if (n < 0) return false;
    if (n == 0) return true;
    auto size = static_cast<std::size_t>(n);
    std::uint64_t base = offset_;
    offset_ += size;
    if (observer_ != nullptr) observer_->OnBytesRead(size);
    ConsumeChunk(buffer_.data(), size, base, on_line);
  }
}

std::uint64_t FileTailer::LagBytes() const {
  struct stat st {};
  if (::stat(path_.c_str(), &st) != 0) return 0;
  auto size = static_cast<std::uint64_t>(st.st_size);
  if (st.st_ino != ino_ || st.st_dev != dev_) return size;
  return size > offset_ ? size - offset_ : 0;
}

}  // namespace mailrelay
