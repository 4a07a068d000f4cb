// Parser tests over real Exim lines: Appendix A of shared/docs/classification.md (Exim 4.96
// generated on loopback), the exim-exporter, fail2ban, crowdsec and Exim test-suite corpora.
#include "mta/exim/log_parser.h"

#include <gtest/gtest.h>

#include <string>

namespace mailrelay {
namespace {

// Takes a view: callers pass string literals, whose storage outlives the returned Event's views.
Event ParseOk(std::string_view line) {
  EximLogParser parser;
  Event ev;
  EXPECT_EQ(ParseStatus::kOk, parser.Parse(line, &ev)) << line;
  return ev;
}

TEST(EximLogParser, AuthenticatedArrivalWithAllFields) {
  Event ev = ParseOk(
      "2026-11-22 11:48:49 1xV63t-0004DL-0K <= alice@mx.example.test H=(client.example.net) "
      "[127.0.0.2]:35645 I=[127.0.0.1]:2526 P=esmtpsa "
      "X=TLS1.3:ECDHE_X25519__RSA_PSS_RSAE_SHA256__AES_256_GCM:256 CV=no "
      "A=dovecot_plain:alice@mx.example.test S=448 RT=0s T=\"auth relay\" from "
      "<alice@mx.example.test> for bob@example.com carol@example.org");
  EXPECT_EQ(EventType::kArrival, ev.type);
  EXPECT_EQ("1xV63t-0004DL-0K", ev.message_id);
  EXPECT_EQ("alice@mx.example.test", ev.sender);
  EXPECT_EQ("127.0.0.2", ev.client_ip);
  EXPECT_EQ("esmtpsa", ev.protocol);
  EXPECT_TRUE(ev.authenticated);
  EXPECT_EQ("dovecot_plain", ev.authenticator);
  EXPECT_EQ("alice@mx.example.test", ev.auth_id);
  EXPECT_EQ(448u, ev.size_bytes);
  EXPECT_EQ(2u, ev.recipients);
  EXPECT_FALSE(ev.null_sender);
  EXPECT_FALSE(ev.local_submission);
}

TEST(EximLogParser, LocalSubmission) {
  Event ev = ParseOk(
      "2026-11-22 11:48:55 1xV63z-0004Fq-1m <= www-data@mx.example.test U=www-data P=local "
      "S=356 RT=0s id*=E1xV63z-0004Fq-1m@mx.example.test T=\"from php script\" from "
      "<www-data@mx.example.test> for erin@example.com bob@mx.example.test");
  EXPECT_EQ(EventType::kArrival, ev.type);
  EXPECT_TRUE(ev.local_submission);
  EXPECT_EQ("www-data", ev.local_user);
  EXPECT_TRUE(ev.client_ip.empty());
  EXPECT_FALSE(ev.authenticated);
  EXPECT_EQ(2u, ev.recipients);
}

TEST(EximLogParser, DebianMinimalSelectorCountsOneRecipient) {
  // exim-exporter corpus: Debian default log_selector, [pid] token, no " for ".
  Event ev = ParseOk(
      "2020-06-19 04:51:49 [123] 1jmFYj-00039V-QX <= noreply@test.corp H=(test.corp) "
      "[2.2.2.2] P=smtp S=7386");
  EXPECT_EQ(EventType::kArrival, ev.type);
  EXPECT_EQ("2.2.2.2", ev.client_ip);
  EXPECT_EQ(1u, ev.recipients);
  EXPECT_EQ(7386u, ev.size_bytes);
  EXPECT_EQ("1jmFYj-00039V-QX", ev.message_id);
}

TEST(EximLogParser, LocallyGeneratedBounce) {
  Event ev = ParseOk(
      "2020-06-19 04:54:02 1jmFas-0004f6-EB <= <> R=1jmFYj-00039V-QX U=Debian-exim P=local "
      "S=8656");
  EXPECT_TRUE(ev.null_sender);
  EXPECT_TRUE(ev.locally_generated_bounce);
  EXPECT_EQ("Debian-exim", ev.local_user);
}

TEST(EximLogParser, InboundBounceIsNotGeneratedHere) {
  Event ev = ParseOk(
      "2026-11-22 11:48:49 1xV63t-0004DY-1X <= <> H=(client.example.net) [127.0.0.2]:45313 "
      "I=[127.0.0.1]:2526 P=esmtp S=348 RT=0s T=\"inbound bounce\" from <> for "
      "bob@mx.example.test");
  EXPECT_TRUE(ev.null_sender);
  EXPECT_FALSE(ev.locally_generated_bounce);
  EXPECT_EQ("127.0.0.2", ev.client_ip);
}

TEST(EximLogParser, NewMessageIdFormatAndTestsuiteAuth) {
  Event ev = ParseOk(
      "1999-03-02 09:44:33 10HmaY-000000005vi-0000 <= CALLER@the.local.host.name H=localhost "
      "(the.local.host.name) [127.0.0.1] P=esmtpsa L. X=TLS1.x:ke-RSA-AES256-SHAnnn:xxx "
      "A=plain:userx S=sss id=E10HmaX-000000005vi-0000@the.local.host.name for nocache@test.ex");
  EXPECT_EQ("10HmaY-000000005vi-0000", ev.message_id);
  EXPECT_EQ("127.0.0.1", ev.client_ip);
  EXPECT_EQ("plain", ev.authenticator);
  EXPECT_EQ("userx", ev.auth_id);
  EXPECT_EQ(0u, ev.size_bytes);  // S=sss (munged) is not a size
  EXPECT_EQ(1u, ev.recipients);
}

TEST(EximLogParser, AuthenticatorWithoutIdStillAuthenticated) {
  Event ev = ParseOk(
      "1999-03-02 09:44:33 10HmaX-000000005vi-0000 <= userx@test.ex H=(rhu.barb) [10.0.0.0] "
      "U=CALLER P=esmtpa A=plain S=sss");
  EXPECT_TRUE(ev.authenticated);
  EXPECT_EQ("plain", ev.authenticator);
  EXPECT_TRUE(ev.auth_id.empty());
  EXPECT_FALSE(ev.local_submission);
}

TEST(EximLogParser, TimezoneTokenAndMillis) {
  EximLogParser parser;
  Event ev;
  ASSERT_EQ(ParseStatus::kOk,
            parser.Parse("2020-06-13 17:55:20 +0200 1jmFYj-00039V-QX <= a@b.c H=[1.2.3.4] P=smtp "
                         "S=1",
                         &ev));
  EXPECT_EQ(EventType::kArrival, ev.type);
  EXPECT_EQ(1592063720, ev.timestamp);  // 15:55:20 UTC
  ASSERT_EQ(ParseStatus::kOk,
            parser.Parse("2020-06-13 15:55:20.123 -0000 1jmFYj-00039V-QX Completed", &ev));
  EXPECT_EQ(EventType::kCompleted, ev.type);
  EXPECT_EQ(1592063720, ev.timestamp);
}

TEST(EximLogParser, QuotedFieldsHideForAndFields) {
  // A subject containing " for x@y " and "A=" must not be read as fields (lfd quirk 1.5.4).
  Event ev = ParseOk(
      "2026-11-22 11:48:49 1xV63t-0004DL-0K <= a@example.com H=(h) [192.0.2.1] P=esmtp "
      "DN=\"CN=x \\\"A=plain:evil\\\"\" S=10 T=\"offer for you@x.com A=plain:evil\" from "
      "<a@example.com> for r1@example.net");
  EXPECT_FALSE(ev.authenticated);
  EXPECT_EQ(1u, ev.recipients);
  EXPECT_EQ(10u, ev.size_bytes);
}

TEST(EximLogParser, HostWithHeloContainingSpacesAndBracketHelo) {
  Event ev = ParseOk(
      "2024-01-01 00:00:00 1xV63t-0004DL-0K <= a@example.com H=mail.example.com "
      "([10.9.9.9] my helo) [203.0.113.7]:2525 P=esmtp S=5");
  EXPECT_EQ("203.0.113.7", ev.client_ip);
  EXPECT_EQ(5u, ev.size_bytes);
}

TEST(EximLogParser, Ipv6Client) {
  Event ev = ParseOk(
      "2024-01-01 00:00:00 1xV63t-0004DL-0K <= a@example.com H=(x) [2001:db8::1]:587 "
      "P=esmtpsa A=dovecot_login:a@example.com S=5");
  EXPECT_EQ("2001:db8::1", ev.client_ip);
}

TEST(EximLogParser, SyslogWrappedLine) {
  EximLogParser parser;
  parser.SetReferenceTime(1656547200);  // 2022-06-30
  Event ev;
  ASSERT_EQ(ParseStatus::kOk,
            parser.Parse("Jun 29 16:04:05 server exim[1234]: dovecot_plain authenticator failed "
                         "for (mail.test.com) [202.137.142.181]:47807: 535 Incorrect "
                         "authentication data (set_id=dave)",
                         &ev));
  EXPECT_EQ(EventType::kAuthFailure, ev.type);
  EXPECT_EQ("dovecot_plain", ev.authenticator);
  EXPECT_EQ("202.137.142.181", ev.client_ip);
  EXPECT_EQ("dave", ev.auth_id);
  EXPECT_NE(0, ev.timestamp);

  ASSERT_EQ(ParseStatus::kOk,
            parser.Parse("2024-03-21T09:18:51.123+01:00 mx exim4[77]: 2024-03-21 09:18:51 "
                         "1rZeE0-00GmsY-CG <= a@b.example H=(x) [198.51.100.2] P=esmtp S=1",
                         &ev));
  EXPECT_EQ(EventType::kArrival, ev.type);
  EXPECT_EQ("198.51.100.2", ev.client_ip);
}

TEST(EximLogParser, SyslogSplitContinuationIsIgnored) {
  EximLogParser parser;
  Event ev;
  ASSERT_EQ(ParseStatus::kOk,
            parser.Parse("Jun 29 16:04:05 server exim[1234]: [2/2] for a@b.c d@e.f", &ev));
  EXPECT_EQ(EventType::kNone, ev.type);
  ASSERT_EQ(ParseStatus::kOk,
            parser.Parse("Jun 29 16:04:05 server exim[1234]: [1/2] 1xV63t-0004DL-0K <= a@b.c "
                         "H=(x) [192.0.2.9] P=esmtp S=1",
                         &ev));
  EXPECT_EQ(EventType::kArrival, ev.type);
  EXPECT_EQ("192.0.2.9", ev.client_ip);
}

struct DeliveryCase {
  const char* line;
  DeliveryResult result;
};

// Test listings (and ctest's test names) print the case, not its bytes.
void PrintTo(const DeliveryCase& c, std::ostream* os) {
  *os << "result " << static_cast<int>(c.result);
}

class EximDeliveryTest : public ::testing::TestWithParam<DeliveryCase> {};

TEST_P(EximDeliveryTest, Result) {
  Event ev = ParseOk(GetParam().line);
  EXPECT_EQ(EventType::kDelivery, ev.type);
  EXPECT_EQ(GetParam().result, ev.delivery);
}

INSTANTIATE_TEST_SUITE_P(
    RealLines, EximDeliveryTest,
    ::testing::Values(
        DeliveryCase{"2026-11-22 11:50:18 1xV65K-0004Vn-1m => :blackhole: <bob@mx.example.test> "
                     "R=localuser",
                     DeliveryResult::kDelivered},
        DeliveryCase{"1999-03-02 09:44:33 10HmaX-000000005vi-0000 -> userx@test.ex R=r1 T=t1",
                     DeliveryResult::kDelivered},
        DeliveryCase{"1999-03-02 09:44:33 10HmaX-000000005vi-0000 >> userx@test.ex R=all "
                     "T=smtp H=127.0.0.1 [127.0.0.1] C=\"250 OK\"",
                     DeliveryResult::kDelivered},
        DeliveryCase{"2026-11-22 11:49:53 1xV64o-0004Rx-1A == erin@example.com R=remote "
                     "T=remote_smtp defer (111): Connection refused DT=0s",
                     DeliveryResult::kDeferred},
        DeliveryCase{"2026-11-22 11:50:18 1xV65K-0004Vn-1m == frank@example.com R=remote "
                     "T=remote_smtp defer (-54) DT=0s: retry time not reached for any host for "
                     "'example.com'",
                     DeliveryResult::kDeferredRetryWait},
        DeliveryCase{"2026-11-22 11:50:18 1xV65K-0004Vk-1k ** ghost3@mx.example.test "
                     "F=<nobody3@mx.example.test>: Unrouteable address DT=0s",
                     DeliveryResult::kFailed}));

TEST(EximLogParser, CompletedAndFrozen) {
  EXPECT_EQ(EventType::kCompleted,
            ParseOk("2026-11-22 11:50:18 1xV65K-0004Vk-1k Completed QT=0s").type);
  EXPECT_EQ(EventType::kFrozen,
            ParseOk("2020-06-19 04:54:02 1jmFas-0004f6-EB Frozen (delivery error message)").type);
  EXPECT_EQ(EventType::kFrozen,
            ParseOk("1999-03-02 09:44:33 10HmaX-000000005vi-0000 frozen by root").type);
  // The skip notice repeats on every queue run: not a new freeze.
  EXPECT_EQ(EventType::kNone,
            ParseOk("2026-11-22 11:49:53 1xV64o-0004S6-1F Message is frozen").type);
  EXPECT_EQ(EventType::kNone, ParseOk("2026-11-22 11:49:53 Start queue run: pid=17219 -qf").type);
}

struct RejectCase {
  const char* line;
  RejectReason reason;
  const char* ip;
};

void PrintTo(const RejectCase& c, std::ostream* os) { *os << "ip " << c.ip; }

class EximRejectTest : public ::testing::TestWithParam<RejectCase> {};

TEST_P(EximRejectTest, ReasonAndIp) {
  Event ev = ParseOk(GetParam().line);
  ASSERT_EQ(EventType::kReject, ev.type) << GetParam().line;
  EXPECT_EQ(RejectReasonName(GetParam().reason), RejectReasonName(ev.reject_reason));
  EXPECT_EQ(std::string(GetParam().ip), ev.client_ip);
}

INSTANTIATE_TEST_SUITE_P(
    RealLines, EximRejectTest,
    ::testing::Values(
        RejectCase{"2026-11-22 11:48:49 H=(client.example.net) [127.0.0.2]:60863 "
                   "I=[127.0.0.1]:2526 F=<spammer@example.net> rejected RCPT "
                   "<victim@example.com>: relay not permitted",
                   RejectReason::kRelayDenied, "127.0.0.2"},
        RejectCase{"2013-06-10 18:33:32 [10099] H=(yakult.com.tw) [202.132.70.178]:3755 "
                   "I=[1.2.3.4]:25 F=menacedsj04@listserv.eurasia.org rejected RCPT dir@ml3.ru: "
                   "relay not permitted",
                   RejectReason::kRelayDenied, "202.132.70.178"},
        RejectCase{"2013-06-15 11:19:33 [2249] H=([2.181.148.95]) [2.181.148.95]:52391 "
                   "I=[1.2.3.4]:25 F=fantasizesg4@google.com rejected RCPT some@email.com: "
                   "rejected found in dnsbl zen.spamhaus.org",
                   RejectReason::kRbl, "2.181.148.95"},
        RejectCase{"2022-06-29 15:33:46 H=test.com [1.2.3.4]:53343 F=<info@test.com> rejected "
                   "RCPT <toto@toto.com>: \"JunkMail rejected - test.com [1.2.3.4]:53343 is in "
                   "an RBL: https://www.spamhaus.org/sbl/query/SBLCSS\"",
                   RejectReason::kRbl, "1.2.3.4"},
        RejectCase{"2022-06-29 15:35:46 H=test.sa.com [1.2.3.4]:18146 temporarily rejected "
                   "connection in \"connect\" ACL: \"Host is ratelimited (1.9/1h max:1.2)\"",
                   RejectReason::kRatelimit, "1.2.3.4"},
        RejectCase{"2022-06-29 14:34:58 H=imfo.test.biz [1.2.3.4]:35328 "
                   "X=TLS1.2:ECDHE-RSA-AES256-GCM-SHA384:256 CV=no F=<jack@test.biz> rejected "
                   "RCPT <sales@toto.com.au>: No Such User Here",
                   RejectReason::kUnrouteable, "1.2.3.4"},
        RejectCase{"2020-06-13 13:55:20 SMTP protocol synchronization error (next input sent "
                   "too soon: pipelining was not advertised): rejected",
                   RejectReason::kSyntax, ""},
        RejectCase{"2013-06-02 09:22:06 SMTP call from [192.0.2.109] dropped: too many syntax "
                   "or protocol errors (last command was \"AUTH LOGIN\")",
                   RejectReason::kSyntax, "192.0.2.109"},
        RejectCase{"1999-03-02 09:44:33 H=(test) [V4NET.11.12.13] U=CALLER F=<x@y> rejected "
                   "RCPT <x@y>: DNSLIST (rbl.test.ex: This is a test blacklisting message)",
                   RejectReason::kRbl, "V4NET.11.12.13"},
        RejectCase{"2013-06-09 10:21:28 [14127] 1UlasQ-0003fr-45 F=mcorporation4@aol.com "
                   "H=(mail38.fssprus.ru) [46.254.240.82]:43671 I=[1.2.3.4]:25 P=esmtp rejected "
                   "by local_scan(): Rejected",
                   RejectReason::kOther, "46.254.240.82"},
        RejectCase{"2026-11-22 11:50:35 H=(client.example.net) [127.0.0.2]:55667 "
                   "I=[127.0.0.1]:2536 F=<alice@mx.example.test> "
                   "A=dovecot_plain:alice@mx.example.test rejected RCPT <zed@example.com>",
                   RejectReason::kOther, "127.0.0.2"}));

TEST(EximLogParser, HostAndTagPrefixes) {
  // fail2ban corpus: a syslog template with no time, and one written after Exim's timestamp.
  Event ev = ParseOk(
      "mail.example.com exim[3751842]: 2021-07-17 23:20:49 plain_server authenticator failed "
      "for ([192.0.2.17]) [192.0.2.27]: 535 Incorrect authentication data");
  EXPECT_EQ(EventType::kAuthFailure, ev.type);
  EXPECT_EQ("192.0.2.27", ev.client_ip);
  EXPECT_NE(0, ev.timestamp);
  ev = ParseOk(
      "2016-04-01 11:08:00 info exim[8003]: [8003] SMTP protocol error in \"AUTH LOGIN\" "
      "H=(User) [192.0.2.29]:4816 I=[192.0.2.1]:25 Ci=8003 LOGIN authentication mechanism not "
      "supported");
  EXPECT_EQ(EventType::kReject, ev.type);
  EXPECT_EQ("syntax", RejectReasonName(ev.reject_reason));
  EXPECT_EQ("192.0.2.29", ev.client_ip);
}

TEST(EximLogParser, DropsAndProtocolErrorsAreRejects) {
  Event ev = ParseOk(
      "2022-04-03 21:53:54 H=[192.0.2.101]:62839 dropped by 'connect' ACL: Country is banned");
  EXPECT_EQ(EventType::kReject, ev.type);
  EXPECT_EQ("192.0.2.101", ev.client_ip);
  ev = ParseOk(
      "2013-06-02 06:54:20 [13314] SMTP protocol synchronization error (input sent without "
      "waiting for greeting): rejected connection from H=[211.148.195.192]:25936 "
      "I=[1.2.3.4]:25 input=\"GET / HTTP/1.1\\r\\n\\r\\n\"");
  EXPECT_EQ(EventType::kReject, ev.type);
  EXPECT_EQ("syntax", RejectReasonName(ev.reject_reason));
  EXPECT_EQ("211.148.195.192", ev.client_ip);
  // The "sender verify fail" notice precedes the reject line; only the reject counts.
  EXPECT_EQ(EventType::kNone,
            ParseOk("2013-06-10 10:10:59 H=ufficioestampa.it (srv.ufficioestampa.it) "
                    "[193.169.56.211] sender verify fail for <user@example.com>: Unrouteable "
                    "address")
                .type);
}

TEST(EximLogParser, RemoteServerRejectingUsIsNotOurReject) {
  EXPECT_EQ(EventType::kNone,
            ParseOk("2024-01-01 00:00:00 1xV64o-0004Rx-1A SMTP error from remote mail server "
                    "after RCPT TO:<a@b.c>: 550 5.7.1 message rejected")
                .type);
}

TEST(EximLogParser, AuthFailures) {
  Event ev = ParseOk(
      "2024-03-21 19:26:06 dovecot_login authenticator failed for (User) [194.169.175.1]:21298 "
      "I=[22.33.44.55]:465 Ci=30416: 535 Incorrect authentication data "
      "(set_id=uaf589@example.com)");
  EXPECT_EQ(EventType::kAuthFailure, ev.type);
  EXPECT_EQ("dovecot_login", ev.authenticator);
  EXPECT_EQ("194.169.175.1", ev.client_ip);
  EXPECT_EQ("uaf589@example.com", ev.auth_id);

  ev = ParseOk(
      "2013-06-12 03:57:58 login authenticator failed for (ylmf-pc) [120.196.140.45]: 535 "
      "Incorrect authentication data: 1 Time(s)");
  EXPECT_EQ(EventType::kAuthFailure, ev.type);
  EXPECT_EQ("120.196.140.45", ev.client_ip);
  EXPECT_TRUE(ev.auth_id.empty());

  // A helo that looks like an address: the last bracket is the client.
  ev = ParseOk(
      "2022-06-29 16:07:05 dovecot_login authenticator failed for ppp-1-2-3-4.test.test.co.th "
      "([127.0.0.1]) [1.2.3.4]:51451: 535 Incorrect authentication data (set_id=info@test.com)");
  EXPECT_EQ("1.2.3.4", ev.client_ip);

  // 435 is the server failing, not a password guess.
  EXPECT_EQ(EventType::kNone,
            ParseOk("2024-01-01 00:00:00 plain authenticator failed for (x) [192.0.2.1]: 435 "
                    "Unable to authenticate at present")
                .type);
}

TEST(EximLogParser, UnparsedAndBenignLines) {
  EximLogParser parser;
  Event ev;
  EXPECT_EQ(ParseStatus::kUnparsed, parser.Parse("garbage", &ev));
  EXPECT_EQ(ParseStatus::kUnparsed, parser.Parse("2020-13-01 00:00:00 x", &ev));
  EXPECT_EQ(ParseStatus::kUnparsed, parser.Parse("******** SERVER ********", &ev));
  EXPECT_EQ(ParseStatus::kOk, parser.Parse("", &ev));
  EXPECT_EQ(ParseStatus::kOk, parser.Parse(" Suggested action: either install a certificate", &ev));
  // Truncated arrivals never crash and stay arrivals.
  for (const char* partial : {"2024-01-01 00:00:00 1xV63t-0004DL-0K <= ",
                              "2024-01-01 00:00:00 1xV63t-0004DL-0K <= a@b H=",
                              "2024-01-01 00:00:00 1xV63t-0004DL-0K <= a@b H=(x",
                              "2024-01-01 00:00:00 1xV63t-0004DL-0K <= a@b T=\"unterminated",
                              "2024-01-01 00:00:00 1xV63t-0004DL-0K <= a@b A=:"}) {
    EXPECT_EQ(ParseStatus::kOk, parser.Parse(partial, &ev)) << partial;
  }
}

TEST(EximLogParser, MessageIdValidation) {
  EXPECT_TRUE(IsEximMessageId("1xV63s-0004DJ-2f"));
  EXPECT_TRUE(IsEximMessageId("16VDhn-000000001bo-D342"));
  EXPECT_FALSE(IsEximMessageId("1xV63s-0004DJ-2"));
  EXPECT_FALSE(IsEximMessageId("1xV63s_0004DJ-2f"));
  EXPECT_FALSE(IsEximMessageId("16VDhn-00000001bo-D342"));
}

}  // namespace
}  // namespace mailrelay
