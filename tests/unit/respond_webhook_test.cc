// Alertmanager webhook payloads (respond/webhook.h): a notification captured from the real
// Alertmanager of tests/e2e/respond_exim_e2e.sh (tests/fixtures/respond/), and what is refused.
#include "respond/webhook.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "status_matchers.h"

namespace mailrelay::respond {
namespace {

std::string Fixture(const std::string& name) {
  std::ifstream in(std::string(MAILRELAY_RESPOND_FIXTURES) + "/" + name);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST(RespondWebhook, RealAlertmanagerNotification) {
  std::string body = Fixture("alertmanager_v4_page.json");
  ASSERT_FALSE(body.empty());
  StatusOr<WebhookPayload> p = ParseWebhookPayload(body);
  ASSERT_TRUE(IsOk(p));
  EXPECT_EQ("4", p->version);
  EXPECT_EQ("firing", p->status);
  EXPECT_EQ("respond-mx1", p->receiver);  // contrib/respond/alertmanager.yml's receiver
  EXPECT_FALSE(p->group_key.empty());
  EXPECT_EQ(0, p->truncated_alerts);
  ASSERT_EQ(1u, p->alerts.size());
  const WebhookAlert& a = p->alerts[0];
  EXPECT_EQ("firing", a.status);
  EXPECT_EQ("MailRelayAuthrelayHigh", a.Label("alertname"));
  EXPECT_EQ("critical", a.Label("severity"));
  EXPECT_EQ("bob@mx.example.test", a.Label("user"));
  EXPECT_EQ("authrelay", a.Label("class"));
  EXPECT_FALSE(a.Label("instance").empty());
  EXPECT_EQ("", a.Label("no-such-label"));
  EXPECT_FALSE(a.fingerprint.empty());
  EXPECT_FALSE(a.starts_at.empty());
  EXPECT_NE(std::string::npos, a.annotations.at("runbook_url").find("#mailrelayauthrelayhigh"));
  EXPECT_NE(std::string::npos, a.annotations.at("description").find("(page limit 40)"));
  EXPECT_EQ("2026-12-02T00:50:58.52Z", a.starts_at);  // Alertmanager trims trailing zeros
}

TEST(RespondWebhook, MinimalAndResolved) {
  StatusOr<WebhookPayload> p = ParseWebhookPayload(
      R"({"version":"4","status":"resolved","alerts":[{"status":"resolved","labels":{"a":"b"}}],
          "extra":{"ignored":[1,2,{"x":null}]}})");
  ASSERT_TRUE(IsOk(p));
  EXPECT_EQ("resolved", p->status);
  ASSERT_EQ(1u, p->alerts.size());
  EXPECT_EQ("b", p->alerts[0].Label("a"));
  EXPECT_TRUE(p->alerts[0].annotations.empty());
  p = ParseWebhookPayload(R"({"version":"4","status":"firing","alerts":[]})");
  ASSERT_TRUE(IsOk(p));
  EXPECT_TRUE(p->alerts.empty());
}

TEST(RespondWebhook, RefusedPayloadsSayWhy) {
  struct Case {
    const char* body;
    const char* error;
  };
  const Case cases[] = {
      {"", "unexpected end of JSON"},
      {"[]", "not a JSON object"},
      {R"({"status":"firing","alerts":[]})", "no version"},
      {R"({"version":"3","status":"firing","alerts":[]})", "version \"3\" is not 4"},
      {R"({"version":4,"status":"firing","alerts":[]})", "no version"},
      {R"({"version":"4","status":"pending","alerts":[]})", "status is not firing or resolved"},
      {R"({"version":"4","status":"firing"})", "no alerts array"},
      {R"({"version":"4","status":"firing","alerts":{}})", "no alerts array"},
      {R"({"version":"4","status":"firing","alerts":[1]})", "alerts[0] is not an object"},
      {R"({"version":"4","status":"firing","alerts":[{"labels":{}}]})",
       "alerts[0].status is not firing or resolved"},
      {R"({"version":"4","status":"firing","alerts":[{"status":"firing"}]})",
       "alerts[0].labels is missing"},
      {R"({"version":"4","status":"firing","alerts":[{"status":"firing","labels":{"user":1}}]})",
       "alerts[0].labels.user is not a string"},
      {R"({"version":"4","status":"firing","alerts":[{"status":"firing","labels":[]}]})",
       "alerts[0].labels is not an object"},
      {R"({"version":"4","status":"firing","alerts":[{"status":"firing","labels":{},
           "annotations":{"a":true}}]})",
       "alerts[0].annotations.a is not a string"},
      {R"({"version":"4","status":"firing","alerts":[]} x)", "trailing characters"},
  };
  for (const Case& c : cases) {
    StatusOr<WebhookPayload> p = ParseWebhookPayload(c.body);
    ASSERT_FALSE(p.ok()) << c.body;
    EXPECT_NE(std::string::npos, p.status().message().find(c.error))
        << c.body << " -> " << p.status().message();
  }
}

TEST(RespondWebhook, AlertCountIsBounded) {
  std::string body = R"({"version":"4","status":"firing","alerts":[)";
  for (std::size_t i = 0; i <= kMaxWebhookAlerts; ++i) {
    body += std::string(i > 0 ? "," : "") + R"({"status":"firing","labels":{}})";
  }
  body += "]}";
  StatusOr<WebhookPayload> p = ParseWebhookPayload(body);
  ASSERT_FALSE(p.ok());
  EXPECT_NE(std::string::npos, p.status().message().find("more than 1000 alerts"));
}

TEST(RespondWebhook, LabelBytesAreKeptAsSent) {
  // Escapes decode; the policy, not the parser, decides what a plausible account is.
  StatusOr<WebhookPayload> p =
      ParseWebhookPayload(R"({"version":"4","status":"firing","alerts":[{"status":"firing",)"
                          R"("labels":{"user":"bob\nevil\u00e9"}}]})");
  ASSERT_TRUE(IsOk(p));
  EXPECT_EQ("bob\nevil\xc3\xa9", p->alerts[0].Label("user"));
}

}  // namespace
}  // namespace mailrelay::respond
