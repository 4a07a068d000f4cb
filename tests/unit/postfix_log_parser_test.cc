// Parser tests over real Postfix lines: Appendix B of shared/docs/classification.md (Postfix
// 3.7.11 generated on loopback) and every Postfix file of the corpus (fail2ban, crowdsec,
// postfix-exporter, postfix-grok-patterns, wazuh, sshguard; postqf/datadog queue listings are
// not log lines).
#include "mta/postfix/log_parser.h"

#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <string>
#include <vector>

namespace mailrelay {
namespace {

PostfixRecord ParseOk(std::string_view line) {
  PostfixLogParser parser;
  PostfixRecord r;
  EXPECT_EQ(ParseStatus::kOk, parser.Parse(line, &r)) << line;
  return r;
}

std::vector<std::string> ReadLines(const std::string& relative) {
  std::ifstream in(std::string(MAILRELAY_CORPUS_DIR) + "/" + relative);
  EXPECT_TRUE(in.good()) << relative;
  std::vector<std::string> lines;
  std::string line;
  while (std::getline(in, line)) lines.push_back(line);
  return lines;
}

TEST(PostfixLogParser, SmtpdClientLine) {
  PostfixRecord r =
      ParseOk("Nov 22 11:47:04 mx postfix/smtpd[15075]: 75CA8A74AB1: client=localhost[127.0.0.1]");
  EXPECT_EQ(PostfixKind::kClient, r.kind);
  EXPECT_EQ("postfix/smtpd", r.program);
  EXPECT_EQ("smtpd", r.daemon);
  EXPECT_EQ("75CA8A74AB1", r.queue_id);
  EXPECT_EQ("127.0.0.1", r.client_ip);
  EXPECT_TRUE(r.sasl_username.empty());
  EXPECT_FALSE(r.reinjected);
  EXPECT_NE(0, r.timestamp);
}

TEST(PostfixLogParser, SmtpdClientWithSasl) {
  PostfixRecord r = ParseOk(
      "Oct 30 13:19:26 mailgw-out1 postfix/smtpd[27530]: EB4B2C19E2: client=xxx[1.2.3.4], "
      "sasl_method=PLAIN, sasl_username=user@domain");
  EXPECT_EQ(PostfixKind::kClient, r.kind);
  EXPECT_EQ("1.2.3.4", r.client_ip);
  EXPECT_EQ("PLAIN", r.sasl_method);
  EXPECT_EQ("user@domain", r.sasl_username);
}

TEST(PostfixLogParser, ClientWithPortIpv6AndReinjection) {
  PostfixRecord r = ParseOk(
      "2024-01-02T03:04:05.123456+01:00 mx postfix-in/submission/smtpd[9]: 3Pt2mN2VXxznjll: "
      "client=unknown[2001:db8::1]:40123, sasl_method=LOGIN, sasl_username=bob, "
      "orig_queue_id=3Pt2mN2VXxznjlk, orig_client=x[192.0.2.1]");
  EXPECT_EQ(PostfixKind::kClient, r.kind);
  EXPECT_EQ("postfix-in/submission/smtpd", r.program);
  EXPECT_EQ("smtpd", r.daemon);
  EXPECT_EQ("3Pt2mN2VXxznjll", r.queue_id);
  EXPECT_EQ("2001:db8::1", r.client_ip);
  EXPECT_EQ("bob", r.sasl_username);
  EXPECT_TRUE(r.reinjected);
  EXPECT_EQ(1704161045, r.timestamp);
}

TEST(PostfixLogParser, PickupQmgrAndRemoved) {
  PostfixRecord p =
      ParseOk("Nov 22 11:47:25 mx postfix/pickup[15281]: 6B24BA74653: uid=33 from=<www-data>");
  EXPECT_EQ(PostfixKind::kPickup, p.kind);
  EXPECT_EQ(33u, p.uid);
  EXPECT_EQ("www-data", p.sender);
  EXPECT_FALSE(p.reinjected);

  PostfixRecord requeued =
      ParseOk("Nov 22 11:47:25 mx postfix/pickup[1]: 6B24BA74654: uid=0 from=<a@b> orig_id=ABCDE1");
  EXPECT_EQ(PostfixKind::kPickup, requeued.kind);
  EXPECT_TRUE(requeued.reinjected);

  PostfixRecord q = ParseOk(
      "Nov 22 11:47:25 mx postfix/qmgr[15282]: 6B24BA74653: from=<www-data@mx.example.test>, "
      "size=297, nrcpt=1 (queue active)");
  EXPECT_EQ(PostfixKind::kQueued, q.kind);
  EXPECT_EQ("www-data@mx.example.test", q.sender);
  EXPECT_EQ(297u, q.size);
  EXPECT_EQ(1u, q.nrcpt);

  PostfixRecord bounce = ParseOk(
      "Nov 22 11:47:04 mx postfix/qmgr[14703]: 7E29AA74612: from=<>, size=2727, nrcpt=1 (queue "
      "active)");
  EXPECT_EQ(PostfixKind::kQueued, bounce.kind);
  EXPECT_TRUE(bounce.has_sender);
  EXPECT_TRUE(bounce.sender.empty());

  EXPECT_EQ(PostfixKind::kRemoved,
            ParseOk("Nov 22 11:47:04 mx postfix/qmgr[14703]: 75CA8A74AB1: removed").kind);
  EXPECT_EQ(PostfixKind::kRemoved,
            ParseOk("Nov 22 11:47:04 mx postfix/postsuper[1]: 75CA8A74AB1: removed").kind);
}

TEST(PostfixLogParser, Deliveries) {
  PostfixRecord sent = ParseOk(
      "Nov 22 11:47:04 mx postfix/local[15079]: 75CA8A74AB1: to=<root@mx.example.test>, "
      "relay=local, delay=0.02, delays=0.01/0.01/0/0, dsn=2.0.0, status=sent (delivered to "
      "mailbox)");
  EXPECT_EQ(PostfixKind::kDelivery, sent.kind);
  EXPECT_EQ(DeliveryResult::kDelivered, sent.delivery);
  PostfixRecord deferred = ParseOk(
      "Nov 22 11:47:25 mx postfix/smtp[15296]: 6B24BA74653: to=<dave@example.com>, relay=none, "
      "delay=0.02, delays=0.01/0.01/0/0, dsn=4.4.1, status=deferred (connect to "
      "127.0.0.1[127.0.0.1]:2599: Connection refused)");
  EXPECT_EQ(DeliveryResult::kDeferred, deferred.delivery);
  PostfixRecord bounced = ParseOk(
      "Nov 22 11:47:25 mx postfix/local[15302]: 6DB91A7465C: to=<ghost@mx.example.test>, "
      "relay=local, delay=0.02, delays=0.01/0.01/0/0.01, dsn=5.1.1, status=bounced (unknown "
      "user: \"ghost\")");
  EXPECT_EQ(DeliveryResult::kFailed, bounced.delivery);
  PostfixRecord instance = ParseOk(
      "Feb 11 16:49:24 letterman postfix/relay/smtp[8204]: AAB4D259B1: to=<me@example.net>, "
      "relay=example.com[127.0.0.1]:25, delay=0.1, delays=0.1/0/0/0, dsn=2.0.0, status=sent "
      "(250 2.0.0 Ok: queued as AAB4D259B1)");
  EXPECT_EQ(PostfixKind::kDelivery, instance.kind);
  EXPECT_EQ("smtp", instance.daemon);
  PostfixRecord expired = ParseOk(
      "Apr 10 14:50:16 mail postfix/qmgr[3663]: BACE842E72: from=<noreply@domain.com>, "
      "status=expired, returned to sender");
  EXPECT_EQ(PostfixKind::kExpired, expired.kind);
  EXPECT_EQ(DeliveryResult::kFailed, expired.delivery);
  EXPECT_EQ(PostfixKind::kExpired,
            ParseOk("Apr 10 14:50:16 mail postfix/qmgr[3663]: BACE842E73: "
                    "from=<noreply@domain.com>, status=force-expired, returned to sender")
                .kind);
  // Address-verification probes are not deliveries.
  EXPECT_EQ(PostfixKind::kOther,
            ParseOk("Jan  1 00:00:00 mx postfix/error[1]: 3E29030F8637E: to=<user@yahoo.com>, "
                    "relay=none, delay=0.01, delays=0.01/0/0/0, dsn=5.1.1, "
                    "status=undeliverable-but-not-cached (User unknown in virtual alias table)")
                .kind);
}

TEST(PostfixLogParser, BounceNotification) {
  PostfixRecord r = ParseOk(
      "Nov 22 11:47:04 mx postfix/bounce[15083]: 7718DA745C1: sender non-delivery notification: "
      "7E29AA74612");
  EXPECT_EQ(PostfixKind::kNotification, r.kind);
  EXPECT_EQ("7718DA745C1", r.queue_id);
  EXPECT_EQ("7E29AA74612", r.new_queue_id);
}

TEST(PostfixLogParser, SmtpdRejects) {
  PostfixRecord relay = ParseOk(
      "Nov 22 11:47:04 mx postfix/smtpd[15075]: NOQUEUE: reject: RCPT from unknown[127.0.0.2]: "
      "554 5.7.1 <victim@example.com>: Relay access denied; from=<spammer@example.net> "
      "to=<victim@example.com> proto=ESMTP helo=<client.example.net>");
  EXPECT_EQ(PostfixKind::kReject, relay.kind);
  EXPECT_TRUE(relay.queue_id.empty());
  EXPECT_EQ("127.0.0.2", relay.client_ip);
  EXPECT_EQ(RejectReason::kRelayDenied, relay.reject_reason);
  EXPECT_FALSE(relay.message_rejected);

  PostfixRecord unknown = ParseOk(
      "Nov 22 11:47:04 mx postfix/smtpd[15075]: NOQUEUE: reject: RCPT from unknown[127.0.0.2]: "
      "550 5.1.1 <nosuchuser@mx.example.test>: Recipient address rejected: User unknown in local "
      "recipient table; from=<sender@example.net> to=<nosuchuser@mx.example.test> proto=ESMTP "
      "helo=<client.example.net>");
  EXPECT_EQ(RejectReason::kUnrouteable, unknown.reject_reason);

  PostfixRecord rbl = ParseOk(
      "Dec 30 18:19:15 xxx postfix-incoming/smtpd[1574]: NOQUEUE: reject: RCPT from "
      "badguy.example.com[93.184.216.34]: 454 4.7.1 Service unavailable; Client host "
      "[93.184.216.34] blocked using rbl.example.com; "
      "http://www.example.com/query?ip=93.184.216.34; from=<spammer@example.com> "
      "to=<goodguy@example.com> proto=ESMTP helo=<badguy.example.com>");
  EXPECT_EQ(RejectReason::kRbl, rbl.reject_reason);
  EXPECT_EQ("93.184.216.34", rbl.client_ip);

  PostfixRecord helo = ParseOk(
      "Jan 31 13:55:24 xxx postfix/smtpd[3462]: NOQUEUE: reject: EHLO from "
      "s271272.static.corbina.ru[78.107.251.238]: 504 5.5.2 <User>: Helo command rejected: need "
      "fully-qualified hostname; proto=SMTP helo=<User>");
  EXPECT_EQ(RejectReason::kSyntax, helo.reject_reason);

  // A reject of one recipient of a queued message does not kill the message...
  PostfixRecord rcpt = ParseOk(
      "Aug 13 15:45:46 server postfix/smtpd[13844]: 00ADB3C0899: reject: RCPT from "
      "example.com[192.0.2.1]: 550 5.1.1 <sales@server.com>: Recipient address rejected: User "
      "unknown in local recipient table; from=<xxxxxx@example.com> to=<sales@server.com> "
      "proto=ESMTP helo=<mail.example.com>");
  EXPECT_EQ(PostfixKind::kReject, rcpt.kind);
  EXPECT_EQ("00ADB3C0899", rcpt.queue_id);
  EXPECT_FALSE(rcpt.message_rejected);
  // ...a reject at DATA does.
  PostfixRecord data = ParseOk(
      "Mar 7 02:09:33 server postfix/smtpd[27246]: 1D8CC1CA0A7F: milter-reject: DATA from "
      "66-220-155-151.mail-mail.facebook.com[192.0.2.151]: 550 5.7.1 Command rejected; "
      "from=<security@mail.example.com> to=<hostmaster@example.com> proto=ESMTP "
      "helo=<192-0-2-151.mail-mail.example.com>");
  EXPECT_EQ(PostfixKind::kReject, data.kind);
  EXPECT_TRUE(data.message_rejected);
  EXPECT_EQ("192.0.2.151", data.client_ip);

  // reject_warning is a dry run.
  EXPECT_EQ(PostfixKind::kOther,
            ParseOk("Jan  1 00:00:00 mx postfix/smtpd[1]: NOQUEUE: reject_warning: RCPT from "
                    "example.com[93.184.216.34]: 553 5.7.1 <sender@example.com>: Sender address "
                    "rejected: not owned by user ph123; from=<sender@example.com> "
                    "to=<recipient@example.com> proto=ESMTP helo=<example.com>")
                .kind);
}

TEST(PostfixLogParser, PostscreenRejectsUseCommas) {
  PostfixRecord r = ParseOk(
      "May  5 15:51:11 xxx postfix/postscreen[1148]: NOQUEUE: reject: RCPT from "
      "[216.245.194.173]:60591: 550 5.7.1 Service unavailable; client [216.245.194.173] blocked "
      "using rbl.example.com; from=<spammer@example.com>, to=<goodguy@example.com>, "
      "proto=ESMTP, helo=<badguy.example.com>");
  EXPECT_EQ(PostfixKind::kReject, r.kind);
  EXPECT_EQ("216.245.194.173", r.client_ip);
  EXPECT_EQ(RejectReason::kRbl, r.reject_reason);
  PostfixRecord busy = ParseOk(
      "Feb 24 16:18:40 letterman postfix/postscreen[1234]: NOQUEUE: reject: CONNECT from "
      "[1.2.3.4]:5678: too many connections");
  EXPECT_EQ(PostfixKind::kReject, busy.kind);
  EXPECT_EQ("1.2.3.4", busy.client_ip);
  EXPECT_EQ(RejectReason::kRatelimit, busy.reject_reason);
  // Screening results are not rejects by themselves.
  EXPECT_EQ(PostfixKind::kOther, ParseOk("Dec 23 19:39:13 xxx postfix/postscreen[21057]: PREGREET "
                                         "14 after 0.08 from [192.0.2.2]:59415: EHLO ylmf-pc\\r\\n")
                                     .kind);
}

TEST(PostfixLogParser, CleanupContentRejectAndHold) {
  PostfixRecord r = ParseOk(
      "Jan  1 00:00:00 mx postfix/cleanup[1]: 4104E3D: reject: header Subject: buy now from "
      "x.example[192.0.2.9]; from=<a@b.example> to=<c@d.example> proto=ESMTP helo=<x>: 5.7.1 "
      "message content rejected");
  EXPECT_EQ(PostfixKind::kReject, r.kind);
  EXPECT_TRUE(r.message_rejected);
  EXPECT_EQ("192.0.2.9", r.client_ip);
  EXPECT_EQ(RejectReason::kSpam, r.reject_reason);
  PostfixRecord milter = ParseOk(
      "Jan  1 00:00:00 mx postfix/cleanup[1]: 4104E3D: milter-reject: END-OF-MESSAGE from "
      "061238241086.static.ctinets.com[61.238.241.86]: 5.7.1 Blocked by SpamAssassin; "
      "from=<wumt5@cchfdc.com> to=<voorzitter@example.com> proto=ESMTP helo=<ecsolved.com>");
  EXPECT_TRUE(milter.message_rejected);
  EXPECT_EQ(RejectReason::kSpam, milter.reject_reason);
  PostfixRecord hold = ParseOk(
      "Jan  1 00:00:00 mx postfix/cleanup[1]: 4104E3E: hold: header Subject: x from "
      "local; from=<www-data@mx.example.test> to=<a@b.example>");
  EXPECT_EQ(PostfixKind::kHold, hold.kind);
  EXPECT_EQ("www-data@mx.example.test", hold.sender);
}

TEST(PostfixLogParser, SaslFailures) {
  PostfixRecord r = ParseOk(
      "Mar 10 13:33:30 gandalf postfix/smtpd[3937]: warning: HOSTNAME[1.1.1.1]: SASL LOGIN "
      "authentication failed: authentication failure");
  EXPECT_EQ(PostfixKind::kAuthFailure, r.kind);
  EXPECT_EQ("1.1.1.1", r.client_ip);
  EXPECT_EQ("LOGIN", r.sasl_method);
  EXPECT_TRUE(r.sasl_username.empty());

  PostfixRecord v39 = ParseOk(
      "Nov  4 09:11:01 mail postfix/smtpd[1234]: warning: unknown[192.0.2.152]: SASL LOGIN "
      "authentication failed: (reason unavailable), sasl_username=admin");
  EXPECT_EQ(PostfixKind::kAuthFailure, v39.kind);
  EXPECT_EQ("admin", v39.sasl_username);

  PostfixRecord port = ParseOk(
      "2022-04-14T00:36:03.150Z mailhub postfix/smtps/smtpd[30543]: warning: "
      "unknown[122.166.249.154]:48123: SASL LOGIN authentication failed: UGFzc3dvcmQ6");
  EXPECT_EQ(PostfixKind::kAuthFailure, port.kind);
  EXPECT_EQ("122.166.249.154", port.client_ip);

  PostfixRecord empty_reason = ParseOk(
      "Nov  4 09:11:01 mail postfix/submission/smtpd[27133]: warning: unknown[192.0.2.150]: SASL "
      "PLAIN authentication failed:");
  EXPECT_EQ(PostfixKind::kAuthFailure, empty_reason.kind);

  EXPECT_EQ(PostfixKind::kOther,
            ParseOk("Feb  3 08:29:28 mail postfix/smtpd[21022]: warning: unknown[1.1.1.1]: SASL "
                    "LOGIN authentication failed: Connection lost to authentication server")
                .kind);
  EXPECT_EQ(PostfixKind::kOther,
            ParseOk("Apr 26 10:55:19 tcc1 postfix/smtpd[21126]: warning: SASL authentication "
                    "failure: Password verification failed")
                .kind);
}

TEST(PostfixLogParser, PrefixesAndPrograms) {
  EXPECT_EQ(
      PostfixKind::kForeign,
      ParseOk("Jun 20 16:46:17 ares postgrey[919]: action=greylist, reason=early-retry").kind);
  EXPECT_EQ(PostfixKind::kForeign, ParseOk("Jan 1 00:00:00 hostname postfix1[12345]: foo").kind);
  EXPECT_EQ(PostfixKind::kOther,
            ParseOk("Jan 1 00:00:00 hostname postfix/unknown[12345]: foo").kind);
  EXPECT_EQ("smtpd", ParseOk("Feb 10 13:26:34 srv postfix/smtp-25/smtpd[123]: disconnect from "
                             "unknown[192.0.2.1] helo=1 auth=0/1 quit=1 commands=2/3")
                         .daemon);
  // Day written as "1", " 1" and "01".
  PostfixLogParser parser;
  PostfixRecord a, b, c;
  ASSERT_EQ(ParseStatus::kOk, parser.Parse("Jan 1 00:00:00 h postfix/smtpd[1]: x", &a));
  ASSERT_EQ(ParseStatus::kOk, parser.Parse("Jan  1 00:00:00 h postfix/smtpd[1]: x", &b));
  ASSERT_EQ(ParseStatus::kOk, parser.Parse("Jan 01 00:00:00 h postfix/smtpd[1]: x", &c));
  EXPECT_EQ(a.timestamp, b.timestamp);
  EXPECT_EQ(a.timestamp, c.timestamp);
  for (std::string_view bad :
       {"Jan: 1 00:00:00 hostname postfix/postscreen[12345]: foo",
        "Jan 1 00:00:00 hostname postfix/postscreen[abcde]: foo",
        "Jan 1 00:00:00 hostname postfix/postscreen[12345", "Jan 1 00:00:00 hostname",
        "Jan 1 00:00:00", "Jan", "Foo 1 00:00:00 hostname",
        "warning: unknown[1.2.3.4]: SASL LOGIN authentication failed: authentication failure"}) {
    PostfixRecord r;
    EXPECT_EQ(ParseStatus::kUnparsed, parser.Parse(bad, &r)) << bad;
  }
}

TEST(PostfixLogParser, QueueIds) {
  EXPECT_TRUE(IsPostfixQueueId("75CA8A74AB1"));
  EXPECT_TRUE(IsPostfixQueueId("0F5383D"));
  EXPECT_TRUE(IsPostfixQueueId("3Pt2mN2VXxznjll"));
  EXPECT_TRUE(IsPostfixQueueId("44JCRG5tYPzCqt2"));
  EXPECT_FALSE(IsPostfixQueueId("warning"));
  EXPECT_FALSE(IsPostfixQueueId("NOQUEUE"));
  EXPECT_FALSE(IsPostfixQueueId("statistics"));
  EXPECT_FALSE(IsPostfixQueueId("ABC"));
}

// fail2ban's fixtures say, for each line, whether it is an attack and from which host. Every
// line we count as a reject or an auth failure must be one of theirs with the same host, and
// every SASL line they match (outside the "aggressive"-only cases) must be an auth failure.
TEST(PostfixLogParser, Fail2banCorpusAgreesOnHosts) {
  PostfixLogParser parser;
  std::string expected_host;
  bool expected_match = false;
  int rejects = 0, auth = 0, lines = 0;
  for (const auto& line : ReadLines("fail2ban/postfix")) {
    if (line.rfind("# failJSON:", 0) == 0) {
      expected_match = line.find("\"match\": true") != std::string::npos;
      auto h = line.find("\"host\": \"");
      expected_host =
          h == std::string::npos ? "" : line.substr(h + 9, line.find('"', h + 9) - h - 9);
      continue;
    }
    if (line.empty() || line[0] == '#') continue;
    ++lines;
    PostfixRecord r;
    ASSERT_EQ(ParseStatus::kOk, parser.Parse(line, &r)) << line;
    if (r.kind == PostfixKind::kReject || r.kind == PostfixKind::kAuthFailure) {
      EXPECT_TRUE(expected_match) << line;
      EXPECT_EQ(expected_host, r.client_ip) << line;
      (r.kind == PostfixKind::kReject ? rejects : auth)++;
    }
    bool sasl = line.find("SASL") != std::string::npos &&
                line.find("authentication failed") != std::string::npos;
    bool not_a_guess = line.find("Connection lost to authentication server") != std::string::npos ||
                       line.find("Invalid authentication mechanism") != std::string::npos;
    if (sasl && expected_match && !not_a_guess) {
      EXPECT_EQ(PostfixKind::kAuthFailure, r.kind) << line;
    }
    if (line.find("NOQUEUE: reject: ") != std::string::npos) {
      EXPECT_EQ(PostfixKind::kReject, r.kind) << line;
    }
  }
  EXPECT_EQ(63, lines);
  EXPECT_EQ(26, rejects);  // 23 NOQUEUE + 2 QID rejects (RCPT, BDAT) + 1 milter-reject
  EXPECT_EQ(11, auth);     // 14 SASL failures minus "Connection lost..." and 2 "Invalid mechanism"
}

struct Tally {
  int lines = 0;
  int unparsed = 0;
  std::map<PostfixKind, int> kinds;
};

Tally TallyFile(const std::string& relative) {
  PostfixLogParser parser;
  Tally t;
  for (const auto& line : ReadLines(relative)) {
    if (line.empty() || line[0] == '#') continue;
    ++t.lines;
    PostfixRecord r;
    if (parser.Parse(line, &r) == ParseStatus::kUnparsed) {
      ++t.unparsed;
    } else {
      ++t.kinds[r.kind];
    }
  }
  return t;
}

TEST(PostfixLogParser, CrowdsecWazuhSshguardCorpus) {
  Tally honeypot = TallyFile("crowdsec/postfix-honeypot-users--postfix-honeypot-users.log");
  EXPECT_EQ(9, honeypot.kinds[PostfixKind::kAuthFailure]);
  Tally bf = TallyFile("crowdsec/postfix-sasl-bf--postfix-sasl-bf.log");
  EXPECT_EQ(3, bf.kinds[PostfixKind::kAuthFailure]);
  Tally spam = TallyFile("crowdsec/postfix-spam--postfix-spam.log");
  EXPECT_EQ(4, spam.kinds[PostfixKind::kAuthFailure]);
  EXPECT_EQ(2, spam.kinds[PostfixKind::kReject]);
  Tally logs = TallyFile("crowdsec/postfix-logs--postfix-logs.log");
  EXPECT_EQ(1, logs.kinds[PostfixKind::kAuthFailure]);
  EXPECT_EQ(4, logs.kinds[PostfixKind::kReject]);
  EXPECT_EQ(2, TallyFile("crowdsec/postfix-relay--postfix-spam.log").kinds[PostfixKind::kReject]);
  EXPECT_EQ(2, TallyFile("crowdsec/postfix-helo--postfix-spam.log").kinds[PostfixKind::kReject]);
  Tally non_smtp = TallyFile("crowdsec/postfix-non-smtp--postfix-non-smtp.log");
  EXPECT_EQ(1, non_smtp.kinds[PostfixKind::kOther]);
  for (const char* f :
       {"crowdsec/postfix-helo--postfix-spam.log",
        "crowdsec/postfix-honeypot-users--postfix-honeypot-users.log",
        "crowdsec/postfix-logs--postfix-logs.log",
        "crowdsec/postfix-non-smtp--postfix-non-smtp.log",
        "crowdsec/postfix-relay--postfix-spam.log", "crowdsec/postfix-sasl-bf--postfix-sasl-bf.log",
        "crowdsec/postfix-spam--postfix-spam.log"}) {
    EXPECT_EQ(0, TallyFile(f).unparsed) << f;
  }
  // wazuh: two postscreen rejects, the second cut short by the source ("f$").
  Tally wazuh = TallyFile("wazuh/postfix.log");
  EXPECT_EQ(2, wazuh.kinds[PostfixKind::kReject]);
  // sshguard: 3 lines are bare messages without a syslog prefix.
  Tally sshguard = TallyFile("sshguard/postfix.log");
  EXPECT_EQ(3, sshguard.kinds[PostfixKind::kAuthFailure]);
  EXPECT_EQ(2, sshguard.unparsed);
  EXPECT_EQ(1, sshguard.kinds[PostfixKind::kForeign]);  // postgrey
}

TEST(PostfixLogParser, PostfixExporterCorpus) {
  Tally go = TallyFile("postfix-exporter/go-test-literals.log");
  EXPECT_EQ(0, go.unparsed);
  EXPECT_EQ(31, go.kinds[PostfixKind::kRemoved]);
  EXPECT_EQ(2, go.kinds[PostfixKind::kExpired]);
  EXPECT_EQ(2, go.kinds[PostfixKind::kClient]);
  EXPECT_EQ(1, go.kinds[PostfixKind::kAuthFailure]);
  EXPECT_EQ(6, go.kinds[PostfixKind::kDelivery]);
  EXPECT_EQ(1, go.kinds[PostfixKind::kNotification]);
  EXPECT_EQ(4, go.kinds[PostfixKind::kReject]);  // 3 postscreen CONNECT, 1 postscreen RCPT

  // sergeymakinen's file starts with deliberately malformed lines; adyekjaer has the same lines
  // with RFC 3339 timestamps.
  for (const char* f :
       {"postfix-exporter/sergeymakinen-mail.log", "postfix-exporter/adyekjaer-mail_iso.log"}) {
    Tally t = TallyFile(f);
    EXPECT_GE(t.unparsed, 6) << f;
    EXPECT_LE(t.unparsed, 8) << f;
    EXPECT_GE(t.kinds[PostfixKind::kReject], 6) << f;
    EXPECT_GE(t.kinds[PostfixKind::kDelivery], 4) << f;
    EXPECT_EQ(1, t.kinds[PostfixKind::kAuthFailure]) << f;
  }
  // Queue listings are not logs: every line is unparsed, none crashes.
  for (const char* f :
       {"postfix-exporter/kumina-showq.txt", "datadog/postqueue_p.txt", "postqf/qdata.jsonl"}) {
    Tally t = TallyFile(f);
    EXPECT_GT(t.lines, 0) << f;
    EXPECT_EQ(t.lines, t.unparsed) << f;
  }
}

// The grok corpus has 191 bare messages; each gets the prefix Postfix would have written.
TEST(PostfixLogParser, GrokPatternsCorpus) {
  PostfixLogParser parser;
  std::map<PostfixKind, int> kinds;
  int rows = 0;
  for (const auto& row : ReadLines("postfix-grok-patterns/test-messages.tsv")) {
    if (row.empty() || row[0] == '#') continue;
    auto tab1 = row.find('\t');
    auto tab2 = row.find('\t', tab1 + 1);
    ASSERT_NE(std::string::npos, tab2) << row;
    std::string file = row.substr(0, tab1);
    std::string daemon = file.substr(0, file.rfind('_'));
    std::string line = "Oct 26 18:13:50 mx postfix/" + daemon + "[42]: " + row.substr(tab2 + 1);
    PostfixRecord r;
    ASSERT_EQ(ParseStatus::kOk, parser.Parse(line, &r)) << line;
    ++rows;
    ++kinds[r.kind];
    std::string msg = row.substr(tab2 + 1);
    if (msg.find("NOQUEUE: reject: ") == 0 || msg.find(": milter-reject: ") != std::string::npos) {
      EXPECT_EQ(PostfixKind::kReject, r.kind) << line;
    }
    if (msg.find("status=sent") != std::string::npos ||
        msg.find("status=bounced") != std::string::npos ||
        msg.find("status=deferred") != std::string::npos) {
      EXPECT_EQ(PostfixKind::kDelivery, r.kind) << line;
    }
  }
  EXPECT_EQ(191, rows);
  EXPECT_EQ(1, kinds[PostfixKind::kClient]);
  EXPECT_EQ(1, kinds[PostfixKind::kPickup]);
  EXPECT_EQ(1, kinds[PostfixKind::kQueued]);
  EXPECT_EQ(2, kinds[PostfixKind::kExpired]);
  EXPECT_EQ(2, kinds[PostfixKind::kRemoved]);  // qmgr and postsuper
  EXPECT_EQ(4, kinds[PostfixKind::kNotification]);
  EXPECT_EQ(1, kinds[PostfixKind::kAuthFailure]);
  EXPECT_EQ(21, kinds[PostfixKind::kDelivery]);  // 24 status= lines: 2 qmgr expiries, 1 probe
}

}  // namespace
}  // namespace mailrelay
