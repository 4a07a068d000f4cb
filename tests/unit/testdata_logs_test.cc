// The log parsers over the project's own fixtures (tests/testdata, see tests/README.md): every
// line of every Exim and Postfix fixture log is parsed, and the events (and, for Postfix, the
// record kinds) are counted against the hand counts in tests/golden/*.args. The goldens check
// the same files through the whole exporter; these check the parsers alone, so a failure
// points at the layer.
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "events/reject_text.h"
#include "mta/exim/log_parser.h"
#include "mta/postfix/log_parser.h"

namespace mailrelay {
namespace {

const std::string kTestdata = MAILRELAY_TESTDATA_DIR;

std::vector<std::string> ReadLines(const std::string& relative) {
  std::ifstream in(kTestdata + "/" + relative, std::ios::binary);
  EXPECT_TRUE(in.good()) << relative;
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

struct EximTally {
  int lines = 0, unparsed = 0, arrivals = 0, authenticated = 0, local = 0, null_sender = 0,
      generated_bounces = 0, delivered = 0, deferred = 0, retry_wait = 0, failed = 0, completed = 0,
      frozen = 0, rejects = 0, auth_failures = 0;
  std::uint64_t recipients = 0, bytes = 0;
  std::map<RejectReason, int> reasons;
  std::map<std::string, int> client_ips;  // of arrivals
};

EximTally TallyExim(const std::string& relative) {
  EximLogParser parser;
  parser.SetReferenceTime(1772800000);  // 2026-03-06: BSD syslog lines get the year 2026
  EximTally t;
  for (const auto& line : ReadLines(relative)) {
    ++t.lines;
    Event ev;
    if (parser.Parse(line, &ev) == ParseStatus::kUnparsed) {
      ++t.unparsed;
      continue;
    }
    switch (ev.type) {
      case EventType::kArrival:
        ++t.arrivals;
        t.authenticated += ev.authenticated;
        t.local += ev.local_submission;
        t.null_sender += ev.null_sender;
        t.generated_bounces += ev.locally_generated_bounce;
        t.recipients += ev.recipients;
        t.bytes += ev.size_bytes;
        if (!ev.client_ip.empty()) ++t.client_ips[std::string(ev.client_ip)];
        break;
      case EventType::kDelivery:
        switch (ev.delivery) {
          case DeliveryResult::kDelivered:
            ++t.delivered;
            break;
          case DeliveryResult::kDeferred:
            ++t.deferred;
            break;
          case DeliveryResult::kDeferredRetryWait:
            ++t.retry_wait;
            break;
          case DeliveryResult::kFailed:
            ++t.failed;
            break;
        }
        break;
      case EventType::kCompleted:
        ++t.completed;
        break;
      case EventType::kFrozen:
        ++t.frozen;
        break;
      case EventType::kReject:
        ++t.rejects;
        ++t.reasons[ev.reject_reason];
        break;
      case EventType::kAuthFailure:
        ++t.auth_failures;
        break;
      case EventType::kNone:
        break;
    }
  }
  return t;
}

TEST(TestdataEximLogs, Cpanel) {
  EximTally t = TallyExim("exim/cpanel_mainlog");
  EXPECT_EQ(87, t.lines);
  EXPECT_EQ(2, t.unparsed);
  EXPECT_EQ(23, t.arrivals);       // 19 relaying + 2 bounces + mailnull + the custom protocol
  EXPECT_EQ(10, t.authenticated);  // 9 authrelay + the webmail message from 127.0.0.1
  EXPECT_EQ(5, t.local);           // shopuser x3 (incl. P=local-esmtp), mailnull, the bounce
  EXPECT_EQ(2, t.null_sender);
  EXPECT_EQ(1, t.generated_bounces);
  EXPECT_EQ(9, t.delivered);
  EXPECT_EQ(2, t.deferred);
  EXPECT_EQ(2, t.retry_wait);
  EXPECT_EQ(3, t.failed);
  EXPECT_EQ(5, t.completed);
  EXPECT_EQ(2, t.frozen);
  EXPECT_EQ(12, t.rejects);
  EXPECT_EQ(4, t.auth_failures);
  EXPECT_EQ(2, t.reasons[RejectReason::kRelayDenied]);
  EXPECT_EQ(1, t.reasons[RejectReason::kUnrouteable]);
  EXPECT_EQ(1, t.reasons[RejectReason::kRbl]);
  EXPECT_EQ(1, t.reasons[RejectReason::kSenderVerify]);
  EXPECT_EQ(1, t.reasons[RejectReason::kRatelimit]);
  EXPECT_EQ(1, t.reasons[RejectReason::kSpam]);
  EXPECT_EQ(3, t.reasons[RejectReason::kSyntax]);
  EXPECT_EQ(2, t.reasons[RejectReason::kOther]);
  EXPECT_EQ(5, t.client_ips["203.0.113.5"]);
  EXPECT_EQ(1, t.client_ips["192.0.2.51"]);  // not 192.0.2.99, the bracketed HELO
  EXPECT_EQ(1, t.client_ips["::1"]);
  EXPECT_EQ(1, t.client_ips["2001:db8:25::7"]);
  EXPECT_EQ(1, t.client_ips["2001:db8:77::1"]);
}

TEST(TestdataEximLogs, DebianFullAndSyslog) {
  EximTally d = TallyExim("exim/debian_mainlog");
  EXPECT_EQ(36, d.lines);
  EXPECT_EQ(0, d.unparsed);
  EXPECT_EQ(11, d.arrivals);
  EXPECT_EQ(3, d.authenticated);  // A= after a DN="..." that holds a quoted A= look-alike
  EXPECT_EQ(11u, d.recipients);   // no " for ": one each
  EXPECT_EQ(1, d.retry_wait);     // defer (-52)
  EXPECT_EQ(5, d.rejects);
  EXPECT_EQ(3, d.auth_failures);

  EximTally f = TallyExim("exim/full_mainlog");
  EXPECT_EQ(19, f.lines);
  EXPECT_EQ(0, f.unparsed);
  EXPECT_EQ(4, f.arrivals);
  EXPECT_EQ(6u, f.recipients);  // 3 + 1 + 1 + 1: the quoted subject's " for you" is no list
  EXPECT_EQ(4, f.delivered);
  EXPECT_EQ(1, f.reasons[RejectReason::kSyntax]);

  EximTally s = TallyExim("exim/syslog_mainlog");
  EXPECT_EQ(15, s.lines);
  EXPECT_EQ(1, s.unparsed);  // dovecot's line
  EXPECT_EQ(5, s.arrivals);
  EXPECT_EQ(7u, s.recipients);  // [1/2] lists 2 of 5; [2/2] adds nothing
  EXPECT_EQ(1, s.retry_wait);
  EXPECT_EQ(1, s.frozen);
}

TEST(TestdataEximLogs, TimestampsOfEveryPrefix) {
  EximLogParser parser;
  Event ev;
  const std::vector<std::string> full = ReadLines("exim/full_mainlog");
  ASSERT_EQ(ParseStatus::kOk, parser.Parse(full.back(), &ev));
  EXPECT_EQ(1772623202, ev.timestamp);  // 12:20:02 +0100
  ASSERT_EQ(ParseStatus::kOk, parser.Parse(full[11], &ev));
  EXPECT_EQ(1772622300, ev.timestamp);  // 06:05:00 -0500 = 11:05:00Z
  const std::vector<std::string> syslog = ReadLines("exim/syslog_mainlog");
  ASSERT_EQ(ParseStatus::kOk, parser.Parse(syslog.back(), &ev));
  EXPECT_EQ(1772701211, ev.timestamp);                        // 2026-03-05T10:00:11+01:00
  ASSERT_EQ(ParseStatus::kOk, parser.Parse(syslog[5], &ev));  // "host exim[pid]: <exim time>"
  EXPECT_EQ(EventType::kArrival, ev.type);
  EXPECT_EQ("192.0.2.100", ev.client_ip);
}

std::map<PostfixKind, int> TallyPostfix(const std::string& relative, int* lines, int* unparsed) {
  PostfixLogParser parser;
  parser.SetReferenceTime(1772800000);
  std::map<PostfixKind, int> kinds;
  *lines = *unparsed = 0;
  for (const auto& line : ReadLines(relative)) {
    ++*lines;
    PostfixRecord r;
    if (parser.Parse(line, &r) == ParseStatus::kUnparsed) {
      ++*unparsed;
      continue;
    }
    ++kinds[r.kind];
  }
  return kinds;
}

TEST(TestdataPostfixLogs, MailLog) {
  int lines = 0, unparsed = 0;
  auto k = TallyPostfix("postfix/mail.log", &lines, &unparsed);
  EXPECT_EQ(91, lines);
  EXPECT_EQ(2, unparsed);
  EXPECT_EQ(2, k[PostfixKind::kForeign]);  // dovecot
  EXPECT_EQ(10, k[PostfixKind::kClient]);
  EXPECT_EQ(4, k[PostfixKind::kPickup]);
  EXPECT_EQ(13, k[PostfixKind::kQueued]);  // 12 first passes + 1 retry
  EXPECT_EQ(1, k[PostfixKind::kExpired]);
  EXPECT_EQ(14, k[PostfixKind::kDelivery]);  // status=deliverable (a probe) is not one
  EXPECT_EQ(1, k[PostfixKind::kNotification]);
  EXPECT_EQ(9, k[PostfixKind::kRemoved]);
  EXPECT_EQ(1, k[PostfixKind::kHold]);
  EXPECT_EQ(1, k[PostfixKind::kDiscard]);
  EXPECT_EQ(11, k[PostfixKind::kReject]);
  EXPECT_EQ(5, k[PostfixKind::kAuthFailure]);
}

TEST(TestdataPostfixLogs, Rfc3339LongIdsAndPorts) {
  int lines = 0, unparsed = 0;
  auto k = TallyPostfix("postfix/mail-rfc3339.log", &lines, &unparsed);
  EXPECT_EQ(26, lines);
  EXPECT_EQ(0, unparsed);
  EXPECT_EQ(4, k[PostfixKind::kClient]);
  EXPECT_EQ(6, k[PostfixKind::kQueued]);
  EXPECT_EQ(6, k[PostfixKind::kDelivery]);
  EXPECT_EQ(1, k[PostfixKind::kReject]);
  EXPECT_EQ(1, k[PostfixKind::kAuthFailure]);

  PostfixLogParser parser;
  PostfixRecord r;
  const std::vector<std::string> all = ReadLines("postfix/mail-rfc3339.log");
  ASSERT_EQ(ParseStatus::kOk, parser.Parse(all[1], &r));
  EXPECT_EQ("4Rk7Pq1mCxz9JhL", r.queue_id);
  EXPECT_EQ("203.0.113.70", r.client_ip);  // client=unknown[ip]:port
  EXPECT_EQ(1772874001, r.timestamp);      // 10:00:01.101010+01:00
  ASSERT_EQ(ParseStatus::kOk, parser.Parse(all[21], &r));
  EXPECT_EQ(PostfixKind::kReject, r.kind);
  EXPECT_EQ("2001:db8:bad::5", r.client_ip);
}

// Every reject text of the fixtures: the one-pass matcher agrees with the reference rules.
TEST(TestdataRejectText, AgreesWithTheReference) {
  int checked = 0;
  for (const char* f :
       {"exim/cpanel_mainlog", "exim/cpanel_rejectlog", "exim/debian_mainlog", "exim/full_mainlog",
        "exim/syslog_mainlog", "postfix/mail.log", "postfix/mail-rfc3339.log"}) {
    for (const auto& line : ReadLines(f)) {
      auto at = line.find("reject");
      if (at == std::string::npos) continue;
      std::string text = line.substr(at);
      EXPECT_EQ(RejectReasonName(ClassifyRejectTextReference(text)),
                RejectReasonName(ClassifyRejectText(text)))
          << line;
      ++checked;
    }
  }
  EXPECT_GE(checked, 35);
}

}  // namespace
}  // namespace mailrelay
