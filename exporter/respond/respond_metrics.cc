#include "respond/respond_metrics.h"

#include "common/text.h"
#include "respond/policy.h"

namespace mailrelay::respond {

RespondMetrics::RespondMetrics(std::function<StatusOr<std::vector<HoldEntry>>()> held)
    : held_(std::move(held)), registry_(std::make_shared<prometheus::Registry>()) {
  notifications_ = &prometheus::BuildCounter()
                        .Name("mailrelay_respond_notifications_total")
                        .Help(
                            "Alertmanager webhook notifications received, by result: "
                            "accepted, bad_request (not a version 4 payload), overloaded "
                            "(503: too many waiting).")
                        .Register(*registry_);
  for (const char* r : {"accepted", "bad_request", "overloaded"})
    notifications_->Add({{"result", r}});
  actions_ = &prometheus::BuildCounter()
                  .Name("mailrelay_respond_actions_total")
                  .Help(
                      "Holds of an account's mail (and releases by `respond release`, counted "
                      "by that process), by result: done, dry_run, unchanged (held already), "
                      "failed, refused.")
                  .Register(*registry_);
  for (const char* a : {"hold", "release"}) {
    for (const char* r : kActionResults) actions_->Add({{"action", a}, {"result", r}});
  }
  refusals_ = &prometheus::BuildCounter()
                   .Name("mailrelay_respond_refusals_total")
                   .Help("Alerts respond refused to act on, by reason (each one is audited).")
                   .Register(*registry_);
  for (std::string_view r : kRefusalReasons) refusals_->Add({{"reason", std::string(r)}});
  audit_errors_ = &prometheus::BuildCounter()
                       .Name("mailrelay_respond_audit_errors_total")
                       .Help("Audit records that could not be written to --respond.audit-log.")
                       .Register(*registry_)
                       .Add({});
  last_action_ = &prometheus::BuildGauge()
                      .Name("mailrelay_respond_last_action_timestamp_seconds")
                      .Help(
                          "Unix time of the last hold or release that ran commands or changed "
                          "files (in dry-run: that would have); 0 before the first.")
                      .Register(*registry_)
                      .Add({});
}

void RespondMetrics::Notification(const std::string& result) {
  notifications_->Add({{"result", result}}).Increment();
}

void RespondMetrics::Action(const std::string& action, const std::string& result) {
  actions_->Add({{"action", action}, {"result", result}}).Increment();
}

void RespondMetrics::Refusal(const std::string& reason) {
  refusals_->Add({{"reason", reason}}).Increment();
}

void RespondMetrics::AuditError() { audit_errors_->Increment(); }

void RespondMetrics::LastAction(std::int64_t unix_seconds) {
  last_action_->Set(static_cast<double>(unix_seconds));
}

std::vector<prometheus::MetricFamily> RespondMetrics::Collect() const {
  std::vector<prometheus::MetricFamily> families = registry_->Collect();
  StatusOr<std::vector<HoldEntry>> held =
      held_ ? held_() : StatusOr<std::vector<HoldEntry>>(std::vector<HoldEntry>{});
  if (!held.ok()) return families;
  prometheus::MetricFamily count;
  count.name = "mailrelay_respond_held_accounts";
  count.help = "Accounts in the hold list (--respond.hold-list), whose new mail the MTA holds.";
  count.type = prometheus::MetricType::Gauge;
  prometheus::ClientMetric total;
  total.gauge.value = static_cast<double>(held->size());
  count.metric.push_back(std::move(total));
  families.push_back(std::move(count));
  prometheus::MetricFamily since;
  since.name = "mailrelay_respond_account_held_since_seconds";
  since.help =
      "Unix time since which an account's mail is held (0 for a line an admin added without "
      "since=); one series per held account.";
  since.type = prometheus::MetricType::Gauge;
  for (const HoldEntry& e : *held) {
    prometheus::ClientMetric m;
    m.label.push_back({"user", SanitizeLabelValue(e.account)});
    m.gauge.value = static_cast<double>(e.since);
    since.metric.push_back(std::move(m));
  }
  families.push_back(std::move(since));
  return families;
}

}  // namespace mailrelay::respond
