// RuleCounters: the Prometheus side of a RuleSet (rules/rule_set.h). It owns one family per
// counter rule, mailrelay_rule_<name>_total{<captures>}, capped and expiring like the built-in
// per-key families (a BoundedCounters each: at most max_series label sets, then __overflow__
// and mailrelay_label_overflow_total{metric}; idle label sets dropped after idle_timeout), and
// the rules' self-metrics:
//   mailrelay_rules_loaded{kind="reject"|"counter"}  rules in force (registered at 0 at once)
//   mailrelay_rules_matches_total{rule}              rejects mapped / lines counted per rule
//
// Thread model (that of BoundedCounters): one thread, the log thread, calls OnLine, MapReject,
// Flush, Expire and SetRules; scrapes read the families through prometheus-cpp, which locks
// them. RequestRules may be called from any thread (the SIGHUP reload): the log thread swaps
// at its next Flush(). The registry must use prometheus-cpp's default InsertBehavior::Merge.
//
// On a swap, a family whose rule kept its name, help, labels and limits keeps its series and
// values (whatever its pattern, prefilter or MTAs became); the families of removed or changed
// rules are unregistered (Registry::Remove; their overflow series too) and new ones start at 0.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

#include "common/status.h"
#include "events/event.h"
#include "events/line_rules.h"
#include "metrics/bounded_counters.h"
#include "rules/rule_set.h"

namespace mailrelay {

class RuleCounters {
 public:
  // `overflow_family` is mailrelay_label_overflow_total, shared with the built-in families.
  RuleCounters(prometheus::Registry& registry,
               prometheus::Family<prometheus::Counter>& overflow_family);
  ~RuleCounters();
  RuleCounters(const RuleCounters&) = delete;
  RuleCounters& operator=(const RuleCounters&) = delete;

  // Log thread: installs `rules` (nullptr: none) at once. An error (a family prometheus-cpp
  // refuses; cannot happen with names ParseRules validated) leaves that rule without a family.
  Status SetRules(std::shared_ptr<const RuleSet> rules);
  // Any thread: SetRules(rules) at the log thread's next Flush().
  void RequestRules(std::shared_ptr<const RuleSet> rules);
  const std::shared_ptr<const RuleSet>& rules() const { return rules_; }

  // RuleSet::MapReject, counting the match of the rule that decided.
  std::optional<RejectReason> MapReject(std::string_view reject_text, std::string_view mta);
  // One log line of `mta` (without its newline): every counter rule for that MTA is tried.
  void OnLine(std::string_view mta, std::string_view line, std::int64_t now);
  // Applies the batched amounts (after every read chunk, like MailMetrics::Flush), then a
  // rules swap requested meanwhile.
  void Flush();
  // Drops label sets idle for longer than their rule's idle_timeout; returns how many.
  std::size_t Expire(std::int64_t now);

 private:
  struct Family {
    std::string name;
    std::string help;
    std::vector<std::string> labels;
    BoundedLimits limits;
    std::unique_ptr<BoundedCounters> counters;
    prometheus::Family<prometheus::Counter>* family = nullptr;
    bool Same(const CounterRule& r) const;
  };
  struct Pending {
    prometheus::Counter* counter = nullptr;
    double amount = 0;
  };
  void ApplyPending();
  void Unregister(Family* f);

  prometheus::Registry& registry_;
  prometheus::Family<prometheus::Counter>& overflow_family_;
  prometheus::Family<prometheus::Counter>& matches_family_;
  prometheus::Gauge& loaded_reject_;
  prometheus::Gauge& loaded_counter_;

  std::shared_ptr<const RuleSet> rules_;
  std::vector<Family> families_;          // one per rules_->counter_rules(), same order
  std::vector<Pending> reject_matches_;   // one per rules_->reject_rules()
  std::vector<Pending> counter_matches_;  // one per rules_->counter_rules()
  std::array<std::string_view, kMaxRuleLabels> labels_{};  // per-line scratch

  std::mutex request_mutex_;
  std::shared_ptr<const RuleSet> requested_;  // under request_mutex_
  std::atomic<bool> request_pending_{false};
};

// The LineRules of one log of the live pipeline (pipeline/log_pipeline.h): maps and counts into
// `counters` for the log's MTA, stamping series with the time SetNow() gave (each poll).
class CountingRules : public LineRules {
 public:
  CountingRules(RuleCounters& counters, std::string mta)
      : counters_(counters), mta_(std::move(mta)) {}
  void SetNow(std::int64_t now) { now_ = now; }
  RuleCounters& counters() { return counters_; }
  std::optional<RejectReason> MapReject(std::string_view reject_text) override {
    return counters_.MapReject(reject_text, mta_);
  }
  void OnLine(std::string_view line, std::int64_t /*timestamp*/) override {
    counters_.OnLine(mta_, line, now_);
  }

 private:
  RuleCounters& counters_;
  std::string mta_;
  std::int64_t now_ = 0;
};

}  // namespace mailrelay
