// StateStore keeps the read position of every followed log (keyed by the log's path) in one small
// text file, `--state.file`. Save() writes a temporary file next to it, fsyncs it, renames it over
// the old one and fsyncs the directory, so a crash or kill -9 at any moment leaves either the old
// or the new state, never a torn one. Format (one line per log, the path last so it may contain
// spaces; "end" marks a complete file):
//
//   mailrelay_exporter state 1
//   log <dev> <inode> <offset> <fingerprint hex> <fingerprint bytes> <skip 0|1> <path>
//   end
//
// Not thread-safe: the pipeline thread owns it.
#pragma once

#include <map>
#include <string>
#include <string_view>

#include "common/status.h"
#include "source/read_position.h"

namespace mailrelay {

using StateEntries = std::map<std::string, ReadPosition, std::less<>>;

std::string SerializeState(const StateEntries& entries);
// Parses a whole state file; an error for anything but a complete, well-formed file.
Status ParseState(std::string_view text, StateEntries* out);

class StateStore {
 public:
  explicit StateStore(std::string path) : path_(std::move(path)) {}

  // Reads the file. A missing file is an empty state. An unreadable or malformed file is an
  // error; the state then starts empty (logs start as without a state file) and the next Save()
  // replaces the file.
  Status Load();

  const ReadPosition* Find(std::string_view log_path) const;
  void Set(const std::string& log_path, const ReadPosition& position);
  // True when Set() changed something since the last successful Save().
  bool dirty() const { return dirty_; }

  Status Save();

  const std::string& path() const { return path_; }
  const StateEntries& entries() const { return entries_; }

 private:
  std::string path_;
  StateEntries entries_;
  bool dirty_ = false;
};

}  // namespace mailrelay
