// ParsePostqueueJson over the corpus sample (postqf, CRLF, active queue only) and samples of
// our own for the other queues, bounces and damaged input.
#include "mta/postfix/postqueue_json_parser.h"
#include "read_file.h"
#include "status_matchers.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

namespace mailrelay {
namespace {

const std::string kCorpus = MAILRELAY_CORPUS_DIR;

TEST(PostqueueJson, CorpusSample) {
  auto l = ParsePostqueueJson(ReadFile(kCorpus + "/postqf/qdata.jsonl"));
  EXPECT_EQ(0u, l.bad_lines);
  ASSERT_EQ(5u, l.entries.size());
  // Values checked with python3 json over the same file.
  const std::vector<std::tuple<std::string, std::int64_t, std::uint64_t, std::string, std::size_t>>
      expected = {
          {"4Jgt2V6BKNz1xy5", 1642847778, 2272, "fummo@example.org", 47},
          {"4JgtdG4SPrz1y14", 1642849378, 1345, "heidschnucke70@example.org", 1},
          {"4Jgt2V6Twsz1y0d", 1642847778, 2272, "fummo@example.org", 48},
          {"4JgtdG3s0yz1y0v", 1642849378, 24746, "dieter.bueschken@example.org", 1},
          {"4JfdNQ5stDz1yJf", 1642672950, 1616544, "manueldx@example.org", 1},
      };
  for (std::size_t i = 0; i < expected.size(); ++i) {
    const auto& e = l.entries[i];
    EXPECT_EQ("active", e.queue_name);
    EXPECT_EQ(std::get<0>(expected[i]), e.queue_id);
    EXPECT_EQ(std::get<1>(expected[i]), e.arrival_time);
    EXPECT_EQ(std::get<2>(expected[i]), e.message_size);
    EXPECT_EQ(std::get<3>(expected[i]), e.sender);
    EXPECT_EQ(std::get<4>(expected[i]), e.recipients.size());
    EXPECT_FALSE(e.forced_expire);
  }
  EXPECT_EQ("vladikluigi@example.com", l.entries[0].recipients[0]);
}

// Shaped like Postfix 3.7 output (classification.md 4.5 / Appendix B), written by us: the
// deferred and hold queues, a bounce (MAILER-DAEMON), forced_expire, a message without
// delay_reason, escapes, unknown members.
const char kOwnSamples[] =
    R"J({"queue_name": "deferred", "queue_id": "6B24BA74653", "arrival_time": 1795348045, "message_size": 297, "forced_expire": false, "sender": "www-data@mx.example.test", "recipients": [{"address": "dave@example.com", "delay_reason": "connect to 127.0.0.1[127.0.0.1]:2599: Connection refused"}]})J"
    "\n"
    R"J({"queue_name": "hold", "queue_id": "717D8A74613", "arrival_time": 1795348045, "message_size": 297, "forced_expire": false, "sender": "ceo@bank.example", "recipients": [{"address": "erin@example.com", "delay_reason": "connect to 127.0.0.1[127.0.0.1]:2599: Connection refused"}]})J"
    "\n"
    R"J({"queue_name": "deferred", "queue_id": "4Xk2m71ZJQz9sTq", "arrival_time": 1795349000, "message_size": 2154, "forced_expire": true, "sender": "MAILER-DAEMON", "recipients": [{"address": "nobody@remote.example", "delay_reason": "host mx.remote.example[192.0.2.7] said: 452 4.2.2 Mailbox full (in reply to RCPT TO command)"}]})J"
    "\n"
    R"J({"queue_name": "incoming", "queue_id": "A1B2C3D4E5", "arrival_time": 1795349100, "message_size": 12, "sender": "", "recipients": []})J"
    "\n"
    R"J({"queue_name":"maildrop","queue_id":"F00","arrival_time":1795349200.0,"message_size":1e3,"sender":"caf\u00e9 \ud83d\ude00 \"q\" \/","recipients":[{"address":"a@b"},{"address":"c@d","x":[1,{"y":null}]}],"future_member":{"z":true}})J"
    "\n";

TEST(PostqueueJson, OwnSamplesForEveryQueue) {
  auto l = ParsePostqueueJson(kOwnSamples);
  EXPECT_EQ(0u, l.bad_lines);
  ASSERT_EQ(5u, l.entries.size());
  EXPECT_EQ("deferred", l.entries[0].queue_name);
  EXPECT_EQ("hold", l.entries[1].queue_name);
  EXPECT_TRUE(l.entries[2].forced_expire);
  EXPECT_TRUE(IsPostfixBounceSender(l.entries[2].sender));
  EXPECT_TRUE(IsPostfixBounceSender(l.entries[3].sender));
  EXPECT_FALSE(IsPostfixBounceSender(l.entries[0].sender));
  EXPECT_EQ(0u, l.entries[3].recipients.size());
  EXPECT_EQ(1795349200, l.entries[4].arrival_time);
  EXPECT_EQ(1000u, l.entries[4].message_size);
  EXPECT_EQ("caf\xc3\xa9 \xf0\x9f\x98\x80 \"q\" /", l.entries[4].sender);
  EXPECT_EQ(2u, l.entries[4].recipients.size());

  QueueMessage m = ToQueueMessage(l.entries[2]);
  EXPECT_EQ("deferred", m.queue);
  EXPECT_TRUE(m.bounce);
  EXPECT_EQ("<>", m.sender_label);
  EXPECT_EQ(2154u, m.size_bytes);
  EXPECT_EQ(1u, m.recipients);
  EXPECT_EQ(1795349000, m.received_time);
  EXPECT_FALSE(m.frozen);
  EXPECT_EQ("", m.owner_label);
  m = ToQueueMessage(l.entries[1]);
  EXPECT_EQ("hold", m.queue);
  EXPECT_EQ("ceo@bank.example", m.sender_label);
}

TEST(PostqueueJson, BadLinesAreCountedAndSkipped) {
  std::string text = std::string(kOwnSamples) +
                     "not json\n"
                     "{\"queue_name\": \"corrupt\", \"queue_id\": \"X\", \"arrival_time\": 1, "
                     "\"message_size\": 1, \"sender\": \"a\", \"recipients\": []}\n"
                     "{\"queue_name\": \"active\"}\n"
                     "{\"queue_name\": \"active\", \"queue_id\": \"X\", \"arrival_time\": -1, "
                     "\"message_size\": 1, \"sender\": \"a\", \"recipients\": []}\n"
                     "{\"queue_name\": \"active\", \"queue_id\": \"X\", \"arrival_time\": 1, "
                     "\"message_size\": \"1\", \"sender\": \"a\", \"recipients\": []}\n"
                     "{\"queue_name\": \"active\", \"queue_id\": \"X\", \"arrival_time\": 1, "
                     "\"message_size\": 1, \"sender\": \"a\", \"recipients\": [\"a@b\"]}\n"
                     "[1, 2]\n"
                     "{\"a\": \"\\ud800\"}\n"
                     "{\"a\": 01}\n"
                     "{} {}\n"
                     "\r\n   \n";
  auto l = ParsePostqueueJson(text);
  EXPECT_EQ(5u, l.entries.size());
  EXPECT_EQ(10u, l.bad_lines);

  PostqueueEntry e;
  EXPECT_EQ("unknown queue_name",
            ParsePostqueueJsonLine("{\"queue_name\": \"nope\"}", &e).message());
}

TEST(PostqueueJson, DeepNestingAndEveryTruncationAreSafe) {
  PostqueueEntry e;
  std::string deep(100000, '[');
  EXPECT_EQ("JSON nested too deeply", ParsePostqueueJsonLine(deep, &e).message());
  std::string line = kOwnSamples;
  line = line.substr(0, line.find('\n'));
  for (std::size_t n = 0; n < line.size(); ++n) {
    EXPECT_FALSE(ParsePostqueueJsonLine(line.substr(0, n), &e).ok()) << n;
  }
  EXPECT_TRUE(IsOk(ParsePostqueueJsonLine(line, &e)));
  for (std::size_t i = 0; i < line.size(); ++i) {
    for (char c : {'\0', '"', '\\', '{', ']', '9', 'x'}) {
      std::string damaged = line;
      damaged[i] = c;
      (void)ParsePostqueueJsonLine(damaged, &e);  // must not crash
    }
  }
}

}  // namespace
}  // namespace mailrelay
