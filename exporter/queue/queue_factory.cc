#include "queue/queue_factory.h"

#include "common/logging.h"
#include "mta/exim/spool_scanner.h"
#include "queue/command_queue_sources.h"

namespace mailrelay {

std::shared_ptr<QueueCollector> MakeEximQueueCollector(const EximQueueSettings& settings) {
  QueueCollector::Options options;
  options.top_k = settings.top_k;
  if (settings.source == "spool") {
    EximSpoolScanner::Options o;
    o.input_dir = settings.input_dir;
    o.max_files = settings.max_files;
    o.threads = settings.scan_threads;
    o.io_uring = settings.io_uring;
    Log(LogLevel::kInfo, "reading the Exim queue from the spool", {{"input_dir", o.input_dir}});
    return std::make_shared<QueueCollector>(std::make_unique<EximSpoolScanner>(o), options);
  }
  if (settings.source == "bp") {
    CommandOptions c;
    c.timeout_seconds = settings.command_timeout_seconds;
    // An unknown binary still builds the collector: each scrape counts a `command` error.
    std::string binary = settings.exim_binary.empty() ? "exim" : settings.exim_binary;
    Log(LogLevel::kInfo, "reading the Exim queue with exim -bp", {{"binary", binary}});
    return std::make_shared<QueueCollector>(
        std::make_unique<EximBpSource>(std::vector<std::string>{binary, "-bp"}, c), options);
  }
  return nullptr;
}

std::shared_ptr<QueueCollector> MakePostfixQueueCollector(const std::string& postqueue_binary,
                                                          double command_timeout_seconds,
                                                          std::size_t top_k) {
  QueueCollector::Options options;
  options.top_k = top_k;
  CommandOptions c;
  c.timeout_seconds = command_timeout_seconds;
  return std::make_shared<QueueCollector>(
      std::make_unique<PostqueueSource>(std::vector<std::string>{postqueue_binary, "-j"}, c),
      options);
}

}  // namespace mailrelay
