// MailMetrics turns classified events into the Prometheus families of docs/metrics.md. It knows
// nothing of log formats: the same calls serve Exim and Postfix. Log-derived values are
// long-lived counters in one prometheus::Registry (queue state, built per scrape, lives elsewhere).
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

#include "classify/relay_classifier.h"
#include "metrics/bounded_counters.h"
#include "parser/event.h"

namespace mailrelay {

// Self-metrics of one log source (label log="exim_mainlog", ...).
struct LogMetrics {
  prometheus::Counter* lines = nullptr;
  prometheus::Counter* unparsed = nullptr;
  prometheus::Counter* bytes = nullptr;
  prometheus::Counter* rotations = nullptr;
  prometheus::Counter* truncations = nullptr;
  prometheus::Counter* open_errors = nullptr;
  prometheus::Counter* long_lines = nullptr;
  prometheus::Gauge* last_timestamp = nullptr;
  prometheus::Gauge* file_open = nullptr;
  prometheus::Gauge* lag_bytes = nullptr;
};

struct BuildInfo {
  std::string version;
  std::string revision;
};

class MailMetrics {
 public:
  MailMetrics(std::shared_ptr<prometheus::Registry> registry, BoundedLimits limits,
              const BuildInfo& build);

  void OnArrival(const Event& ev, const Classification& c, std::int64_t now);
  // Every event type other than arrivals.
  void OnEvent(const Event& ev, std::int64_t now);

  // Drops idle per-key series; call periodically (not in one-shot mode).
  void Expire(std::int64_t now);

  LogMetrics& ForLog(const std::string& log_name);

  // --state.file writes (registered always, 0 without a state file).
  prometheus::Counter& state_saves() { return *state_saves_; }
  prometheus::Counter& state_save_errors() { return *state_save_errors_; }

  const std::shared_ptr<prometheus::Registry>& registry() const { return registry_; }

 private:
  std::shared_ptr<prometheus::Registry> registry_;

  std::array<prometheus::Counter*, kRelayClassCount> messages_{};
  std::array<prometheus::Counter*, kRelayClassCount> recipients_{};
  std::array<prometheus::Counter*, kRelayClassCount> bytes_{};
  std::array<prometheus::Counter*, kRelayClassCount> spoofed_{};
  std::array<prometheus::Counter*, kIgnoreReasonCount> ignored_{};
  std::array<prometheus::Counter*, 3> deliveries_{};  // delivered, deferred, failed
  prometheus::Counter* retry_wait_ = nullptr;
  prometheus::Counter* bounces_generated_ = nullptr;
  prometheus::Counter* frozen_ = nullptr;
  prometheus::Counter* completed_ = nullptr;
  std::array<prometheus::Counter*, kRejectReasonCount> rejects_{};

  prometheus::Family<prometheus::Counter>* overflow_family_ = nullptr;
  std::unique_ptr<BoundedCounters> auth_user_;
  std::unique_ptr<BoundedCounters> source_ip_;
  std::unique_ptr<BoundedCounters> local_user_;
  std::unique_ptr<BoundedCounters> spoofed_user_;
  std::unique_ptr<BoundedCounters> auth_failures_;
  std::unique_ptr<BoundedCounters> auth_failure_ip_;
  std::unique_ptr<BoundedCounters> auth_failure_user_;
  std::unique_ptr<BoundedCounters> reject_ip_;

  prometheus::Family<prometheus::Counter>* log_lines_ = nullptr;
  prometheus::Family<prometheus::Counter>* log_unparsed_ = nullptr;
  prometheus::Family<prometheus::Counter>* log_bytes_ = nullptr;
  prometheus::Family<prometheus::Counter>* log_rotations_ = nullptr;
  prometheus::Family<prometheus::Counter>* log_truncations_ = nullptr;
  prometheus::Family<prometheus::Counter>* log_open_errors_ = nullptr;
  prometheus::Family<prometheus::Counter>* log_long_lines_ = nullptr;
  prometheus::Family<prometheus::Gauge>* log_last_ts_ = nullptr;
  prometheus::Family<prometheus::Gauge>* log_open_ = nullptr;
  prometheus::Family<prometheus::Gauge>* log_lag_ = nullptr;
  std::map<std::string, LogMetrics, std::less<>> logs_;
  prometheus::Counter* state_saves_ = nullptr;
  prometheus::Counter* state_save_errors_ = nullptr;
};

}  // namespace mailrelay
