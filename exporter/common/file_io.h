// Whole-file reads and atomic rewrites of small files (state file, rules file, Exim -J journals,
// respond's hold list and the maps derived from it).
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <string>
#include <string_view>

#include "common/status.h"

namespace mailrelay {

// The whole file, at most `max_bytes` (InvalidArgument beyond). A missing file is kNotFound.
StatusOr<std::string> ReadWholeFile(const std::string& path, std::size_t max_bytes);

// Reads an open file to its end into *out (EINTR retried). Returns 0, or an errno value: EFBIG
// when it holds more than `max_bytes`. Reads into the string itself, never through a large
// stack buffer: callers run on HTTP worker threads (/metrics, /-/ready), whose stacks are small.
int ReadFd(int fd, std::size_t max_bytes, std::string* out);

// Replaces `path` with `content` so that a reader sees the old file or the new one, never a
// part: written to `path`.tmp (created with `mode`), fsync'd, renamed over `path`, and the
// directory fsync'd (the rename survives a crash). Writers of the same path must not run at
// the same time (the .tmp name is fixed): callers serialise them.
Status WriteFileAtomically(const std::string& path, std::string_view content, mode_t mode);

// write(2) until all of `data` is written (EINTR retried). False on an error (errno set).
bool WriteAll(int fd, std::string_view data);

}  // namespace mailrelay
