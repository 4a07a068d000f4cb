// respond's own metrics (docs/metrics.md, "respond"), served on its /metrics:
//   mailrelay_respond_notifications_total{result}       webhook POSTs: accepted, bad_request,
//                                                       overloaded
//   mailrelay_respond_actions_total{action,result}      hold/release: done, dry_run, unchanged,
//                                                       failed, refused
//   mailrelay_respond_refusals_total{reason}            policy.h's kRefusalReasons
//   mailrelay_respond_audit_errors_total                audit records that could not be written
//   mailrelay_respond_last_action_timestamp_seconds     last hold or release that ran (or, in
//                                                       dry-run, would have run) anything
//   mailrelay_respond_held_accounts                     entries of the hold list
//   mailrelay_respond_account_held_since_seconds{user}  one per held account (bounded by the
//                                                       list, itself bounded by the hourly cap)
// Every label value of the first four families is exported at 0 from the start. The last two
// are read from the hold list at each scrape, so `respond release` (another process) shows at
// once.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <prometheus/collectable.h>
#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

#include "respond/hold_list.h"

namespace mailrelay::respond {

inline constexpr const char* kActionResults[] = {"done", "dry_run", "unchanged", "failed",
                                                 "refused"};

class RespondMetrics : public prometheus::Collectable {
 public:
  // `held` lists the held accounts at each scrape (an error: the held families are left out).
  explicit RespondMetrics(std::function<StatusOr<std::vector<HoldEntry>>()> held);

  void Notification(const std::string& result);
  void Action(const std::string& action, const std::string& result);
  void Refusal(const std::string& reason);
  void AuditError();
  void LastAction(std::int64_t unix_seconds);

  std::vector<prometheus::MetricFamily> Collect() const override;
  // For other families served beside these (the SIGHUP reload's mailrelay_config_*).
  prometheus::Registry& registry() { return *registry_; }

 private:
  std::function<StatusOr<std::vector<HoldEntry>>()> held_;
  std::shared_ptr<prometheus::Registry> registry_;
  prometheus::Family<prometheus::Counter>* notifications_;
  prometheus::Family<prometheus::Counter>* actions_;
  prometheus::Family<prometheus::Counter>* refusals_;
  prometheus::Counter* audit_errors_;
  prometheus::Gauge* last_action_;
};

}  // namespace mailrelay::respond
