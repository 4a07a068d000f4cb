// MailMetrics as an EventSink: every event kind lands in its documented family
// (docs/metrics.md), batched until Flush(), per-key series stamped with SetNow() and expired.
#include "metrics/mail_metrics.h"

#include <gtest/gtest.h>

#include <string>

#include <prometheus/registry.h>

namespace mailrelay {
namespace {

class MailMetricsTest : public ::testing::Test {
 protected:
  double Value(const std::string& family, const prometheus::Labels& labels = {}) {
    for (const auto& f : registry_->Collect()) {
      if (f.name != family) continue;
      for (const auto& m : f.metric) {
        bool match = true;
        for (const auto& [name, value] : labels) {
          bool found = false;
          for (const auto& l : m.label) found = found || (l.name == name && l.value == value);
          match = match && found;
        }
        if (match) {
          return f.type == prometheus::MetricType::Counter ? m.counter.value : m.gauge.value;
        }
      }
    }
    return -1;  // missing series: distinct from 0
  }

  std::shared_ptr<prometheus::Registry> registry_ = std::make_shared<prometheus::Registry>();
};

TEST_F(MailMetricsTest, EveryEventKindHasItsFamily) {
  MailMetrics m(registry_, BoundedLimits{}, BuildInfo{"1.0", "abc"});
  EXPECT_EQ(1, Value("mailrelay_build_info", {{"version", "1.0"}, {"revision", "abc"}}));
  Event arrival;
  arrival.type = EventType::kArrival;
  arrival.client_ip = "192.0.2.7";
  arrival.auth_id = "bob@x.test";
  arrival.sender = "ceo@bank.test";
  arrival.recipients = 3;
  arrival.size_bytes = 1000;
  Classification c;
  c.relay_class = RelayClass::kAuthRelay;
  c.spoofed = true;
  c.identity = "bob@x.test";
  m.OnArrival(arrival, c);

  Event local = arrival;
  local.client_ip = {};
  local.auth_id = {};
  local.local_user = "www-data";
  local.recipients = 1;
  Classification lc;
  lc.relay_class = RelayClass::kLocalRelay;
  m.OnArrival(local, lc);

  Event bounce;
  bounce.type = EventType::kArrival;
  bounce.locally_generated_bounce = true;
  Classification ignored;
  ignored.ignored = true;
  ignored.ignore_reason = IgnoreReason::kBounce;
  m.OnArrival(bounce, ignored);

  Event d;
  d.type = EventType::kDelivery;
  for (DeliveryResult r :
       {DeliveryResult::kDelivered, DeliveryResult::kDelivered, DeliveryResult::kDeferred,
        DeliveryResult::kDeferredRetryWait, DeliveryResult::kFailed}) {
    d.delivery = r;
    m.OnDelivery(d);
  }
  m.OnCompleted(d);
  m.OnFrozen(d);
  Event reject;
  reject.type = EventType::kReject;
  reject.reject_reason = RejectReason::kRbl;
  reject.client_ip = "203.0.113.9";
  m.OnReject(reject);
  Event fail;
  fail.type = EventType::kAuthFailure;
  fail.client_ip = "203.0.113.10";
  fail.auth_id = "admin";
  m.OnAuthFailure(fail);
  fail.authenticator = "login";
  m.OnAuthFailure(fail);

  // Batched: nothing shows before Flush().
  EXPECT_EQ(0, Value("mailrelay_messages_received_total", {{"class", "authrelay"}}));
  m.Flush();
  EXPECT_EQ(1, Value("mailrelay_messages_received_total", {{"class", "authrelay"}}));
  EXPECT_EQ(3, Value("mailrelay_recipients_received_total", {{"class", "authrelay"}}));
  EXPECT_EQ(1000, Value("mailrelay_received_bytes_total", {{"class", "authrelay"}}));
  EXPECT_EQ(1, Value("mailrelay_spoofed_messages_total", {{"class", "authrelay"}}));
  EXPECT_EQ(1, Value("mailrelay_messages_received_total", {{"class", "localrelay"}}));
  EXPECT_EQ(0, Value("mailrelay_messages_received_total", {{"class", "relay"}}));
  EXPECT_EQ(1, Value("mailrelay_messages_ignored_total", {{"reason", "bounce"}}));
  EXPECT_EQ(1, Value("mailrelay_bounces_generated_total"));
  EXPECT_EQ(3, Value("mailrelay_auth_user_recipients_total", {{"user", "bob@x.test"}}));
  EXPECT_EQ(1, Value("mailrelay_source_ip_messages_total",
                     {{"class", "authrelay"}, {"ip", "192.0.2.7"}}));
  EXPECT_EQ(1, Value("mailrelay_local_user_messages_total", {{"user", "www-data"}}));
  EXPECT_EQ(1, Value("mailrelay_spoofed_user_messages_total", {{"user", "bob@x.test"}}));
  EXPECT_EQ(2, Value("mailrelay_deliveries_total", {{"result", "delivered"}}));
  EXPECT_EQ(1, Value("mailrelay_deliveries_total", {{"result", "deferred"}}));
  EXPECT_EQ(1, Value("mailrelay_deliveries_total", {{"result", "failed"}}));
  EXPECT_EQ(1, Value("mailrelay_deliveries_retry_wait_total"));
  EXPECT_EQ(1, Value("mailrelay_messages_completed_total"));
  EXPECT_EQ(1, Value("mailrelay_messages_frozen_total"));
  EXPECT_EQ(1, Value("mailrelay_rejects_total", {{"reason", "rbl"}}));
  EXPECT_EQ(0, Value("mailrelay_rejects_total", {{"reason", "other"}}));
  EXPECT_EQ(1, Value("mailrelay_reject_ip_total", {{"reason", "rbl"}, {"ip", "203.0.113.9"}}));
  EXPECT_EQ(1, Value("mailrelay_auth_failures_total", {{"authenticator", "unknown"}}));
  EXPECT_EQ(1, Value("mailrelay_auth_failures_total", {{"authenticator", "login"}}));
  EXPECT_EQ(2, Value("mailrelay_auth_failure_ip_total", {{"ip", "203.0.113.10"}}));
  EXPECT_EQ(2, Value("mailrelay_auth_failure_user_total", {{"user", "admin"}}));
}

TEST_F(MailMetricsTest, PerKeySeriesExpireByTheTimeOfTheirLastEvent) {
  BoundedLimits limits;
  limits.idle_timeout_seconds = 100;
  MailMetrics m(registry_, limits, BuildInfo{"v", "r"});
  Event ev;
  ev.type = EventType::kArrival;
  ev.auth_id = "old";
  Classification c;
  c.relay_class = RelayClass::kAuthRelay;
  m.SetNow(1000);
  m.OnArrival(ev, c);
  ev.auth_id = "new";
  m.SetNow(1090);
  m.OnArrival(ev, c);
  m.Flush();
  m.Expire(1150);  // "old" idle for 150 s, "new" for 60 s
  EXPECT_EQ(-1, Value("mailrelay_auth_user_messages_total", {{"user", "old"}}));
  EXPECT_EQ(1, Value("mailrelay_auth_user_messages_total", {{"user", "new"}}));
  EXPECT_EQ(2, Value("mailrelay_messages_received_total", {{"class", "authrelay"}}));
}

}  // namespace
}  // namespace mailrelay
