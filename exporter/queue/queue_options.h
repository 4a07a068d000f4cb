// Settings of every queue reader (the --queue.* flags); each MTA module reads the ones that
// apply to its readers.
#pragma once

#include <cstddef>

namespace mailrelay {

struct QueueOptions {
  std::size_t top_k = 20;                // label values per top-k family, 0: no such families
  std::size_t max_files = 200000;        // file readers: most queue files parsed per scan
  unsigned scan_threads = 0;             // file readers: most threads per scan; 0 = min(CPUs, 4)
  bool io_uring = true;                  // file readers: batched reads through io_uring
  double command_timeout_seconds = 10;   // command readers: kill after this long
  double refresh_interval_seconds = 15;  // background readers: time between two scans
};

}  // namespace mailrelay
