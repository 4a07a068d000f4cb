// A QueueSource lists the messages of one MTA queue. The collector calls Scan() at most once
// at a time (under its own mutex), so implementations need no locking of their own.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "queue/queue_message.h"

namespace mailrelay {

// Reasons of mailrelay_queue_scrape_errors_total (a fixed set, all exported from startup).
enum class QueueError {
  kDirectory = 0,  // a spool directory could not be opened or read
  kOpen,           // a -H file could not be opened or read (permission, I/O error)
  kVanished,       // a -H file listed by readdir was gone at open (message delivered)
  kParse,          // malformed -H file, `exim -bp` line or `postqueue -j` record
  kCommand,        // the queue command could not start, failed, or printed too much
  kTimeout,        // the queue command was killed after --queue.command-timeout
};
inline constexpr int kQueueErrorCount = 6;
const char* QueueErrorName(QueueError e);

struct QueueScan {
  // False when nothing usable was read (spool directory missing, command failed or timed
  // out): the collector then omits the queue-state families instead of exporting zeros.
  bool ok = false;
  // When not ok, why, if the source knows better than its error counts (e.g. "permission
  // denied: cannot open /var/spool/postfix/active: Permission denied"): /-/ready shows it.
  Status status;
  bool truncated = false;  // a cap on files read was hit; some messages were left out
  std::vector<std::shared_ptr<const QueueMessage>> messages;
  std::uint64_t errors[kQueueErrorCount] = {};
  void AddError(QueueError e, std::uint64_t n = 1) { errors[static_cast<int>(e)] += n; }
  // Why a scan that is not ok read nothing: `status` when set, else its error counts
  // ("1 directory error"); "" when ok.
  std::string Describe() const;
};

class QueueSource {
 public:
  virtual ~QueueSource() = default;
  // The queue label values this source always exports (0 when empty).
  virtual std::vector<std::string> QueueNames() const = 0;
  virtual QueueScan Scan() = 0;
};

}  // namespace mailrelay
