// QueueCollector: a prometheus::Collectable that builds the queue-state families from a
// QueueSource (docs/metrics.md, "Queue state"). Fast incremental readers (the Exim spool) are
// scanned at the scrape: concurrent scrapes share one scan (a mutex), and a result younger than
// min_scan_interval_seconds is served again. Slow readers (queue commands) are scanned in the
// background and the scrape serves the last result with its age
// (mailrelay_queue_snapshot_age_seconds). A scan that fails by throwing is caught, logged and
// counted (mailrelay_collector_errors_total{collector="queue"}); it never ends a scrape.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>

#include "common/clock.h"
#include "queue/queue_source.h"

namespace mailrelay {

// The rest of a top-k family, beyond its k largest label values.
inline constexpr const char* kQueueTopKOther = "__other__";

struct QueueStats {
  struct PerQueue {
    std::uint64_t messages = 0;
    std::uint64_t bytes = 0;
    std::uint64_t recipients = 0;
    std::int64_t oldest_age_seconds = 0;
  };
  std::map<std::string, PerQueue> queues;
  std::uint64_t frozen = 0;
  std::uint64_t bounces = 0;
  std::uint64_t frozen_bounces = 0;
  // Top-k lists, largest first (ties by label); the last element is kQueueTopKOther when
  // more than k values exist. Empty when top_k == 0.
  using TopK = std::vector<std::pair<std::string, std::uint64_t>>;
  TopK messages_by_owner;
  TopK messages_by_sender;
  TopK recipients_by_owner;
};

// Aggregates messages. Every name of `queue_names` is present (0 when empty); ages are
// now - received_time (never negative).
QueueStats AggregateQueue(const std::vector<std::shared_ptr<const QueueMessage>>& messages,
                          const std::vector<std::string>& queue_names, std::int64_t now,
                          std::size_t top_k);

class QueueCollector : public prometheus::Collectable {
 public:
  struct Options {
    std::size_t top_k = 20;
    // At the scrape (background == false): a result younger than this is served again.
    double min_scan_interval_seconds = 1.0;
    // In the background: a thread of the collector scans every refresh_interval_seconds and a
    // scrape serves the last result at once, never waiting for a scan (a hung queue command
    // must not delay or fail the scrape of the log counters).
    bool background = false;
    double refresh_interval_seconds = 15;
    const Clock* clock = nullptr;  // default: SystemClock
  };

  QueueCollector(std::unique_ptr<QueueSource> source, Options options);
  ~QueueCollector() override;
  QueueCollector(const QueueCollector&) = delete;
  QueueCollector& operator=(const QueueCollector&) = delete;

  std::vector<prometheus::MetricFamily> Collect() const override;

  // Ready once a scan read the queue; otherwise *why says what the last scan met ("permission
  // denied: cannot open /var/spool/postfix/active: ...", "1 timeout error") or that no scan has
  // finished yet. For /-/ready.
  bool Ready(std::string* why) const;

  std::uint64_t scans() const;  // scans actually run (for tests)
  // Background mode: blocks until `n` scans have completed (tests).
  void WaitForScans(std::uint64_t n) const;

 private:
  // Runs one scan and stores its families (mu_ held by the caller in scrape mode).
  void ScanAndStore() const;
  std::vector<prometheus::MetricFamily> WithAge() const;  // mu_ held
  void RefreshLoop();

  Options options_;
  const Clock& clock_;
  mutable std::mutex scan_mu_;  // one scan at a time
  std::unique_ptr<QueueSource> source_;
  mutable std::mutex mu_;  // the fields below
  mutable std::condition_variable cv_;
  mutable bool have_result_ = false;
  mutable Clock::Steady last_scan_{};
  mutable std::vector<prometheus::MetricFamily> last_families_;
  mutable std::uint64_t errors_[kQueueErrorCount] = {};
  mutable std::uint64_t failures_ = 0;  // scans that threw (mailrelay_collector_errors_total)
  mutable std::uint64_t scans_ = 0;
  mutable bool source_up_ = false;
  mutable std::string not_ready_;  // why the last scan read nothing; empty when it did
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace mailrelay
