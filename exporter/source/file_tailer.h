// FileTailer follows one log file by path, the way `tail -F` does, and hands complete lines to a
// callback. Semantics (each has its own test in tests/unit/file_tailer_test.cc):
//
//  - Start: by default at the end of an existing file (start_at_end); a file that does not exist
//    yet is waited for and, once it appears, read from offset 0.
//  - Complete lines only: bytes after the last '\n' are held until the newline arrives. A held
//    partial line is carried across rotation and truncation, because a writer that was cut off
//    mid-line continues the same line in the new file.
//  - Rename rotation (logrotate's default, Exim's own rename): when the path names a different
//    inode, the old descriptor is drained to EOF first, then the new file is read from 0.
//  - Delete + recreate: the same as rename, once the new file exists; until then the old
//    descriptor is kept (a writer may still append to it).
//  - copytruncate: when the file's size drops below the read offset, reading restarts at 0.
//  - A rotation whose new file cannot be opened (e.g. permission denied) is counted and logged
//    once; the old file stays open and followed, blocked() is true and the open is retried at
//    every Poll() until it succeeds.
//  - Behind (a backlog, a burst): one Poll() reads at most max_bytes_per_poll and returns true
//    (more to read) so that the caller can update gauges (LagBytes()), serve other logs and save
//    state in between; the next Poll() continues exactly there. Nothing is skipped: a rotated
//    file is drained to its end before the new one is read, however many polls that takes.
//  - Lines longer than max_line_bytes are cut to that length (the rest up to the newline is
//    dropped) so hostile input cannot grow memory without bound.
//  - Position() reports the first byte not processed yet (after the last complete line; a held
//    partial line is not processed) with the file's identity (read_position.h). ResumeFrom(),
//    before the first Poll(), continues at such a position instead of start_at_end: in the file at
//    the path if it is still the same file, else in the rotated file it became (`path.1`,
//    `path-DATE`, gzip'd or not), then in every file rotated after it, then in the file at the
//    path from 0. When the saved file is gone, the file at the path is read from 0.
//
// Poll() does all I/O synchronously and never sleeps; the caller decides when to poll (inotify
// events or a timer, see Watcher). Not thread-safe: one thread owns a tailer.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "source/line_splitter.h"
#include "source/read_position.h"

namespace mailrelay {

// Receives what happened to the file, for self-metrics. Implementations must be cheap.
class TailerObserver {
 public:
  virtual ~TailerObserver() = default;
  virtual void OnBytesRead(std::size_t /*bytes*/) {}
  virtual void OnRotation() {}
  virtual void OnTruncation() {}
  virtual void OnOpenError(const Status& /*error*/) {}  // once per distinct error
  virtual void OnReadError(const Status& /*error*/) {}  // each failed read of an open file
  virtual void OnLongLine() {}
};

class FileTailer {
 public:
  struct Options {
    bool start_at_end = true;
    std::size_t max_line_bytes = 1 << 20;
    std::size_t read_chunk_bytes = 1 << 18;
    std::size_t max_bytes_per_poll = 16 << 20;  // 0: no limit
  };
  using LineCallback = std::function<void(std::string_view)>;

  FileTailer(std::string path, Options options, TailerObserver* observer = nullptr);
  ~FileTailer();
  FileTailer(const FileTailer&) = delete;
  FileTailer& operator=(const FileTailer&) = delete;

  // Reads what is available now (up to max_bytes_per_poll), following rotation and truncation.
  // Returns true when it stopped at the byte limit (call again without waiting).
  bool Poll(const LineCallback& on_line);
  // Emits a held partial line as if it were complete (end of a one-shot read).
  void FlushPartial(const LineCallback& on_line);

  // Before the first Poll(): continue at a position saved by an earlier run (see above).
  void ResumeFrom(const ReadPosition& position) { resume_ = position; }
  // The first byte not processed yet; false until a file was opened.
  bool Position(ReadPosition* out) const;

  const std::string& path() const { return path_; }
  bool is_open() const { return fd_ >= 0; }
  // Why the last open failed (OK when open or never failed): "PATH: No such file or directory".
  Status open_status() const {
    return last_error_ == 0 ? Status::Ok() : ErrnoStatus(last_error_, path_);
  }
  // The path names a new file that cannot be opened; the old one is still followed.
  bool blocked() const { return fd_ >= 0 && last_error_ != 0; }
  std::uint64_t offset() const { return offset_; }
  // Size of the file at the path minus the read offset (0 when unknown).
  std::uint64_t LagBytes() const;

 private:
  bool Open(bool seek_to_end);
  void Close();
  // Reads until EOF (true) or until this poll's byte budget is spent (false).
  bool ReadToEof(const LineCallback& on_line);
  // `base` is the file offset of data[0].
  void ConsumeChunk(const char* data, std::size_t size, std::uint64_t base,
                    const LineCallback& on_line);
  // Moves to another file (or to the same one rewritten): the committed position follows unless a
  // partial line is held, which keeps it in the file where that line began.
  void SwitchIdentity(const FileIdentity& next, std::uint64_t offset);
  void Commit(std::uint64_t offset);
  void Resume(const ReadPosition& position, const LineCallback& on_line);
  // Follows fd (already open) from offset, as the current file.
  void Adopt(int fd, std::uint64_t offset);
  bool ReadGzip(const std::string& gz_path, std::uint64_t start, const LineCallback& on_line);

  std::string path_;
  Options options_;
  TailerObserver* observer_;
  int fd_ = -1;
  dev_t dev_ = 0;
  ino_t ino_ = 0;
  std::uint64_t offset_ = 0;
  bool ever_tried_ = false;
  bool missing_at_start_ = false;
  int last_error_ = 0;
  std::size_t budget_ = 0;         // bytes this Poll() may still read
  bool rotation_pending_ = false;  // the path's new file (pending_ino_) could not be opened
  dev_t pending_dev_ = 0;
  ino_t pending_ino_ = 0;
  LineSplitter splitter_;  // holds a partial line across reads, rotation and truncation
  std::vector<char> buffer_;

  FileIdentity cur_id_;  // of the file being read (fingerprint grows up to 1 KiB)
  bool have_commit_ = false;
  bool commit_in_current_ = true;  // else the position is in commit_id_, an earlier file
  FileIdentity commit_id_;
  std::uint64_t commit_offset_ = 0;
  bool commit_skip_ = false;
  std::optional<ReadPosition> resume_;
};

}  // namespace mailrelay
