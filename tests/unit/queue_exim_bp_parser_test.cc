// ParseEximBp over every `exim -bp` listing of the corpus and a real Exim 4.96 listing.
#include "mta/exim/bp_parser.h"
#include "read_file.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace mailrelay {
namespace {

const std::string kCorpus = MAILRELAY_CORPUS_DIR;

// The test suite munges ages to "TTT" and sizes to "sss" (SOURCES.md); put real-looking
// values back: age 5m, size 123.
std::string Unmunge(const std::string& text) {
  std::istringstream in(text);
  std::string out;
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("TTT ", 0) == 0) line.replace(0, 3, " 5m");
    if (auto p = line.find(" sss "); p != std::string::npos && p < 8) line.replace(p + 1, 3, "123");
    out += line + "\n";
  }
  return out;
}

TEST(EximBpParser, EveryCorpusListing) {
  const std::map<std::string, std::size_t> expected_entries = {
      {"doc-spec-bp-example.txt", 1},
      {"stdout-0022", 8},
      {"stdout-0154", 10},
      {"stdout-0155", 10},
      {"stdout-0220", 3},
      {"stdout-0221", 3},
      {"stdout-0245", 1},
      {"stdout-0302", 1},
      {"stdout-0317", 2},
      {"stdout-0338", 1},
      {"stdout-0360", 1},
      {"stdout-0465", 2},
      {"stdout-0514", 1},
      {"stdout-0576", 8},
      {"stdout-0611", 1},
      {"stdout-0639", 1},
      {"stdout-0699", 4},
      {"stdout-4110", 1},
      {"stdout-4128", 2},
      {"stdout-4131", 1},
      {"stdout-5300", 1},
      {"stdout-9400", 5},
  };
  std::size_t files = 0, entries = 0, frozen = 0, bounces = 0, logins = 0, undelivered = 0,
              delivered = 0, old_ids = 0;
  for (const auto& entry :
       std::filesystem::directory_iterator(kCorpus + "/exim-testsuite/queue-listings")) {
    std::string name = entry.path().filename();
    SCOPED_TRACE(name);
    auto listing = ParseEximBp(Unmunge(ReadFile(entry.path())));
    ASSERT_TRUE(expected_entries.count(name)) << "new corpus file";
    EXPECT_EQ(expected_entries.at(name), listing.entries.size());
    ++files;
    for (const auto& e : listing.entries) {
      ++entries;
      EXPECT_TRUE(e.has_age);
      EXPECT_TRUE(e.has_size);
      EXPECT_TRUE(e.has_sender);
      EXPECT_FALSE(e.spool_error);
      frozen += e.frozen;
      bounces += e.sender.empty();
      logins += !e.untrusted_login.empty();
      undelivered += e.recipients_undelivered;
      delivered += e.recipients_delivered;
      old_ids += e.id.size() == 16;
    }
  }
  // Counted independently (grep/awk over the files; README: 68 entries, 9 frozen).
  EXPECT_EQ(expected_entries.size(), files);
  EXPECT_EQ(68u, entries);
  EXPECT_EQ(9u, frozen);
  EXPECT_EQ(5u, bounces);
  EXPECT_EQ(3u, logins);
  EXPECT_EQ(83u, undelivered);
  EXPECT_EQ(2u, delivered);
  EXPECT_EQ(8u, old_ids);  // 0699 (2), 9400 (5) and the spec example
}

TEST(EximBpParser, CorpusDetails) {
  auto l =
      ParseEximBp(ReadFile(kCorpus + "/exim-testsuite/queue-listings/doc-spec-bp-example.txt"));
  ASSERT_EQ(1u, l.entries.size());
  EXPECT_EQ("0t5C6f-0000c8-00", l.entries[0].id);
  EXPECT_EQ(25 * 60, l.entries[0].age_seconds);
  EXPECT_EQ(static_cast<std::uint64_t>(2.9 * 1024), l.entries[0].size_bytes);
  EXPECT_EQ("alice@wonderland.fict.example", l.entries[0].sender);
  EXPECT_EQ(2u, l.entries[0].recipients_undelivered);

  l = ParseEximBp(Unmunge(ReadFile(kCorpus + "/exim-testsuite/queue-listings/stdout-0302")));
  ASSERT_EQ(1u, l.entries.size());
  EXPECT_EQ(1u, l.entries[0].recipients_delivered);  // D abcd@myhost.test.ex
  EXPECT_EQ(1u, l.entries[0].recipients_undelivered);
  EXPECT_EQ(0u, l.unparsed_lines);

  l = ParseEximBp(Unmunge(ReadFile(kCorpus + "/exim-testsuite/queue-listings/stdout-0220")));
  ASSERT_EQ(3u, l.entries.size());
  EXPECT_EQ("", l.entries[0].sender);
  EXPECT_EQ("CALLER", l.entries[0].untrusted_login);
  EXPECT_EQ("foo@bar", l.entries[1].sender);

  l = ParseEximBp(Unmunge(ReadFile(kCorpus + "/exim-testsuite/queue-listings/stdout-0514")));
  ASSERT_EQ(1u, l.entries.size());
  EXPECT_EQ("\"spaced user\"@myhost.test.ex", l.entries[0].sender);

  // exiqgrep's tab-indented recipients (0611).
  l = ParseEximBp(Unmunge(ReadFile(kCorpus + "/exim-testsuite/queue-listings/stdout-0611")));
  ASSERT_EQ(1u, l.entries.size());
  EXPECT_EQ(3u, l.entries[0].recipients_undelivered);
  EXPECT_GT(l.unparsed_lines, 0u);  // the exiqgrep help text around it
}

// Real output of Exim 4.96 (Debian 12) `exim -bp` over a spool holding the corpus' five
// real -H/-D pairs (exim-testsuite/spool-input and exim-exporter/input).
const char kRealListing[] =
    "2644d  2.2K 1i2t1o-0000cD-CV <> *** frozen ***\n"
    "          root@schlittermann.de\n"
    "\n"
    "2643d  2.1K 1i3FVM-0008QX-DU <> *** frozen ***\n"
    "          root@example.com\n"
    "\n"
    "1247d   317 1qDO9M-0003B3-2p <nobody@test.ex>\n"
    "          nulldeliver@test.ex\n"
    "\n"
    "1014d   185 1rZeE0-00GmsY-CG <>\n"
    "    *** spool format error: size=950 *** *** frozen ***\n"
    "          postmaster@junk.bogus\n"
    "\n"
    "1013d   173 1ra7OS-004XaW-CD <>\n"
    "    *** spool format error: size=1276 ***\n"
    "          mailer@mail.bogus\n"
    "\n";

TEST(EximBpParser, RealExim496Listing) {
  auto l = ParseEximBp(kRealListing);
  ASSERT_EQ(5u, l.entries.size());
  EXPECT_EQ(0u, l.unparsed_lines);
  EXPECT_EQ(2644 * 86400, l.entries[0].age_seconds);
  EXPECT_EQ(static_cast<std::uint64_t>(2.2 * 1024), l.entries[0].size_bytes);
  EXPECT_TRUE(l.entries[0].frozen);
  EXPECT_FALSE(l.entries[0].spool_error);
  EXPECT_EQ(317u, l.entries[2].size_bytes);
  EXPECT_TRUE(l.entries[3].spool_error);
  EXPECT_TRUE(l.entries[3].frozen);
  EXPECT_EQ(1u, l.entries[3].recipients_undelivered);
  EXPECT_TRUE(l.entries[4].spool_error);
  EXPECT_FALSE(l.entries[4].frozen);

  QueueMessage m = ToQueueMessage(l.entries[2], 2000000000);
  EXPECT_EQ("input", m.queue);
  EXPECT_EQ("nobody@test.ex", m.sender_label);
  EXPECT_EQ(2000000000 - 1247 * 86400, m.received_time);
  EXPECT_TRUE(m.has_received_time);
  EXPECT_FALSE(m.bounce);
  EXPECT_EQ("", m.owner_label);
  m = ToQueueMessage(l.entries[0], 2000000000);
  EXPECT_TRUE(m.bounce);
  EXPECT_EQ("<>", m.sender_label);
}

TEST(EximBpParser, ShapesFromQueueC) {
  // Age units and size formats of queue.c / string_format_size; blank size; unreadable
  // envelope (no age, no sender); +D generated addresses; a 23-char id; CRLF.
  const char text[] =
      " 0m   356 1xV64o-0004Rx-1A <www-data@mx.example.test>\r\n"
      "          erin@example.com\r\n"
      "        D bob@mx.example.test\r\n"
      "       +D alias@mx.example.test\r\n"
      "\n"
      "95m       10HmaX-000000005vi-0000 <a@b>\n"
      "          c@d\n"
      "\n"
      " 2h   25K 1xV64o-0004Rx-1B <>\n"
      "          x@y\n"
      "\n"
      " 4d  9.9M 1xV64o-0004Rx-1C <a@b>\n"
      "          x@y\n"
      "\n"
      "   12M 1xV64o-0004Rx-1D\n"
      "    *** spool read error: Permission denied ***\n"
      "\n";
  auto l = ParseEximBp(text);
  ASSERT_EQ(5u, l.entries.size());
  EXPECT_EQ(0u, l.unparsed_lines);
  EXPECT_EQ(0, l.entries[0].age_seconds);
  EXPECT_EQ(356u, l.entries[0].size_bytes);
  EXPECT_EQ(1u, l.entries[0].recipients_undelivered);
  EXPECT_EQ(1u, l.entries[0].recipients_delivered);
  EXPECT_EQ(95 * 60, l.entries[1].age_seconds);
  EXPECT_FALSE(l.entries[1].has_size);
  EXPECT_EQ("10HmaX-000000005vi-0000", l.entries[1].id);
  EXPECT_EQ(7200, l.entries[2].age_seconds);
  EXPECT_EQ(25u * 1024, l.entries[2].size_bytes);
  EXPECT_EQ(4 * 86400, l.entries[3].age_seconds);
  EXPECT_EQ(static_cast<std::uint64_t>(9.9 * 1024 * 1024), l.entries[3].size_bytes);
  EXPECT_FALSE(l.entries[4].has_age);
  EXPECT_FALSE(l.entries[4].has_sender);
  EXPECT_TRUE(l.entries[4].spool_error);
  EXPECT_EQ(12u << 20, l.entries[4].size_bytes);
}

TEST(EximBpParser, TokenParsers) {
  std::int64_t s = 0;
  std::uint64_t b = 0;
  EXPECT_TRUE(ParseEximBpAge("72h", &s));
  EXPECT_EQ(72 * 3600, s);
  EXPECT_FALSE(ParseEximBpAge("TTT", &s));
  EXPECT_FALSE(ParseEximBpAge("5", &s));
  EXPECT_FALSE(ParseEximBpAge("m", &s));
  EXPECT_TRUE(ParseEximBpSize("1.6K", &b));
  EXPECT_EQ(1638u, b);
  EXPECT_FALSE(ParseEximBpSize("sss", &b));
  EXPECT_FALSE(ParseEximBpSize("1.6", &b));
  EXPECT_FALSE(ParseEximBpSize("K", &b));
  EXPECT_FALSE(ParseEximBpSize("1.66K", &b));
}

TEST(EximBpParser, GarbageIsCountedNeverFatal) {
  auto l = ParseEximBp("exim: permission denied\n\n          orphan@recipient\n\x01\xff\n");
  EXPECT_TRUE(l.entries.empty());
  EXPECT_EQ(3u, l.unparsed_lines);
  std::string all;
  for (int i = 0; i < 256; ++i) all += static_cast<char>(i);
  ParseEximBp(all + kRealListing + all);  // must not crash
  // A listing cut at every byte never crashes and never invents entries.
  const std::string real = kRealListing;
  for (std::size_t n = 0; n <= real.size(); ++n) {
    EXPECT_LE(ParseEximBp(real.substr(0, n)).entries.size(), 5u);
  }
}

}  // namespace
}  // namespace mailrelay
