#include "report/aggregator.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "classify/relay_classifier.h"
#include "mta/exim/log_parser.h"

namespace mailrelay::report {
namespace {

RelayPolicy Policy() {
  RelayPolicy p;
  p.local_networks.Add("127.0.0.0/8");
  p.ignore_users = {"mailnull", "Debian-exim", "exim"};
  return p;
}

// Feeds Exim log lines through the real parser and classifier.
class Feeder {
 public:
  Feeder() : classifier_(Policy()) {}
  void Line(const std::string& line) {
    Event ev;
    ASSERT_EQ(ParseStatus::kOk, parser_.Parse(line, &ev)) << line;
    DispatchEvent(ev, classifier_, agg);
  }
  ReportData Finish(std::size_t top = 10, bool with_queue = false) {
    ReportData d;
    if (with_queue) {
      d.queue = QueueReport{};
      d.queue->ok = true;
    }
    agg.Finish(top, &d);
    return d;
  }
  ReportAggregator agg{{"mailnull", "Debian-exim", "exim"}};

 private:
  EximLogParser parser_;
  RelayClassifier classifier_;
};

std::string Auth(const std::string& id, const std::string& ip, const std::string& sender,
                 int rcpts) {
  std::string line = "2026-11-22 11:48:51 1xV63v-0004Eu-0K <= " + sender +
                     " H=(client.example.net) [" + ip + "]:51130 P=esmtpa A=dovecot_plain:" + id +
                     " S=500 for";
  for (int i = 0; i < rcpts; ++i) line += " r" + std::to_string(i) + "@example.com";
  return line;
}

std::string Local(const std::string& user, const std::string& sender) {
  return "2026-11-22 11:48:55 1xV63z-0004Fq-1m <= " + sender + " U=" + user +
         " P=local S=356 for erin@example.com";
}

std::string Inbound(const std::string& ip) {
  return "2026-11-22 11:48:53 1xV63x-0004FN-0m <= sender@example.net H=(client.example.net) [" +
         ip + "]:51140 P=esmtp S=400 for alice@mx.example.test";
}

TEST(ReportAggregator, CountsLikeTheMetrics) {
  Feeder f;
  f.Line(Auth("alice@mx.example.test", "192.0.2.1", "alice@mx.example.test", 2));
  f.Line(Auth("alice@mx.example.test", "192.0.2.2", "alice@mx.example.test", 2));
  f.Line(Auth("alice@mx.example.test", "192.0.2.2", "ceo@bank.example", 1));   // spoofed
  f.Line(Auth("bob@mx.example.test", "127.0.0.1", "bob@mx.example.test", 3));  // webmail
  f.Line(Local("www-data", "www-data@mx.example.test"));
  f.Line(Local("www-data", "ceo@bank.example"));                // spoofed
  f.Line(Local("Debian-exim", "Debian-exim@mx.example.test"));  // ignored user
  f.Line(
      "2026-11-22 11:48:56 1xV640-0004G2-0S <= <> R=1xV63z-0004Fq-1m U=Debian-exim P=local "
      "S=1800 for ghost-sender@example.com");
  f.Line(Inbound("203.0.113.9"));
  ReportData d = f.Finish();

  auto cls = [&](RelayClass c) { return d.classes[static_cast<std::size_t>(c)]; };
  EXPECT_EQ(3u, cls(RelayClass::kAuthRelay).messages);
  EXPECT_EQ(5u, cls(RelayClass::kAuthRelay).recipients);
  EXPECT_EQ(1500u, cls(RelayClass::kAuthRelay).bytes);
  EXPECT_EQ(1u, cls(RelayClass::kAuthRelay).spoofed);
  EXPECT_EQ(1u, cls(RelayClass::kLocalhostRelay).messages);
  EXPECT_EQ(3u, cls(RelayClass::kLocalhostRelay).recipients);
  EXPECT_EQ(2u, cls(RelayClass::kLocalRelay).messages);
  EXPECT_EQ(1u, cls(RelayClass::kLocalRelay).spoofed);
  EXPECT_EQ(1u, cls(RelayClass::kRelay).messages);
  EXPECT_EQ(1u, d.ignored[static_cast<std::size_t>(IgnoreReason::kIgnoredUser)]);
  EXPECT_EQ(1u, d.ignored[static_cast<std::size_t>(IgnoreReason::kBounce)]);
  EXPECT_EQ(1u, d.bounces_generated);

  // Auth users whatever the class, most recipients first.
  ASSERT_EQ(2u, d.auth_users.size());
  EXPECT_EQ("alice@mx.example.test", d.auth_users[0].user);
  EXPECT_EQ(3u, d.auth_users[0].messages);
  EXPECT_EQ(5u, d.auth_users[0].recipients);
  EXPECT_EQ(2u, d.auth_users[0].ips);
  EXPECT_EQ(1u, d.auth_users[0].spoofed);
  EXPECT_EQ("bob@mx.example.test", d.auth_users[1].user);
  EXPECT_EQ(3u, d.auth_users[1].recipients);

  // Source IPs per class, one table per class in class order.
  ASSERT_EQ(static_cast<std::size_t>(kRelayClassCount), d.source_ips.size());
  const auto& auth_ips = d.source_ips[static_cast<std::size_t>(RelayClass::kAuthRelay)];
  EXPECT_EQ(2u, auth_ips.distinct);
  ASSERT_EQ(2u, auth_ips.rows.size());
  EXPECT_EQ("192.0.2.2", auth_ips.rows[0].ip);  // 3 recipients beat 2
  EXPECT_EQ(2u, auth_ips.rows[0].messages);
  EXPECT_EQ("203.0.113.9",
            d.source_ips[static_cast<std::size_t>(RelayClass::kRelay)].rows.at(0).ip);
  EXPECT_TRUE(d.source_ips[static_cast<std::size_t>(RelayClass::kLocalRelay)].rows.empty());

  // Local users: localrelay only (not the ignored Debian-exim).
  ASSERT_EQ(1u, d.local_users.size());
  EXPECT_EQ("www-data", d.local_users[0].user);
  EXPECT_EQ(2u, d.local_users[0].messages);
  EXPECT_EQ(1u, d.local_users[0].spoofed);

  ASSERT_EQ(2u, d.spoofing.size());
  EXPECT_EQ(2u, d.spoofed_total);
  EXPECT_EQ("alice@mx.example.test", d.spoofing[0].identity);  // ties: by identity
  EXPECT_EQ(RelayClass::kAuthRelay, d.spoofing[0].relay_class);
  EXPECT_EQ("ceo@bank.example", d.spoofing[0].sender);
  EXPECT_EQ("www-data", d.spoofing[1].identity);
  EXPECT_EQ(RelayClass::kLocalRelay, d.spoofing[1].relay_class);

  ASSERT_TRUE(d.offender.has_value());
  EXPECT_EQ("alice@mx.example.test", d.offender->identity);
  EXPECT_EQ("auth_user", d.offender->kind);
  EXPECT_EQ("alice@mx.example.test", d.offender->sender);  // the most frequent one
  EXPECT_FALSE(d.offender->queue_known);
}

TEST(ReportAggregator, FailuresRejectsDeliveries) {
  Feeder f;
  const std::string fail =
      "2026-11-22 11:49:08 dovecot_plain authenticator failed for (client.example.net) "
      "[192.0.2.7]:51176: 535 Incorrect authentication data (set_id=";
  f.Line(fail + "alice@mx.example.test)");
  f.Line(fail + "alice@mx.example.test)");
  f.Line(fail + "admin)");
  f.Line(
      "2026-11-22 11:49:08 dovecot_login authenticator failed for (x) [198.51.100.3]:5: 535 "
      "Incorrect authentication data (set_id=root)");
  f.Line(
      "2026-11-22 11:49:10 H=(client.example.net) [192.0.2.7]:51180 F=<spammer@example.net> "
      "rejected RCPT <victim@example.com>: relay not permitted");
  f.Line(
      "2026-11-22 11:49:10 H=(client.example.net) [192.0.2.8]:51180 F=<spammer@example.net> "
      "rejected RCPT <victim@example.com>: relay not permitted");
  f.Line(
      "2026-11-22 11:49:10 H=(client.example.net) [192.0.2.8]:51181 F=<x@example.net> "
      "rejected RCPT <ghost@mx.example.test>: Unrouteable address");
  f.Line(
      "2026-11-22 11:48:51 1xV63v-0004Eu-0K => alice <alice@mx.example.test> R=local_user "
      "T=local_delivery");
  f.Line(
      "2026-11-22 11:48:51 1xV63v-0004Eu-0K == bob@example.com R=remote T=remote_smtp "
      "defer (111): Connection refused");
  f.Line("2026-11-22 11:48:51 1xV63v-0004Eu-0K ** ghost@example.com: Unrouteable address");
  f.Line("2026-11-22 11:48:51 1xV63v-0004Eu-0K Completed");
  f.Line("2026-11-22 11:48:57 1xV640-0004G2-0S Frozen (delivery error message)");
  ReportData d = f.Finish(1);

  EXPECT_EQ(4u, d.auth_failures_total);
  EXPECT_EQ(2u, d.auth_failure_ips_total);
  ASSERT_EQ(1u, d.auth_failures.size());  // --top 1
  EXPECT_EQ("192.0.2.7", d.auth_failures[0].ip);
  EXPECT_EQ(3u, d.auth_failures[0].failures);
  EXPECT_EQ(2u, d.auth_failures[0].users);

  EXPECT_EQ(3u, d.rejects_total);
  ASSERT_EQ(2u, d.rejects.size());  // only reasons seen, most first
  EXPECT_EQ(RejectReason::kRelayDenied, d.rejects[0].reason);
  EXPECT_EQ(2u, d.rejects[0].rejects);
  EXPECT_EQ(2u, d.rejects[0].ips);
  EXPECT_EQ(RejectReason::kUnrouteable, d.rejects[1].reason);

  EXPECT_EQ(1u, d.delivered);
  EXPECT_EQ(1u, d.deferred);
  EXPECT_EQ(1u, d.failed);
  EXPECT_EQ(1u, d.completed);
  EXPECT_EQ(1u, d.frozen);
  EXPECT_FALSE(d.offender.has_value());  // nobody submitted anything
}

TEST(ReportAggregator, TopNAndDeterministicTies) {
  Feeder f;
  for (const char* ip : {"192.0.2.30", "192.0.2.10", "192.0.2.20"}) f.Line(Inbound(ip));
  f.Line(Inbound("192.0.2.99"));
  f.Line(Inbound("192.0.2.99"));
  ReportData d = f.Finish(3);
  const auto& t = d.source_ips[static_cast<std::size_t>(RelayClass::kRelay)];
  EXPECT_EQ(4u, t.distinct);
  ASSERT_EQ(3u, t.rows.size());
  EXPECT_EQ("192.0.2.99", t.rows[0].ip);
  EXPECT_EQ("192.0.2.10", t.rows[1].ip);  // equal counts: by name
  EXPECT_EQ("192.0.2.20", t.rows[2].ip);
}

std::shared_ptr<const QueueMessage> Msg(const std::string& owner, const std::string& sender,
                                        bool frozen, std::uint64_t rcpts, std::int64_t received) {
  auto m = std::make_shared<QueueMessage>();
  m->id = "id";
  m->owner_label = owner;
  m->sender_label = sender;
  m->bounce = sender == "<>";
  m->frozen = frozen;
  m->recipients = rcpts;
  m->size_bytes = 1000;
  m->has_received_time = true;
  m->received_time = received;
  return m;
}

TEST(ReportAggregator, QueueByOwnerAndSender) {
  Feeder f;
  f.Line(Auth("bob@mx.example.test", "192.0.2.1", "bob@mx.example.test", 3));
  f.agg.OnQueue({Msg("bob@mx.example.test", "bob@mx.example.test", false, 3, 300),
                 Msg("bob@mx.example.test", "bob@mx.example.test", true, 3, 200),
                 Msg("bob@mx.example.test", "ceo@bank.example", false, 1, 400),
                 Msg("www-data", "www-data@mx.example.test", false, 1, 500),
                 Msg("", "<>", true, 1, 100), Msg("Debian-exim", "<>", false, 1, 600)});
  ReportData d = f.Finish(10, true);
  ASSERT_TRUE(d.queue.has_value());
  const QueueReport& q = *d.queue;
  EXPECT_EQ(6u, q.messages);
  EXPECT_EQ(10u, q.recipients);
  EXPECT_EQ(6000u, q.bytes);
  EXPECT_EQ(2u, q.frozen);
  EXPECT_EQ(2u, q.bounces);
  EXPECT_EQ(1u, q.frozen_bounces);
  EXPECT_EQ(100, q.oldest_received);
  EXPECT_EQ(4u, q.owners);
  ASSERT_EQ(4u, q.by_owner.size());
  EXPECT_EQ("bob@mx.example.test", q.by_owner[0].owner);
  EXPECT_EQ(3u, q.by_owner[0].messages);
  EXPECT_EQ(7u, q.by_owner[0].recipients);
  EXPECT_EQ(1u, q.by_owner[0].frozen);
  EXPECT_EQ(0u, q.by_owner[0].bounces);
  EXPECT_EQ(4u, q.senders);
  EXPECT_EQ("bob@mx.example.test", q.by_sender[0].sender);
  EXPECT_EQ(2u, q.by_sender[0].messages);
  EXPECT_EQ("<>", q.by_sender[1].sender);  // 2 messages, fewer recipients
  EXPECT_EQ(1u, q.by_sender[1].frozen);

  ASSERT_TRUE(d.offender.has_value());
  EXPECT_EQ("bob@mx.example.test", d.offender->identity);
  EXPECT_TRUE(d.offender->queue_known);
  EXPECT_EQ(3u, d.offender->queued);
  EXPECT_EQ(1u, d.offender->queued_frozen);
}

TEST(ReportAggregator, OffenderFromTheQueueWhenTheWindowIsQuiet) {
  Feeder f;
  f.agg.OnQueue({Msg("Debian-exim", "<>", true, 1, 1), Msg("Debian-exim", "<>", true, 1, 1),
                 Msg("carol", "carol@mx.example.test", false, 1, 1)});
  ReportData d = f.Finish(10, true);
  ASSERT_TRUE(d.offender.has_value());
  EXPECT_EQ("carol", d.offender->identity);  // the MTA's own user is never the offender
  EXPECT_EQ("queue_owner", d.offender->kind);
  EXPECT_EQ("carol@mx.example.test", d.offender->sender);
  EXPECT_EQ(1u, d.offender->queued);

  // No owners at all (Postfix): the sender with most queued messages, bounces aside.
  Feeder g;
  g.agg.OnQueue({Msg("", "<>", false, 1, 1), Msg("", "<>", false, 1, 1), Msg("", "<>", false, 1, 1),
                 Msg("", "news@example.org", false, 9, 1), Msg("", "news@example.org", false, 9, 1),
                 Msg("", "a@example.org", false, 1, 1)});
  d = g.Finish(10, true);
  ASSERT_TRUE(d.offender.has_value());
  EXPECT_EQ("news@example.org", d.offender->identity);
  EXPECT_EQ("queue_sender", d.offender->kind);
  EXPECT_EQ(2u, d.offender->queued);

  Feeder h;
  h.agg.OnQueue({Msg("", "<>", false, 1, 1)});
  EXPECT_FALSE(h.Finish(10, true).offender.has_value());
}

TEST(ReportAggregator, HostileTextIsPrintable) {
  Feeder f;
  f.Line(Auth("evil\x01user\xff", "192.0.2.1", "x@example.com", 1));
  ReportData d = f.Finish();
  ASSERT_EQ(1u, d.auth_users.size());
  EXPECT_EQ("evil?user?", d.auth_users[0].user);
  // The raw bytes stay available for the command builder, which refuses them.
  auto key = f.agg.TopOffender();
  ASSERT_TRUE(key.has_value());
  EXPECT_EQ("evil\x01user\xff", key->identity);
}

}  // namespace
}  // namespace mailrelay::report
