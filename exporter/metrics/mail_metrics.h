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
#include <vector>

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

#include "classify/event_sink.h"
#include "classify/relay_classifier.h"
#include "events/event.h"
#include "metrics/bounded_counters.h"

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
  prometheus::Counter* read_errors = nullptr;
  prometheus::Gauge* last_timestamp = nullptr;
  prometheus::Gauge* file_open = nullptr;
  prometheus::Gauge* lag_bytes = nullptr;
};

struct BuildInfo {
  std::string version;
  std::string revision;
};

class MailMetrics : public EventSink {
 public:
  MailMetrics(std::shared_ptr<prometheus::Registry> registry, BoundedLimits limits,
              const BuildInfo& build);

  // Updates are batched in plain fields (the fixed class/reason/result totals here, the
  // per-user/per-IP amounts in BoundedCounters) and applied to the Prometheus counters by
  // Flush(): one atomic update per counter per batch instead of one per event. LogSource
  // flushes after every read chunk and every poll, so a scrape sees at most one chunk less.
  // Per-key series remember when they were last updated: SetNow() gives the time of the
  // events that follow (the live pipeline sets it at every poll; one-shot runs leave it 0).
  void SetNow(std::int64_t now) { now_ = now; }

  // EventSink
  void OnArrival(const Event& ev, const Classification& c) override;
  void OnDelivery(const Event& ev) override;
  void OnCompleted(const Event& ev) override;
  void OnFrozen(const Event& ev) override;
  void OnReject(const Event& ev) override;
  void OnAuthFailure(const Event& ev) override;

  void Flush();

  // Drops idle per-key series; call periodically (not in one-shot mode).
  void Expire(std::int64_t now);

  LogMetrics& ForLog(const std::string& log_name);

  // --state.file writes (registered always, 0 without a state file).
  prometheus::Counter& state_saves() { return *state_saves_; }
  prometheus::Counter& state_save_errors() { return *state_save_errors_; }

  const std::shared_ptr<prometheus::Registry>& registry() const { return registry_; }
  // mailrelay_label_overflow_total, shared with the --rules.file counter families.
  prometheus::Family<prometheus::Counter>& overflow_family() { return *overflow_family_; }

 private:
  std::shared_ptr<prometheus::Registry> registry_;
  std::int64_t now_ = 0;

  // A pre-resolved counter with its not yet applied increments (integers: exact in a double).
  struct Pending {
    prometheus::Counter* counter = nullptr;
    double amount = 0;
    void Add(double v) { amount += v; }
  };

  std::array<Pending, kRelayClassCount> messages_{};
  std::array<Pending, kRelayClassCount> recipients_{};
  std::array<Pending, kRelayClassCount> bytes_{};
  std::array<Pending, kRelayClassCount> spoofed_{};
  std::array<Pending, kIgnoreReasonCount> ignored_{};
  std::array<Pending, 3> deliveries_{};  // delivered, deferred, failed
  Pending retry_wait_;
  Pending bounces_generated_;
  Pending frozen_;
  Pending completed_;
  std::array<Pending, kRejectReasonCount> rejects_{};
  std::vector<Pending*> pending_;  // all of the above, for Flush()

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
  prometheus::Family<prometheus::Counter>* log_read_errors_ = nullptr;
  prometheus::Family<prometheus::Gauge>* log_last_ts_ = nullptr;
  prometheus::Family<prometheus::Gauge>* log_open_ = nullptr;
  prometheus::Family<prometheus::Gauge>* log_lag_ = nullptr;
  std::map<std::string, LogMetrics, std::less<>> logs_;
  prometheus::Counter* state_saves_ = nullptr;
  prometheus::Counter* state_save_errors_ = nullptr;
};

}  // namespace mailrelay
