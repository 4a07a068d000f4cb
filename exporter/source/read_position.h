// ReadPosition says where a FileTailer stands in a log in a form that survives a restart, and
// PlanResume() finds that place again after the exporter was stopped, even when the log was
// rotated meanwhile.
//
// A file is identified by device + inode + a fingerprint: FNV-1a 64 of its first bytes (up to
// 1 KiB; fewer while the file is shorter, fingerprint_len says how many). The inode alone is not
// enough: a rotated-then-deleted file's inode number is reused by the next new file, and
// copytruncate keeps the inode while replacing the contents. The fingerprint alone finds a file
// whose inode changed (a copytruncate copy, a gzip'd rotated file).
//
// The offset is the first byte not processed yet: just after the last COMPLETE line handed to the
// callback (a held partial line is not processed, so it is read again after a restart and no
// line is counted twice or cut). A partial line carried across a rotation keeps the position in
// the file where it began.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

struct gzFile_s;

namespace mailrelay {

inline constexpr std::uint64_t kFnvOffsetBasis = 0xcbf29ce484222325ULL;
inline constexpr std::uint32_t kFingerprintMaxBytes = 1024;

std::uint64_t Fnv1a64(std::string_view data, std::uint64_t hash = kFnvOffsetBasis);

struct FileIdentity {
  std::uint64_t dev = 0;
  std::uint64_t ino = 0;
  std::uint64_t fingerprint = kFnvOffsetBasis;  // of the first fingerprint_len bytes
  std::uint32_t fingerprint_len = 0;
  friend bool operator==(const FileIdentity&, const FileIdentity&) = default;
};

struct ReadPosition {
  FileIdentity file;
  std::uint64_t offset = 0;
  // The bytes from offset up to the next '\n' belong to an over-long line that was already
  // handed on (cut at max_line_bytes): skip them.
  bool skip_to_newline = false;
  friend bool operator==(const ReadPosition&, const ReadPosition&) = default;
};

// Reads up to len bytes from the start of fd with pread (the file offset does not move).
std::string ReadPrefix(int fd, std::size_t len);

// Grows id's fingerprint to cover min(file size, 1 KiB) bytes of fd. Returns false, leaving id
// unchanged, when the bytes already fingerprinted changed (the file was truncated or rewritten).
bool ExtendFingerprint(int fd, FileIdentity* id);

// True when the first id.fingerprint_len bytes of fd hash to id.fingerprint.
bool FingerprintMatches(int fd, const FileIdentity& id);

// Sequential reader of a gzip'd rotated log (logrotate's `compress`).
class GzipReader {
 public:
  explicit GzipReader(const std::string& path);
  ~GzipReader();
  GzipReader(const GzipReader&) = delete;
  GzipReader& operator=(const GzipReader&) = delete;

  bool ok() const { return gz_ != nullptr; }
  // Bytes read into buf (0 at the end), or -1 on a read or format error.
  long Read(char* buf, std::size_t n);
  // Reads and drops n bytes; false when the file ends first.
  bool Skip(std::uint64_t n);
  std::string error() const;

 private:
  gzFile_s* gz_ = nullptr;
};

// The first `max` bytes a reader with `long Read(char*, std::size_t)` gives (GzipReader, the
// report's sources), fewer when it ends or fails first.
template <typename Reader>
std::string ReadPrefix(Reader& reader, std::size_t max) {
  std::string out(max, '\0');
  std::size_t got = 0;
  while (got < out.size()) {
    long n = reader.Read(out.data() + got, out.size() - got);
    if (n <= 0) break;
    got += static_cast<std::size_t>(n);
  }
  out.resize(got);
  return out;
}

struct RotatedFile {
  std::string path;
  bool gzip = false;
  friend bool operator==(const RotatedFile&, const RotatedFile&) = default;
};

// The rotated siblings of `path` that exist, as series ordered oldest first: numbered
// (`path.9` .. `path.1`, `path.0`) and dated (`path-<suffix>`, sorted by name, which is by date
// for logrotate's dateext). Each entry is the plain file, else its `.gz`.
std::vector<std::vector<RotatedFile>> RotatedSeries(const std::string& path);

struct ResumePlan {
  enum class Kind {
    kCurrent,   // the file at the path is the saved file: continue at the saved offset
    kRotated,   // it was rotated while the exporter was stopped: read `backlog` first
    kNotFound,  // neither: the saved file is gone, read the file at the path from 0
  };
  Kind kind = Kind::kNotFound;
  // kRotated: the saved file (read from the saved offset), then every file rotated after it (read
  // whole), oldest first; then the file at the path is read from 0.
  std::vector<RotatedFile> backlog;
};

// Looks for the saved file: the file at `path` (same device+inode+fingerprint, not shorter than
// the offset), else among RotatedSeries() by device+inode+fingerprint, else by fingerprint alone
// (copies and gzip'd files; only when a fingerprint was taken).
ResumePlan PlanResume(const std::string& path, const ReadPosition& position);

// Whether the already-open plain file fd is the saved file.
bool IsSavedFile(int fd, const ReadPosition& position, bool require_inode);

}  // namespace mailrelay
