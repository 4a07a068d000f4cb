// LineSplitter cuts a byte stream into lines, the same way for the live tailer and for the
// report's one-off reads:
//  - complete lines only: bytes after the last '\n' are held until the newline arrives (and
//    Finish() hands out a last line without one, at the end of a one-off read);
//  - a '\r' before the '\n' is dropped;
//  - a line longer than max_line_bytes is handed out cut to that length as soon as that many
//    bytes are there, and the rest of it up to the newline is dropped, so hostile input cannot
//    grow memory without bound.
// The handlers are template parameters (the per-line path stays inline):
//   on_line(std::string_view line)   a line, valid during the call
//   on_long()                        the line just handed out was cut
//   on_commit(std::size_t consumed)  every byte of this chunk before `consumed` is processed
//                                    (after each line, and at a cut line's end of chunk)
#pragma once

#include <cstddef>
#include <cstring>
#include <string>
#include <string_view>

namespace mailrelay {

class LineSplitter {
 public:
  explicit LineSplitter(std::size_t max_line_bytes) : max_line_(max_line_bytes) {}

  template <typename OnLine, typename OnLong, typename OnCommit>
  void Feed(const char* data, std::size_t size, OnLine&& on_line, OnLong&& on_long,
            OnCommit&& on_commit) {
    const char* p = data;
    const char* end = data + size;
    while (p < end) {
      const auto* nl =
          static_cast<const char*>(std::memchr(p, '\n', static_cast<std::size_t>(end - p)));
      if (nl == nullptr) {
        if (!discarding_) {
          std::size_t room = max_line_ - partial_.size();
          std::size_t take = static_cast<std::size_t>(end - p);
          if (take <= room) {
            partial_.append(p, take);
            return;
          }
          partial_.append(p, room);
          Emit(partial_, on_line);
          partial_.clear();
          discarding_ = true;
          on_long();
        }
        on_commit(size);  // the cut line was handed on; skip to its newline after a restart
        return;
      }
      std::size_t len = static_cast<std::size_t>(nl - p);
      if (discarding_) {
        discarding_ = false;
      } else if (partial_.empty()) {
        if (len > max_line_) {
          Emit(std::string_view(p, max_line_), on_line);
          on_long();
        } else {
          Emit(std::string_view(p, len), on_line);
        }
      } else {
        std::size_t room = max_line_ - partial_.size();
        bool cut = len > room;
        partial_.append(p, cut ? room : len);
        Emit(partial_, on_line);
        partial_.clear();
        if (cut) on_long();
      }
      p = nl + 1;
      on_commit(static_cast<std::size_t>(p - data));
    }
  }

  // Hands out a held partial line as if it were complete; forgets a cut line's rest.
  template <typename OnLine>
  void Finish(OnLine&& on_line) {
    if (!partial_.empty()) {
      std::string line = std::move(partial_);
      partial_.clear();
      Emit(line, on_line);
    }
    discarding_ = false;
  }

  bool holding_partial() const { return !partial_.empty(); }
  // Inside a cut line, dropping bytes up to its newline (also set when resuming inside one).
  bool discarding() const { return discarding_; }
  void set_discarding(bool discarding) { discarding_ = discarding; }

 private:
  template <typename OnLine>
  static void Emit(std::string_view line, OnLine& on_line) {
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    on_line(line);
  }

  std::size_t max_line_;
  std::string partial_;
  bool discarding_ = false;
};

}  // namespace mailrelay
