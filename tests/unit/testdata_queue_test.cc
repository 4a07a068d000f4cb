// The queue readers over the project's own fixtures (tests/testdata, see tests/README.md): the
// Exim spool of tests/testdata/exim/spool (checked with Exim 4.96's `exim -bp`), the `exim -bp`
// listing and the `postqueue -j` output. Every expected value was counted by hand from the
// fixture files.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "mta/exim/bp_parser.h"
#include "mta/exim/spool_header.h"
#include "mta/exim/spool_scanner.h"
#include "mta/postfix/postqueue_json_parser.h"
#include "read_file.h"
#include "status_matchers.h"

namespace mailrelay {
namespace {

namespace fs = std::filesystem;
const std::string kTestdata = MAILRELAY_TESTDATA_DIR;
const std::string kSpool = kTestdata + "/exim/spool/input";

std::int64_t FileSize(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 ? static_cast<std::int64_t>(st.st_size) : -1;
}

struct SpoolFile {
  std::string rel;  // relative to kSpool, without -H
  std::string id;
  std::string sender;
  std::string owner;
  bool frozen;
  bool local_error;
  std::vector<std::string> recipients;
  std::vector<std::string> nonrecipients;
  std::uint64_t undelivered;  // with the -J journal, when there is one
  std::uint64_t header_bytes;
  std::uint64_t size;  // exim -bp's size (Exim 4.96 printed 383, 559, 3.2K, 20K for these)
  bool headers_valid;
  std::size_t acl_variables;
};

const std::vector<SpoolFile>& Files() {
  static const std::vector<SpoolFile> files = {
      {"1wD0Aa-000Q01-Aa",
       "1wD0Aa-000Q01-Aa",
       "info@shop.example",
       "info@shop.example",
       false,
       false,
       {"a1@example.com", "a2@example.net"},
       {},
       2,
       348,
       383,
       true,
       1},
      {"1wD0Bb-000000000Q2-BbCc",
       "1wD0Bb-000000000Q2-BbCc",
       "www-data@shop.example",
       "www-data",
       false,
       false,
       {"frank@example.com", "grace@example.com", "heidi@example.com"},
       {"frank@example.com"},
       1,
       376,
       406,
       true,
       0},
      {"1wD0Cc-000Q03-Cc",
       "1wD0Cc-000Q03-Cc",
       "",
       "mailnull",
       true,
       true,
       {"security@paypal.example"},
       {},
       1,
       457,
       559,
       true,
       0},
      {"1wD0Dd-000Q04-Dd",
       "1wD0Dd-000Q04-Dd",
       "news@sender.example",
       "",
       false,
       false,
       {"info@shop.example"},
       {},
       1,
       253,
       3255,
       true,
       0},
      {"e/1wD0Ee-000000000Q5-EeFf",
       "1wD0Ee-000000000Q5-EeFf",
       "seller@shop.example",
       "seller@shop.example",
       true,
       false,
       {"c1@example.com", "c2@example.com"},
       {},
       2,
       242,
       20244,
       true,
       1},
      {"1wD0Gg-000Q07-Gg",
       "1wD0Gg-000Q07-Gg",
       "bulk@shop.example",
       "shopuser",
       false,
       false,
       {"d1@example.com", "d2@example.com"},
       {},
       2,
       69,
       69,
       false,
       0},
  };
  return files;
}

TEST(TestdataSpool, EveryHeaderFile) {
  for (const auto& f : Files()) {
    SCOPED_TRACE(f.rel);
    std::string base = kSpool + "/" + f.rel;
    EximSpoolHeader h;
    ASSERT_TRUE(IsOk(ParseEximSpoolHeader(ReadFile(base + "-H"), f.id, &h)));
    EXPECT_EQ(f.id, h.id);
    EXPECT_EQ(f.sender, h.sender);
    EXPECT_EQ(f.owner, EximQueueOwner(h));
    EXPECT_EQ(f.frozen, h.frozen);
    EXPECT_EQ(f.local_error, h.local_error);
    EXPECT_EQ(f.recipients, h.recipients);
    EXPECT_EQ(f.nonrecipients, h.nonrecipients);
    EXPECT_EQ(f.header_bytes, h.header_bytes);
    EXPECT_EQ(f.headers_valid, h.headers_valid) << h.header_problem;
    EXPECT_EQ(f.acl_variables, h.acl_variables);
    std::vector<std::string> journal;
    if (fs::exists(base + "-J")) journal = ParseEximJournal(ReadFile(base + "-J"));
    EXPECT_EQ(f.undelivered, CountUndeliveredRecipients(h, journal));
    EXPECT_EQ(f.size, EximMessageSize(h, FileSize(base + "-D")));

    // The scanner's parser gives the same answers.
    EximSpoolSummary s;
    std::string text = ReadFile(base + "-H");
    ASSERT_TRUE(IsOk(ParseEximSpoolSummary(text, f.id, &s)));
    QueueMessage full = ToQueueMessage(h, FileSize(base + "-D"), {});
    QueueMessage summary = ToQueueMessage(s, FileSize(base + "-D"));
    EXPECT_EQ(full.sender_label, summary.sender_label);
    EXPECT_EQ(full.owner_label, summary.owner_label);
    EXPECT_EQ(full.frozen, summary.frozen);
    EXPECT_EQ(full.size_bytes, summary.size_bytes);
    EXPECT_EQ(full.recipients, summary.recipients);
    EXPECT_EQ(full.received_time, summary.received_time);
  }
}

TEST(TestdataSpool, Details) {
  EximSpoolHeader h;
  // The ACL variable's value holds a line "-x1" that is no option; the options after it count.
  ASSERT_TRUE(IsOk(ParseEximSpoolHeader(ReadFile(kSpool + "/1wD0Aa-000Q01-Aa-H"), "", &h)));
  EXPECT_EQ("mailnull", h.originator_login);
  EXPECT_EQ(47, h.originator_uid);
  EXPECT_EQ(12, h.originator_gid);
  EXPECT_EQ(1772445600, h.received_time);
  EXPECT_EQ("[203.0.113.5]:51234", h.host_address);
  EXPECT_EQ("dovecot_login", h.host_auth);
  EXPECT_EQ("esmtpsa", h.received_protocol);
  EXPECT_EQ(7u, h.header_count);  // one of them deleted (*), not in header_bytes

  // Unauthenticated SMTP: -ident is an RFC 1413 answer, not an owner; old ip.port address.
  ASSERT_TRUE(IsOk(ParseEximSpoolHeader(ReadFile(kSpool + "/1wD0Dd-000Q04-Dd-H"), "", &h)));
  EXPECT_EQ("evil", h.ident);
  EXPECT_EQ("192.0.2.50.25123", h.host_address);
  EXPECT_EQ("", EximQueueOwner(h));
  EXPECT_EQ(3, h.warning_count);

  // The frozen bounce.
  ASSERT_TRUE(IsOk(ParseEximSpoolHeader(ReadFile(kSpool + "/1wD0Cc-000Q03-Cc-H"), "", &h)));
  EXPECT_EQ(1772449861, h.frozen_at);

  // An envelope that cannot be read: the sender line has no <>.
  Status bad = ParseEximSpoolHeader(ReadFile(kSpool + "/1wD0Ff-000Q06-Ff-H"), "", &h);
  EXPECT_FALSE(bad.ok());
  EXPECT_EQ("bad sender line", bad.message());
  // The id must match the file name when asked.
  EXPECT_FALSE(
      ParseEximSpoolHeader(ReadFile(kSpool + "/1wD0Aa-000Q01-Aa-H"), "1wD0Cc-000Q03-Cc", &h).ok());

  // The journal of the sendmail submission: grace@ was delivered after the -H was written.
  EXPECT_EQ(std::vector<std::string>{"grace@example.com"},
            ParseEximJournal(ReadFile(kSpool + "/1wD0Bb-000000000Q2-BbCc-J")));
}

TEST(TestdataSpool, EveryTruncationAndByteFlipAgreesAndIsSafe) {
  for (const auto& f : Files()) {
    const std::string text = ReadFile(kSpool + "/" + f.rel + "-H");
    EximSpoolHeader h;
    EximSpoolSummary s;
    for (std::size_t n = 0; n <= text.size(); ++n) {
      std::string cut = text.substr(0, n);
      Status full = ParseEximSpoolHeader(cut, "", &h);
      Status summary = ParseEximSpoolSummary(cut, "", &s);
      ASSERT_EQ(full.ok(), summary.ok()) << f.rel << " cut at " << n;
      EXPECT_EQ(full.message(), summary.message()) << f.rel << " cut at " << n;
      if (full.ok()) {
        EXPECT_EQ(h.frozen, s.frozen) << n;
        EXPECT_EQ(h.header_bytes, s.header_bytes) << n;
        EXPECT_EQ(h.headers_valid, s.headers_valid) << n;
      }
    }
    for (std::size_t i = 0; i < text.size(); i += 3) {
      for (char c : {'\0', '\n', '-', 'Y', '9'}) {
        std::string damaged = text;
        damaged[i] = c;
        Status full = ParseEximSpoolHeader(damaged, "", &h);
        Status summary = ParseEximSpoolSummary(damaged, "", &s);
        ASSERT_EQ(full.ok(), summary.ok()) << f.rel << " at " << i;
        EXPECT_EQ(full.message(), summary.message()) << f.rel << " at " << i;
      }
    }
  }
}

// A copy of the fixture spool in a private directory: flat (as committed, with one split
// subdirectory) or fully split (input/<6th char of the id>/).
class SpoolCopy {
 public:
  explicit SpoolCopy(bool split) {
    char tmpl[] = "/tmp/mailrelay-testdata-spool-XXXXXX";
    root_ = ::mkdtemp(tmpl);
    input_ = root_ + "/input";
    fs::create_directories(input_);
    for (const auto& entry : fs::recursive_directory_iterator(kSpool)) {
      if (!entry.is_regular_file()) continue;
      std::string name = entry.path().filename().string();
      std::string dest = input_;
      if (split) {
        dest += "/" + name.substr(5, 1);
      } else if (entry.path().parent_path() != fs::path(kSpool)) {
        dest += "/" + entry.path().parent_path().filename().string();
      }
      fs::create_directories(dest);
      fs::copy_file(entry.path(), dest + "/" + name);
    }
  }
  ~SpoolCopy() { fs::remove_all(root_); }
  const std::string& input() const { return input_; }

 private:
  std::string root_;
  std::string input_;
};

struct ScanMode {
  bool split;
  bool io_uring;
};
void PrintTo(const ScanMode& m, std::ostream* os) {
  *os << (m.split ? "split" : "flat") << (m.io_uring ? ", io_uring" : ", system calls");
}

class TestdataSpoolScan : public ::testing::TestWithParam<ScanMode> {};

INSTANTIATE_TEST_SUITE_P(Layouts, TestdataSpoolScan,
                         ::testing::Values(ScanMode{false, false}, ScanMode{false, true},
                                           ScanMode{true, false}, ScanMode{true, true}),
                         [](const ::testing::TestParamInfo<ScanMode>& p) {
                           return std::string(p.param.split ? "Split" : "Flat") +
                                  (p.param.io_uring ? "IoUring" : "Syscalls");
                         });

TEST_P(TestdataSpoolScan, CountsWhatExim496Lists) {
  SpoolCopy spool(GetParam().split);
  EximSpoolScanner::Options o;
  o.input_dir = spool.input();
  o.io_uring = GetParam().io_uring;
  EximSpoolScanner scanner(o);
  for (int round = 0; round < 2; ++round) {  // the second scan is served from the cache
    SCOPED_TRACE(round);
    QueueScan scan = scanner.Scan();
    ASSERT_TRUE(scan.ok);
    std::map<std::string, const QueueMessage*> by_id;
    for (const auto& m : scan.messages) by_id[m->id] = m.get();
    ASSERT_EQ(6u, by_id.size());  // the unreadable envelope (Ff) is not a message
    std::uint64_t bytes = 0, recipients = 0;
    std::size_t frozen = 0, bounces = 0;
    for (const auto& f : Files()) {
      ASSERT_TRUE(by_id.count(f.id)) << f.id;
      const QueueMessage& m = *by_id[f.id];
      EXPECT_EQ(f.size, m.size_bytes) << f.id;
      EXPECT_EQ(f.undelivered, m.recipients) << f.id;
      EXPECT_EQ(f.owner, m.owner_label) << f.id;
      EXPECT_EQ(f.sender.empty() ? "<>" : f.sender, m.sender_label) << f.id;
      bytes += m.size_bytes;
      recipients += m.recipients;
      frozen += m.frozen;
      bounces += m.bounce;
    }
    EXPECT_EQ(24916u, bytes);
    EXPECT_EQ(9u, recipients);
    EXPECT_EQ(2u, frozen);
    EXPECT_EQ(1u, bounces);
    // Ff (envelope) and Gg (header section): parse errors, at every scan.
    EXPECT_EQ(2u, scan.errors[static_cast<int>(QueueError::kParse)]);
    EXPECT_FALSE(scan.truncated);
  }
}

TEST(TestdataEximBp, Listing) {
  EximBpListing l = ParseEximBp(ReadFile(kTestdata + "/exim/bp/listing.txt"));
  EXPECT_EQ(0u, l.unparsed_lines);
  ASSERT_EQ(9u, l.entries.size());
  struct Want {
    const char* id;
    bool has_age;
    std::int64_t age;
    bool has_size;
    std::uint64_t size;
    bool has_sender;
    const char* sender;
    bool frozen;
    bool spool_error;
    std::uint64_t undelivered;
    std::uint64_t delivered;
    const char* login;
  };
  const Want want[] = {
      {"1wD0Aa-000Q01-Aa", true, 300, true, 383, true, "info@shop.example", false, false, 2, 0, ""},
      {"1wD0Bb-000000000Q2-BbCc", true, 2820, true, 406, true, "www-data@shop.example", false,
       false, 1, 2, ""},
      {"1wD0Cc-000Q03-Cc", true, 7200, true, 559, true, "", true, false, 1, 0, ""},
      {"1wD0Dd-000Q04-Dd", true, 259200, true, 3276, true, "news@sender.example", false, false, 1,
       0, ""},
      {"1wD0Ee-000000000Q5-EeFf", true, 345600, true, 20480, true, "seller@shop.example", true,
       false, 2, 0, ""},
      {"1wD0Ff-000Q06-Ff", false, 0, false, 0, false, "", false, true, 0, 0, ""},
      {"1wD0Gg-000Q07-Gg", true, 259200, false, 0, true, "bulk@shop.example", false, true, 2, 0,
       ""},
      {"1wD0Hh-000Q08-Hh", true, 5400, true, 3040870, true, "big@shop.example", false, false, 1, 1,
       "shopuser"},
      {"1wD0Ii-000Q09-Ii", true, 60, true, 12582912, true, "huge@shop.example", false, false, 1, 0,
       ""},
  };
  for (std::size_t i = 0; i < std::size(want); ++i) {
    const auto& e = l.entries[i];
    const auto& w = want[i];
    SCOPED_TRACE(w.id);
    EXPECT_EQ(w.id, e.id);
    EXPECT_EQ(w.has_age, e.has_age);
    EXPECT_EQ(w.age, e.age_seconds);
    EXPECT_EQ(w.has_size, e.has_size);
    EXPECT_EQ(w.size, e.size_bytes);
    EXPECT_EQ(w.has_sender, e.has_sender);
    EXPECT_EQ(w.sender, e.sender);
    EXPECT_EQ(w.frozen, e.frozen);
    EXPECT_EQ(w.spool_error, e.spool_error);
    EXPECT_EQ(w.undelivered, e.recipients_undelivered);
    EXPECT_EQ(w.delivered, e.recipients_delivered);
    EXPECT_EQ(w.login, e.untrusted_login);
  }
  QueueMessage m = ToQueueMessage(l.entries[4], 1772800000);
  EXPECT_EQ(1772800000 - 345600, m.received_time);
  EXPECT_TRUE(m.frozen);
  EXPECT_EQ("", m.owner_label);  // -bp carries no authenticated id

  // Exim prints nothing for an empty queue.
  EximBpListing empty = ParseEximBp(ReadFile(kTestdata + "/exim/bp/empty.txt"));
  EXPECT_TRUE(empty.entries.empty());
  EXPECT_EQ(0u, empty.unparsed_lines);
}

TEST(TestdataPostqueue, EveryQueue) {
  PostqueueListing l = ParsePostqueueJson(ReadFile(kTestdata + "/postfix/postqueue-j.jsonl"));
  EXPECT_EQ(0u, l.bad_lines);
  ASSERT_EQ(8u, l.entries.size());
  std::map<std::string, int> messages;
  std::map<std::string, std::uint64_t> bytes, recipients;
  int bounces = 0;
  for (const auto& e : l.entries) {
    ++messages[e.queue_name];
    bytes[e.queue_name] += e.message_size;
    recipients[e.queue_name] += e.recipients.size();
    bounces += IsPostfixBounceSender(e.sender);
    QueueMessage m = ToQueueMessage(e);
    EXPECT_EQ(e.queue_name, m.queue);
    EXPECT_EQ(e.arrival_time, m.received_time);
    EXPECT_FALSE(m.frozen);
  }
  EXPECT_EQ((std::map<std::string, int>{
                {"active", 1}, {"deferred", 3}, {"hold", 2}, {"incoming", 1}, {"maildrop", 1}}),
            messages);
  EXPECT_EQ((std::map<std::string, std::uint64_t>{{"active", 1500},
                                                  {"deferred", 600 + 3000 + 2048},
                                                  {"hold", 512 + 800},
                                                  {"incoming", 5400},
                                                  {"maildrop", 250}}),
            bytes);
  EXPECT_EQ(5u, recipients["deferred"]);
  EXPECT_EQ(2, bounces);  // MAILER-DAEMON and ""
  EXPECT_TRUE(l.entries[3].forced_expire);
  EXPECT_EQ("4Rk7Pq1mCxz9JhL", l.entries[3].queue_id);
  // \u00e9 decoded to UTF-8; the unknown member with nested values is skipped.
  EXPECT_EQ(std::vector<std::string>{"ren\xc3\xa9@example.fr"}, l.entries[7].recipients);
  EXPECT_EQ("<>", ToQueueMessage(l.entries[2]).sender_label);
  EXPECT_EQ("<>", ToQueueMessage(l.entries[5]).sender_label);

  // A damaged line among good ones is counted and skipped; the rest is read.
  std::string text = ReadFile(kTestdata + "/postfix/postqueue-j.jsonl");
  std::string damaged = text.substr(0, text.find('\n') + 1) + "{\"queue_name\": \"active\", \n" +
                        text.substr(text.find('\n') + 1);
  PostqueueListing d = ParsePostqueueJson(damaged);
  EXPECT_EQ(1u, d.bad_lines);
  EXPECT_EQ(8u, d.entries.size());
}

}  // namespace
}  // namespace mailrelay
