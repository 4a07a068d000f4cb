#include "classify/relay_classifier.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <string>

#include "mta/exim/log_parser.h"

namespace mailrelay {
namespace {

RelayPolicy DefaultPolicy() {
  RelayPolicy p;
  p.local_networks.Add("127.0.0.0/8");
  p.local_networks.Add("::1/128");
  p.local_networks.Add("198.51.100.10");  // "a local interface"
  p.ignore_users = {"mailnull", "Debian-exim", "exim"};
  return p;
}

struct ClassCase {
  const char* name;
  const char* line;
  bool ignored;
  RelayClass cls;
  IgnoreReason reason;
};

void PrintTo(const ClassCase& c, std::ostream* os) { *os << c.name; }

class ClassifyTest : public ::testing::TestWithParam<ClassCase> {};

TEST_P(ClassifyTest, Class) {
  RelayClassifier classifier(DefaultPolicy());
  EximLogParser parser;
  Event ev;
  ASSERT_EQ(ParseStatus::kOk, parser.Parse(GetParam().line, &ev));
  ASSERT_EQ(EventType::kArrival, ev.type);
  Classification c = classifier.Classify(ev);
  EXPECT_EQ(GetParam().ignored, c.ignored);
  if (GetParam().ignored) {
    EXPECT_EQ(IgnoreReasonName(GetParam().reason), IgnoreReasonName(c.ignore_reason));
  } else {
    EXPECT_EQ(RelayClassName(GetParam().cls), RelayClassName(c.relay_class));
  }
}

INSTANTIATE_TEST_SUITE_P(
    Lfd, ClassifyTest,
    ::testing::Values(
        ClassCase{"localrelay",
                  "2026-11-22 11:48:55 1xV63z-0004Fq-1m <= www-data@mx.example.test U=www-data "
                  "P=local S=356 for erin@example.com",
                  false,
                  RelayClass::kLocalRelay,
                  {}},
        ClassCase{"authrelay_any_authenticator",
                  "2024-01-01 00:00:00 1xV63t-0004DL-0K <= a@example.com H=(x) [203.0.113.5] "
                  "P=esmtpa A=auth_plain:a@example.com S=5",
                  false,
                  RelayClass::kAuthRelay,
                  {}},
        ClassCase{"authrelay_protocol_only",
                  "2024-01-01 00:00:00 1xV63t-0004DL-0K <= a@example.com H=(x) [203.0.113.5] "
                  "P=essmtpa S=5",
                  false,
                  RelayClass::kAuthRelay,
                  {}},
        ClassCase{"relay",
                  "2020-06-19 04:51:49 [123] 1jmFYj-00039V-QX <= noreply@test.corp "
                  "H=(test.corp) [2.2.2.2] P=smtp S=7386",
                  false,
                  RelayClass::kRelay,
                  {}},
        ClassCase{"relay_custom_protocol",
                  "2024-01-01 00:00:00 1xV63t-0004DL-0K <= a@example.com H=(x) [203.0.113.5] "
                  "P=smtps S=5",
                  false,
                  RelayClass::kRelay,
                  {}},
        ClassCase{"localhostrelay_unauthenticated",
                  "2026-11-22 11:48:49 1xV63t-0004DT-0s <= app@mx.example.test "
                  "H=(client.example.net) [127.0.0.1]:46887 I=[127.0.0.1]:2526 P=esmtp S=398",
                  false,
                  RelayClass::kLocalhostRelay,
                  {}},
        ClassCase{"localhostrelay_overrides_auth_like_lfd",
                  "2024-01-01 00:00:00 1xV63t-0004DL-0K <= a@example.com H=localhost "
                  "[127.0.0.1] P=esmtpa A=dovecot_login:a@example.com S=5",
                  false,
                  RelayClass::kLocalhostRelay,
                  {}},
        ClassCase{"localhostrelay_ipv6",
                  "2024-01-01 00:00:00 1xV63t-0004DL-0K <= a@example.com H=(x) [::1]:1234 "
                  "P=esmtp S=5",
                  false,
                  RelayClass::kLocalhostRelay,
                  {}},
        ClassCase{"localhostrelay_interface_address",
                  "2024-01-01 00:00:00 1xV63t-0004DL-0K <= a@example.com H=(x) "
                  "[198.51.100.10]:1234 P=esmtp S=5",
                  false,
                  RelayClass::kLocalhostRelay,
                  {}},
        ClassCase{"bounce_ignored",
                  "2020-06-19 04:54:02 1jmFas-0004f6-EB <= <> R=1jmFYj-00039V-QX U=Debian-exim "
                  "P=local S=8656",
                  true,
                  {},
                  IgnoreReason::kBounce},
        ClassCase{"ignored_user",
                  "2024-01-01 00:00:00 1jmFas-0004f6-EB <= mailnull@host U=mailnull P=local S=1",
                  true,
                  {},
                  IgnoreReason::kIgnoredUser},
        ClassCase{"unknown_source",
                  "2024-01-01 00:00:00 1jmFas-0004f6-EB <= a@b.c P=spam-scanned S=1",
                  true,
                  {},
                  IgnoreReason::kUnknownSource}),
    [](const auto& test_info) { return std::string(test_info.param.name); });

TEST(RelayClassifier, PoprelayFromRelayhostsFileAndReload) {
  char path[] = "/tmp/relayhostsXXXXXX";
  int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  close(fd);
  {
    std::ofstream out(path);
    out << "# POP-before-SMTP\n203.0.113.9\n";
  }
  RelayPolicy policy = DefaultPolicy();
  policy.relayhosts_files = {path, "/nonexistent/alwaysrelay"};
  RelayClassifier classifier(policy);
  EXPECT_EQ(1u, classifier.relayhosts_size());
  EximLogParser parser;
  Event ev;
  ASSERT_EQ(ParseStatus::kOk,
            parser.Parse("2024-01-01 00:00:00 1xV63t-0004DL-0K <= a@example.com H=(x) "
                         "[203.0.113.9] P=esmtp S=5",
                         &ev));
  EXPECT_EQ("poprelay", RelayClassName(classifier.Classify(ev).relay_class));

  // Authenticated from a relayhost stays authrelay.
  Event auth = ev;
  auth.authenticated = true;
  EXPECT_EQ("authrelay", RelayClassName(classifier.Classify(auth).relay_class));

  {
    std::ofstream out(path, std::ios::trunc);
    out << "203.0.113.99 203.0.113.98\n";
  }
  EXPECT_TRUE(classifier.MaybeReloadRelayhosts(100));
  EXPECT_EQ(2u, classifier.relayhosts_size());
  EXPECT_EQ("relay", RelayClassName(classifier.Classify(ev).relay_class));
  EXPECT_FALSE(classifier.MaybeReloadRelayhosts(100));  // within the same second
  std::remove(path);
}

TEST(SpoofRule, DomainAndLocalPartComparison) {
  EXPECT_FALSE(IsSpoofedSender("alice@mx.example.test", "alice@mx.example.test"));
  EXPECT_FALSE(IsSpoofedSender("alice@mx.example.test", "other@MX.example.test"));
  EXPECT_TRUE(IsSpoofedSender("alice@mx.example.test", "ceo@bank.example"));
  EXPECT_FALSE(IsSpoofedSender("www-data", "www-data@mx.example.test"));
  EXPECT_TRUE(IsSpoofedSender("www-data", "ceo@bank.example"));
  EXPECT_FALSE(IsSpoofedSender("", "ceo@bank.example"));
  EXPECT_FALSE(IsSpoofedSender("alice@x", ""));
  EXPECT_FALSE(IsSpoofedSender("alice@x", "unqualified"));
}

TEST(RelayClassifier, SpoofedAuthenticatedSubmission) {
  RelayClassifier classifier(DefaultPolicy());
  EximLogParser parser;
  Event ev;
  ASSERT_EQ(ParseStatus::kOk,
            parser.Parse("2026-11-22 11:48:49 1xV63t-0004DN-0a <= ceo@bank.example "
                         "H=(client.example.net) [192.0.2.2]:51135 P=esmtpsa "
                         "A=dovecot_plain:alice@mx.example.test S=443 for victim@example.com",
                         &ev));
  Classification c = classifier.Classify(ev);
  EXPECT_EQ("authrelay", RelayClassName(c.relay_class));
  EXPECT_TRUE(c.spoofed);
  EXPECT_EQ("alice@mx.example.test", c.identity);
}

}  // namespace
}  // namespace mailrelay
