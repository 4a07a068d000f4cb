// QueueCollector: a prometheus::Collectable that builds the queue-state families afresh at
// every scrape from a QueueSource (docs/metrics.md, "Queue state"). Concurrent scrapes share
// one scan: Collect() holds a mutex, and a result younger than min_scan_interval_seconds is
// served again instead of scanning anew.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>

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
    double min_scan_interval_seconds = 1.0;
    std::function<std::int64_t()> now;  // Unix seconds; default: the system clock
  };

  QueueCollector(std::unique_ptr<QueueSource> source, Options options);
  std::vector<prometheus::MetricFamily> Collect() const override;

  std::uint64_t scans() const;  // scans actually run (for tests)

 private:
  std::vector<prometheus::MetricFamily> ScanAndBuild() const;

  Options options_;
  mutable std::mutex mu_;
  std::unique_ptr<QueueSource> source_;
  mutable bool have_result_ = false;
  mutable std::chrono::steady_clock::time_point last_scan_;
  mutable std::vector<prometheus::MetricFamily> last_families_;
  mutable std::uint64_t errors_[kQueueErrorCount] = {};
  mutable std::uint64_t scans_ = 0;
};

}  // namespace mailrelay
