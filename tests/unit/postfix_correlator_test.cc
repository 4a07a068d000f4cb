// Correlation of Postfix lines into Events: Appendix B of shared/docs/classification.md
// (Postfix 3.7.11 on loopback), qmgr retries, pickup, SASL, bounces, expiry and the size cap.
#include "mta/postfix/correlator.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace mailrelay {
namespace {

// An Event with owned strings (Event views die with the line).
struct Got {
  EventType type = EventType::kNone;
  std::string id, sender, client_ip, local_user, auth_id, authenticator;
  bool null_sender = false, local_bounce = false, local = false, authenticated = false;
  std::uint64_t size = 0;
  std::uint32_t recipients = 0;
  DeliveryResult delivery = DeliveryResult::kDelivered;
  RejectReason reason = RejectReason::kOther;
};

class Harness {
 public:
  explicit Harness(PostfixCorrelator::Options options = {})
      : correlator_(options, [](std::uint32_t uid) {
          return uid == 33 ? std::string("www-data") : std::string();
        }) {}

  void Feed(std::string_view line) {
    PostfixRecord r;
    ASSERT_EQ(ParseStatus::kOk, parser_.Parse(line, &r)) << line;
    correlator_.Add(r, [this](const Event& ev) {
      Got g;
      g.type = ev.type;
      g.id = ev.message_id;
      g.sender = ev.sender;
      g.client_ip = ev.client_ip;
      g.local_user = ev.local_user;
      g.auth_id = ev.auth_id;
      g.authenticator = ev.authenticator;
      g.null_sender = ev.null_sender;
      g.local_bounce = ev.locally_generated_bounce;
      g.local = ev.local_submission;
      g.authenticated = ev.authenticated;
      g.size = ev.size_bytes;
      g.recipients = ev.recipients;
      g.delivery = ev.delivery;
      g.reason = ev.reject_reason;
      events.push_back(g);
    });
  }
  std::vector<Got> Of(EventType type) const {
    std::vector<Got> out;
    for (const auto& e : events) {
      if (e.type == type) out.push_back(e);
    }
    return out;
  }
  const PostfixCorrelator& correlator() const { return correlator_; }

  std::vector<Got> events;

 private:
  PostfixLogParser parser_;
  PostfixCorrelator correlator_;
};

TEST(PostfixCorrelator, AppendixBTransactions) {
  Harness h;
  for (const char* line : {
           "Nov 22 11:47:04 mx postfix/smtpd[15075]: connect from localhost[127.0.0.1]",
           "Nov 22 11:47:04 mx postfix/smtpd[15075]: 75CA8A74AB1: client=localhost[127.0.0.1]",
           "Nov 22 11:47:04 mx postfix/cleanup[15078]: 75CA8A74AB1: "
           "message-id=<20261122114704.75CA8A74AB1@mx.example.test>",
           "Nov 22 11:47:04 mx postfix/smtpd[15075]: disconnect from localhost[127.0.0.1] ehlo=1 "
           "mail=1 rcpt=1 data=1 quit=1 commands=5",
           "Nov 22 11:47:04 mx postfix/qmgr[14703]: 75CA8A74AB1: from=<alice@mx.example.test>, "
           "size=475, nrcpt=1 (queue active)",
           "Nov 22 11:47:04 mx postfix/local[15079]: 75CA8A74AB1: to=<root@mx.example.test>, "
           "relay=local, delay=0.02, delays=0.01/0.01/0/0, dsn=2.0.0, status=sent (delivered to "
           "mailbox)",
           "Nov 22 11:47:04 mx postfix/qmgr[14703]: 75CA8A74AB1: removed",
           "Nov 22 11:47:04 mx postfix/smtpd[15075]: NOQUEUE: reject: RCPT from "
           "unknown[127.0.0.2]: 554 5.7.1 <victim@example.com>: Relay access denied; "
           "from=<spammer@example.net> to=<victim@example.com> proto=ESMTP "
           "helo=<client.example.net>",
           "Nov 22 11:47:04 mx postfix/smtp[15080]: 7718DA745C1: to=<bob@example.com>, "
           "relay=none, delay=0.02, delays=0.01/0.01/0/0, dsn=5.4.4, status=bounced (unable to "
           "look up host example.com: Name or service not known)",
           "Nov 22 11:47:04 mx postfix/bounce[15083]: 7718DA745C1: sender non-delivery "
           "notification: 7E29AA74612",
           "Nov 22 11:47:04 mx postfix/qmgr[14703]: 7E29AA74612: from=<>, size=2727, nrcpt=1 "
           "(queue active)",
           "Nov 22 11:47:04 mx postfix/smtpd[15084]: 7EB62A74AB5: client=unknown[127.0.0.2]",
           "Nov 22 11:47:04 mx postfix/qmgr[14703]: 7EB62A74AB5: from=<>, size=353, nrcpt=1 "
           "(queue active)",
           "Nov 22 11:47:25 mx postfix/pickup[15281]: 6B24BA74653: uid=33 from=<www-data>",
           "Nov 22 11:47:25 mx postfix/qmgr[15282]: 6B24BA74653: "
           "from=<www-data@mx.example.test>, size=297, nrcpt=1 (queue active)",
           "Nov 22 11:47:25 mx postfix/smtp[15296]: 6B24BA74653: to=<dave@example.com>, "
           "relay=none, delay=0.02, delays=0.01/0.01/0/0, dsn=4.4.1, status=deferred (connect "
           "to 127.0.0.1[127.0.0.1]:2599: Connection refused)",
           "Nov 22 11:47:25 mx postfix/pickup[15281]: 717D8A74613: uid=33 from=<ceo@bank.example>",
           "Nov 22 11:47:36 mx postfix/postsuper[15347]: 717D8A74613: placed on hold",
       }) {
    h.Feed(line);
  }
  auto arrivals = h.Of(EventType::kArrival);
  ASSERT_EQ(4u, arrivals.size());
  EXPECT_EQ("75CA8A74AB1", arrivals[0].id);
  EXPECT_EQ("127.0.0.1", arrivals[0].client_ip);
  EXPECT_EQ("alice@mx.example.test", arrivals[0].sender);
  EXPECT_EQ(475u, arrivals[0].size);
  EXPECT_EQ(1u, arrivals[0].recipients);
  EXPECT_FALSE(arrivals[0].authenticated);

  EXPECT_EQ("7E29AA74612", arrivals[1].id);  // the bounce we generated
  EXPECT_TRUE(arrivals[1].null_sender);
  EXPECT_TRUE(arrivals[1].local_bounce);

  EXPECT_EQ("7EB62A74AB5", arrivals[2].id);  // an inbound bounce: not generated here
  EXPECT_TRUE(arrivals[2].null_sender);
  EXPECT_FALSE(arrivals[2].local_bounce);
  EXPECT_EQ("127.0.0.2", arrivals[2].client_ip);

  EXPECT_EQ("6B24BA74653", arrivals[3].id);
  EXPECT_TRUE(arrivals[3].local);
  EXPECT_EQ("www-data", arrivals[3].local_user);
  EXPECT_EQ("www-data@mx.example.test", arrivals[3].sender);  // qmgr's qualified sender
  EXPECT_TRUE(arrivals[3].client_ip.empty());

  auto deliveries = h.Of(EventType::kDelivery);
  ASSERT_EQ(3u, deliveries.size());
  EXPECT_EQ(DeliveryResult::kDelivered, deliveries[0].delivery);
  EXPECT_EQ(DeliveryResult::kFailed, deliveries[1].delivery);
  EXPECT_EQ(DeliveryResult::kDeferred, deliveries[2].delivery);
  auto rejects = h.Of(EventType::kReject);
  ASSERT_EQ(1u, rejects.size());
  EXPECT_EQ(RejectReason::kRelayDenied, rejects[0].reason);
  EXPECT_EQ("127.0.0.2", rejects[0].client_ip);
  EXPECT_EQ(1u, h.Of(EventType::kCompleted).size());
  // Still held: 7E29AA74612, 7EB62A74AB5, 6B24BA74653 (counted, awaiting removal), 717D8A74613
  // (on hold, not counted yet).
  EXPECT_EQ(4u, h.correlator().size());
}

TEST(PostfixCorrelator, QmgrRetriesAreCountedOnce) {
  Harness h;
  h.Feed(
      "Nov 22 11:00:00 mx postfix/smtpd[1]: ABCDE12345: client=x[192.0.2.7], "
      "sasl_method=PLAIN, sasl_username=alice@mx.example.test");
  for (int i = 0; i < 3; ++i) {
    h.Feed(
        "Nov 22 11:10:00 mx postfix/qmgr[2]: ABCDE12345: from=<ceo@bank.example>, "
        "size=500, nrcpt=3 (queue active)");
    h.Feed(
        "Nov 22 11:10:01 mx postfix/smtp[3]: ABCDE12345: to=<a@example.com>, relay=none, "
        "delay=1, delays=0/0/1/0, dsn=4.4.1, status=deferred (connect to x: refused)");
  }
  auto arrivals = h.Of(EventType::kArrival);
  ASSERT_EQ(1u, arrivals.size());
  EXPECT_TRUE(arrivals[0].authenticated);
  EXPECT_EQ("PLAIN", arrivals[0].authenticator);
  EXPECT_EQ("alice@mx.example.test", arrivals[0].auth_id);
  EXPECT_EQ("192.0.2.7", arrivals[0].client_ip);
  EXPECT_EQ("ceo@bank.example", arrivals[0].sender);
  EXPECT_EQ(3u, arrivals[0].recipients);
  EXPECT_EQ(3u, h.Of(EventType::kDelivery).size());  // every attempt is a delivery event
  h.Feed("Nov 22 12:00:00 mx postfix/qmgr[2]: ABCDE12345: removed");
  EXPECT_EQ(0u, h.correlator().size());
}

TEST(PostfixCorrelator, PickupUnknownUidFallsBackToTheNumber) {
  Harness h;
  h.Feed("Nov 22 11:00:00 mx postfix/pickup[1]: ABCDE12345: uid=1234 from=<app>");
  h.Feed(
      "Nov 22 11:00:00 mx postfix/qmgr[2]: ABCDE12345: from=<app@mx.example.test>, "
      "size=10, nrcpt=2 (queue active)");
  auto arrivals = h.Of(EventType::kArrival);
  ASSERT_EQ(1u, arrivals.size());
  EXPECT_EQ("1234", arrivals[0].local_user);
  EXPECT_TRUE(arrivals[0].local);
  EXPECT_EQ(2u, arrivals[0].recipients);
}

TEST(PostfixCorrelator, BounceNoticeAfterQmgrLineCountsOnce) {
  Harness h;  // syslog may order the two daemons' lines either way
  h.Feed(
      "Nov 22 11:00:00 mx postfix/qmgr[2]: 7E29AA74612: from=<>, size=2727, nrcpt=1 (queue "
      "active)");
  h.Feed(
      "Nov 22 11:00:00 mx postfix/bounce[3]: 7718DA745C1: sender non-delivery notification: "
      "7E29AA74612");
  auto arrivals = h.Of(EventType::kArrival);
  ASSERT_EQ(1u, arrivals.size());
  EXPECT_TRUE(arrivals[0].local_bounce);
  EXPECT_TRUE(arrivals[0].null_sender);
}

TEST(PostfixCorrelator, UnmatchedQmgrLineIsNotAnArrival) {
  Harness h;
  for (int i = 0; i < 2; ++i) {
    h.Feed(
        "Nov 22 11:00:00 mx postfix/qmgr[2]: 0F5383D: from=<owner-postfix-users@postfix.org>,"
        " size=5360, nrcpt=1 (queue active)");
  }
  EXPECT_TRUE(h.Of(EventType::kArrival).empty());
  EXPECT_EQ(1u, h.correlator().dropped(CorrelationDrop::kUnmatched));
}

TEST(PostfixCorrelator, ContentFilterReinjectionIsSkipped) {
  Harness h;
  h.Feed("Nov 22 11:00:00 mx postfix/smtpd[1]: AAAAA11111: client=x[192.0.2.7]");
  h.Feed(
      "Nov 22 11:00:00 mx postfix/qmgr[2]: AAAAA11111: from=<a@b.example>, size=1, nrcpt=1 "
      "(queue active)");
  h.Feed(
      "Nov 22 11:00:01 mx postfix/smtpd[4]: BBBBB22222: client=localhost[127.0.0.1], "
      "orig_queue_id=AAAAA11111, orig_client=x[192.0.2.7]");
  h.Feed(
      "Nov 22 11:00:01 mx postfix/qmgr[2]: BBBBB22222: from=<a@b.example>, size=9, nrcpt=1 "
      "(queue active)");
  h.Feed(
      "Nov 22 11:00:02 mx postfix/pickup[5]: CCCCC33333: uid=0 from=<a@b.example> "
      "orig_id=DDDDD44444");
  h.Feed(
      "Nov 22 11:00:02 mx postfix/qmgr[2]: CCCCC33333: from=<a@b.example>, size=9, nrcpt=1 "
      "(queue active)");
  auto arrivals = h.Of(EventType::kArrival);
  ASSERT_EQ(1u, arrivals.size());
  EXPECT_EQ("AAAAA11111", arrivals[0].id);
  EXPECT_EQ(0u, h.correlator().dropped(CorrelationDrop::kUnmatched));
}

TEST(PostfixCorrelator, HoldCountsAtHoldAndRemovalCountsUnqueued) {
  Harness h;
  h.Feed("Nov 22 11:00:00 mx postfix/smtpd[1]: AAAAA11111: client=x[192.0.2.7]");
  h.Feed(
      "Nov 22 11:00:00 mx postfix/cleanup[2]: AAAAA11111: hold: header Subject: x from "
      "x[192.0.2.7]; from=<a@b.example> to=<c@d.example> proto=ESMTP helo=<x>");
  h.Feed(
      "Nov 22 11:30:00 mx postfix/qmgr[3]: AAAAA11111: from=<a@b.example>, size=1, nrcpt=1 "
      "(queue active)");  // released later: not counted again
  // A picked-up message whose qmgr line we never see, deleted by postsuper -d.
  h.Feed("Nov 22 11:00:00 mx postfix/pickup[4]: BBBBB22222: uid=33 from=<www-data>");
  h.Feed("Nov 22 11:00:05 mx postfix/postsuper[5]: BBBBB22222: removed");
  auto arrivals = h.Of(EventType::kArrival);
  ASSERT_EQ(2u, arrivals.size());
  EXPECT_EQ("AAAAA11111", arrivals[0].id);
  EXPECT_EQ("a@b.example", arrivals[0].sender);
  EXPECT_EQ("BBBBB22222", arrivals[1].id);
  EXPECT_EQ("www-data", arrivals[1].local_user);
  EXPECT_EQ("www-data", arrivals[1].sender);
  EXPECT_EQ(1u, arrivals[1].recipients);
  EXPECT_EQ(1u, h.Of(EventType::kCompleted).size());
}

TEST(PostfixCorrelator, MessageRejectedDuringDataIsForgotten) {
  Harness h;
  h.Feed("Nov 22 11:00:00 mx postfix/smtpd[1]: 4104E3D: client=x[61.238.241.86]");
  h.Feed(
      "Nov 22 11:00:01 mx postfix/cleanup[2]: 4104E3D: milter-reject: END-OF-MESSAGE from "
      "x[61.238.241.86]: 5.7.1 Blocked by SpamAssassin; from=<w@c.com> to=<v@example.com> "
      "proto=ESMTP helo=<e.com>");
  EXPECT_TRUE(h.Of(EventType::kArrival).empty());
  ASSERT_EQ(1u, h.Of(EventType::kReject).size());
  EXPECT_EQ(0u, h.correlator().size());
  EXPECT_EQ(0u, h.correlator().dropped(CorrelationDrop::kExpired));
}

TEST(PostfixCorrelator, EntriesExpireByLogTime) {
  PostfixCorrelator::Options o;
  o.ttl_seconds = 3600;
  Harness h(o);
  h.Feed("2026-01-01T00:00:00Z mx postfix/smtpd[1]: AAAAA11111: client=x[192.0.2.7]");
  h.Feed("2026-01-01T00:00:00Z mx postfix/smtpd[1]: BBBBB22222: client=x[192.0.2.8]");
  h.Feed(
      "2026-01-01T00:30:00Z mx postfix/qmgr[2]: BBBBB22222: from=<a@b.example>, size=1, "
      "nrcpt=1 (queue active)");
  EXPECT_EQ(2u, h.correlator().size());
  // 1 h after its last line the pending entry is dropped; the counted one is refreshed by the
  // qmgr line and stays.
  h.Feed("2026-01-01T01:00:01Z mx postfix/smtpd[1]: connect from x[192.0.2.9]");
  EXPECT_EQ(1u, h.correlator().size());
  EXPECT_EQ(1u, h.correlator().dropped(CorrelationDrop::kExpired));
  // Its qmgr line, if it ever came, is unmatched now.
  h.Feed(
      "2026-01-01T01:00:02Z mx postfix/qmgr[2]: AAAAA11111: from=<a@b.example>, size=1, "
      "nrcpt=1 (queue active)");
  EXPECT_EQ(1u, h.Of(EventType::kArrival).size());
  EXPECT_EQ(1u, h.correlator().dropped(CorrelationDrop::kUnmatched));
  // A line without progress in time expires nothing; a counted entry expires silently.
  h.Feed("2026-01-01T03:00:00Z mx postfix/smtpd[1]: connect from x[192.0.2.9]");
  EXPECT_EQ(0u, h.correlator().size());
  EXPECT_EQ(1u, h.correlator().dropped(CorrelationDrop::kExpired));
}

TEST(PostfixCorrelator, SizeCapDropsTheLeastRecentlySeen) {
  PostfixCorrelator::Options o;
  o.max_entries = 2;
  Harness h(o);
  h.Feed("Nov 22 11:00:00 mx postfix/smtpd[1]: AAAAA11111: client=x[192.0.2.1]");
  h.Feed("Nov 22 11:00:01 mx postfix/smtpd[1]: BBBBB22222: client=x[192.0.2.2]");
  h.Feed(
      "Nov 22 11:00:02 mx postfix/qmgr[2]: AAAAA11111: from=<a@b.example>, size=1, nrcpt=1 "
      "(queue active)");  // touches A: B is now the oldest
  h.Feed("Nov 22 11:00:03 mx postfix/smtpd[1]: CCCCC33333: client=x[192.0.2.3]");
  EXPECT_EQ(2u, h.correlator().size());
  EXPECT_EQ(1u, h.correlator().dropped(CorrelationDrop::kCapacity));
  h.Feed(
      "Nov 22 11:00:04 mx postfix/qmgr[2]: CCCCC33333: from=<a@b.example>, size=1, nrcpt=1 "
      "(queue active)");
  h.Feed(
      "Nov 22 11:00:05 mx postfix/qmgr[2]: BBBBB22222: from=<a@b.example>, size=1, nrcpt=1 "
      "(queue active)");
  auto arrivals = h.Of(EventType::kArrival);
  ASSERT_EQ(2u, arrivals.size());
  EXPECT_EQ("AAAAA11111", arrivals[0].id);
  EXPECT_EQ("CCCCC33333", arrivals[1].id);
  EXPECT_EQ(1u, h.correlator().dropped(CorrelationDrop::kUnmatched));
  EXPECT_LE(h.correlator().size(), 2u);
}

TEST(PostfixCorrelator, SaslFailureEvent) {
  Harness h;
  h.Feed(
      "Sep  6 00:44:57 trianon postfix/submission/smtpd[11538]: warning: "
      "unknown[82.221.106.233]: SASL login authentication failed: UGFzc3dvcmQ6");
  h.Feed(
      "May  6 09:25:41 mail postfix/smtps/smtpd[16997]: warning: unknown[203.0.113.10]: SASL "
      "LOGIN authentication failed: (reason unavailable), sasl_username=postmaster@example.org");
  auto fails = h.Of(EventType::kAuthFailure);
  ASSERT_EQ(2u, fails.size());
  EXPECT_EQ("LOGIN", fails[0].authenticator);  // upper-cased: one label per mechanism
  EXPECT_EQ("82.221.106.233", fails[0].client_ip);
  EXPECT_TRUE(fails[0].auth_id.empty());
  EXPECT_EQ("postmaster@example.org", fails[1].auth_id);
}

}  // namespace
}  // namespace mailrelay
