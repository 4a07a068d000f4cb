// Builds the queue collector from the flags' values (main.cc wiring).
#pragma once

#include <cstddef>
#include <memory>
#include <string>

#include "queue/queue_collector.h"

namespace mailrelay {

struct EximQueueSettings {
  std::string source = "spool";  // spool | bp | none
  std::string input_dir;         // spool: the input/ directory
  std::string exim_binary;       // bp: path of exim; empty: not found
  std::size_t top_k = 20;
  std::size_t max_files = 200000;
  unsigned scan_threads = 0;  // spool: EximSpoolScanner::Options::threads
  bool io_uring = true;       // spool: EximSpoolScanner::Options::io_uring
  double command_timeout_seconds = 10;
};

// Null for source "none". Logs what it reads.
std::shared_ptr<QueueCollector> MakeEximQueueCollector(const EximQueueSettings& settings);

// For the Postfix mode: `postqueue -j` with a timeout.
std::shared_ptr<QueueCollector> MakePostfixQueueCollector(const std::string& postqueue_binary,
                                                          double command_timeout_seconds,
                                                          std::size_t top_k);

}  // namespace mailrelay
