// respond's policy (respond/policy.h): which label values are plausible accounts, and for
// which alerts respond holds, refuses (with the audited reason) or ignores.
#include "respond/policy.h"

#include <gtest/gtest.h>

namespace mailrelay::respond {
namespace {

TEST(RespondPolicy, PlausibleAccounts) {
  std::string why;
  for (const char* ok :
       {"bob", "bob@mx.example.test", "info@customer.example", "www-data", "_apt",
        "first.last+tag@sub.example.co.uk", "a=b~c%d@x", "u1", "carol@localhost"}) {
    EXPECT_TRUE(IsPlausibleAccount(ok, &why)) << ok << ": " << why;
  }
  const std::string long_one(255, 'a');
  for (const std::string& bad : {std::string(),
                                 long_one,
                                 std::string("__overflow__"),
                                 std::string("__other__"),
                                 std::string("bob smith"),
                                 std::string("bob\n"),
                                 std::string("bob\tx"),
                                 std::string("bob:x"),
                                 std::string("#bob"),
                                 std::string("-bob"),
                                 std::string(".bob"),
                                 std::string("bob@"),
                                 std::string("@example.com"),
                                 std::string("bob@exa mple.com"),
                                 std::string("bob@.example.com"),
                                 std::string("bob@example..com"),
                                 std::string("bob@example.com."),
                                 std::string("bob@-x.com"),
                                 std::string("a@b@c"),
                                 std::string("b\"ob"),
                                 std::string("bob'"),
                                 std::string("b\\ob"),
                                 std::string("../etc"),
                                 std::string("a/b"),
                                 std::string("b\xc3\xa9") /* non-ASCII */,
                                 std::string("bob$x"),
                                 std::string(1, '\0'),
                                 std::string("bob\0x", 5)}) {
    EXPECT_FALSE(IsPlausibleAccount(bad, &why)) << "'" << bad << "'";
    EXPECT_FALSE(why.empty());
  }
  EXPECT_TRUE(IsPlausibleAccount(std::string(254, 'a'), &why));
}

WebhookAlert Alert(std::map<std::string, std::string> labels, std::string status = "firing") {
  WebhookAlert a;
  a.status = std::move(status);
  a.labels = std::move(labels);
  return a;
}

PolicyOptions Options() {
  PolicyOptions o;
  o.alerts = {"MailRelayAuthrelayHigh", "MailRelayLocalrelayHigh"};
  o.never = {"root", "Debian-exim", "vip@example.com"};
  return o;
}

const std::map<std::string, std::string> kPage = {{"alertname", "MailRelayAuthrelayHigh"},
                                                  {"severity", "critical"},
                                                  {"instance", "mx1:9225"},
                                                  {"user", "bob@example.com"}};

std::map<std::string, std::string> With(std::string key, std::string value) {
  auto labels = kPage;
  labels[key] = std::move(value);
  return labels;
}

TEST(RespondPolicy, HoldsTheAccountOfAListedPage) {
  Decision d = Evaluate(Options(), Alert(kPage));
  EXPECT_EQ(Decision::Kind::kHold, d.kind) << d.detail;
  EXPECT_EQ("bob@example.com", d.account);
  d = Evaluate(Options(), Alert(With("alertname", "MailRelayLocalrelayHigh")));
  EXPECT_EQ(Decision::Kind::kHold, d.kind) << d.detail;
}

TEST(RespondPolicy, RefusalsAndTheirReasons) {
  struct Case {
    std::map<std::string, std::string> labels;
    std::string reason;
  };
  auto no_user = kPage;
  no_user.erase("user");
  const Case cases[] = {
      {With("alertname", "MailRelayAuthrelayIPHigh"), "alert_not_listed"},
      {With("alertname", "mailrelayauthrelayhigh"), "alert_not_listed"},  // names are exact
      {With("severity", "warning"), "severity"},
      {no_user, "no_account"},
      {With("user", "bob\nevil"), "implausible_account"},
      {With("user", "__overflow__"), "implausible_account"},
      {With("user", ""), "implausible_account"},
      {With("user", "root"), "never"},
      {With("user", "debian-EXIM"), "never"},  // ASCII case-insensitive
      {With("user", "VIP@example.com"), "never"},
  };
  for (const Case& c : cases) {
    Decision d = Evaluate(Options(), Alert(c.labels));
    EXPECT_EQ(Decision::Kind::kRefuse, d.kind) << c.reason;
    EXPECT_EQ(c.reason, d.reason) << d.detail;
    EXPECT_FALSE(d.detail.empty());
  }
}

TEST(RespondPolicy, InstanceAndSeverityFilters) {
  PolicyOptions o = Options();
  o.instances = {"mx2:9225", "mx3:9225"};
  Decision d = Evaluate(o, Alert(kPage));
  EXPECT_EQ("instance", d.reason);
  EXPECT_EQ(Decision::Kind::kHold, Evaluate(o, Alert(With("instance", "mx3:9225"))).kind);
  o.instances.clear();
  o.severity.clear();  // any tier
  EXPECT_EQ(Decision::Kind::kHold, Evaluate(o, Alert(With("severity", "warning"))).kind);
}

TEST(RespondPolicy, ResolvedAlertsAreIgnoredNotReleased) {
  Decision d = Evaluate(Options(), Alert(kPage, "resolved"));
  EXPECT_EQ(Decision::Kind::kIgnore, d.kind);
  EXPECT_EQ("resolved", d.reason);
  EXPECT_EQ("bob@example.com", d.account);
}

}  // namespace
}  // namespace mailrelay::respond
