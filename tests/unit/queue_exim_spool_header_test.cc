// ParseEximSpoolHeader over every real -H file of the corpus, the 29 complete -H dumps of
// Exim's test suite, hand-written files checked against a real Exim 4.96 `exim -bp`, and
// damaged input.
#include "mta/exim/spool_header.h"
#include "read_file.h"
#include "status_matchers.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

namespace mailrelay {
namespace {

const std::string kCorpus = MAILRELAY_CORPUS_DIR;

std::int64_t FileSize(const std::string& path) {
  return static_cast<std::int64_t>(std::filesystem::file_size(path));
}

// exim -bp's size column (string_format_size in Exim's string.c).
std::string EximSizeColumn(std::uint64_t size) {
  char buf[32];
  double s = static_cast<double>(size);
  if (size == 0) return "     ";
  if (size < 1024) {
    std::snprintf(buf, sizeof buf, "%5d", static_cast<int>(size));
  } else if (size < 10 * 1024) {
    std::snprintf(buf, sizeof buf, "%4.1fK", s / 1024.0);
  } else if (size < 1024 * 1024) {
    std::snprintf(buf, sizeof buf, "%4dK", static_cast<int>((size + 512) / 1024));
  } else if (size < 10 * 1024 * 1024) {
    std::snprintf(buf, sizeof buf, "%4.1fM", s / (1024.0 * 1024.0));
  } else {
    std::snprintf(buf, sizeof buf, "%4dM", static_cast<int>((size + 512 * 1024) / (1024 * 1024)));
  }
  return buf;
}

struct RealFile {
  std::string dir;
  std::string id;
  std::string sender;
  bool frozen;
  bool local_error;
  std::string ident;
  std::string host_address;
  std::vector<std::string> recipients;
  bool headers_valid;
  // What Exim 4.96 `exim -bp` printed for the file in a spool (size column).
  std::string bp_size;
};

// All real -H files of the corpus. The exim-exporter fixtures' header lengths do not match
// their (edited) text: Exim 4.96 itself prints "*** spool format error ***" for them, and
// still lists them, with the sizes below.
const std::vector<RealFile>& RealFiles() {
  static const std::vector<RealFile> files = {
      {"exim-testsuite/spool-input",
       "1i2t1o-0000cD-CV",
       "",
       true,
       true,
       "Debian-exim",
       "",
       {"root@schlittermann.de"},
       true,
       " 2.2K"},
      {"exim-testsuite/spool-input",
       "1i3FVM-0008QX-DU",
       "",
       true,
       true,
       "Debian-exim",
       "",
       {"root@example.com"},
       true,
       " 2.1K"},
      {"exim-testsuite/spool-input",
       "1qDO9M-0003B3-2p",
       "nobody@test.ex",
       false,
       false,
       "",
       "",
       {"nulldeliver@test.ex"},
       true,
       "  317"},
      {"exim-exporter/input",
       "1rZeE0-00GmsY-CG",
       "",
       true,
       true,
       "Debian-exim",
       "",
       {"postmaster@junk.bogus"},
       false,
       "  185"},
      {"exim-exporter/input",
       "1ra7OS-004XaW-CD",
       "",
       false,
       false,
       "",
       "192.0.0.1.58573",
       {"mailer@mail.bogus"},
       false,
       "  173"},
  };
  return files;
}

TEST(EximSpoolHeader, EveryRealCorpusFile) {
  for (const auto& f : RealFiles()) {
    SCOPED_TRACE(f.id);
    std::string base = kCorpus + "/" + f.dir + "/" + f.id;
    EximSpoolHeader h;
    ASSERT_TRUE(IsOk(ParseEximSpoolHeader(ReadFile(base + "-H"), f.id, &h)));
    EXPECT_EQ(f.id, h.id);
    EXPECT_EQ(f.sender, h.sender);
    EXPECT_EQ(f.frozen, h.frozen);
    EXPECT_EQ(f.local_error, h.local_error);
    EXPECT_EQ(f.ident, h.ident);
    EXPECT_EQ(f.host_address, h.host_address);
    EXPECT_EQ(f.recipients, h.recipients);
    EXPECT_TRUE(h.nonrecipients.empty());
    EXPECT_EQ(f.headers_valid, h.headers_valid) << h.header_problem;
    EXPECT_EQ(f.bp_size, EximSizeColumn(EximMessageSize(h, FileSize(base + "-D"))));
    EXPECT_EQ(1u, CountUndeliveredRecipients(h, {}));
  }
}

TEST(EximSpoolHeader, RealCorpusFileDetails) {
  // Old id format (16 chars), a frozen local bounce, -tls_peerdn ending in a backslash.
  std::string dir = kCorpus + "/exim-testsuite/spool-input/";
  EximSpoolHeader h;
  ASSERT_TRUE(IsOk(ParseEximSpoolHeader(ReadFile(dir + "1i2t1o-0000cD-CV-H"), "", &h)));
  EXPECT_EQ("Debian-exim", h.originator_login);
  EXPECT_EQ(107, h.originator_uid);
  EXPECT_EQ(110, h.originator_gid);
  EXPECT_EQ(1566979804, h.received_time);
  EXPECT_EQ(1566979805, h.frozen_at);
  EXPECT_EQ("local", h.received_protocol);
  EXPECT_EQ(10u, h.header_count);
  EXPECT_EQ("Debian-exim", EximQueueOwner(h));  // local submission: the local user

  // The ~20 kB option line.
  ASSERT_TRUE(IsOk(ParseEximSpoolHeader(ReadFile(dir + "1i3FVM-0008QX-DU-H"), "", &h)));
  EXPECT_TRUE(h.frozen);
  EXPECT_EQ(1567066205, h.frozen_at);

  // SMTP without authentication: -ident would be RFC 1413, so no owner.
  ASSERT_TRUE(IsOk(
      ParseEximSpoolHeader(ReadFile(kCorpus + "/exim-exporter/input/1ra7OS-004XaW-CD-H"), "", &h)));
  EXPECT_EQ("", EximQueueOwner(h));
  EXPECT_EQ("esmtp", h.received_protocol);

  // The id in the file must match the file name when asked.
  EXPECT_FALSE(
      ParseEximSpoolHeader(ReadFile(dir + "1i2t1o-0000cD-CV-H"), "1i3FVM-0008QX-DU", &h).ok());
}

// Extracts the complete -H files printed in Exim test-suite output and undoes the documented
// munging: "CALLER UID GID" -> numbers, "ddddddddd 0" -> a time, "ddd" header lengths (and
// every other length, since the munged text changes sizes) recomputed from the text.
std::vector<std::string> ExtractDumps(const std::string& text) {
  static const std::regex id_line("^[0-9A-Za-z]{6}-[0-9A-Za-z]+-[0-9A-Za-z]+-H$");
  static const std::regex owner_line("^\\S+ \\S+ \\S+$");
  static const std::regex header_line("^(\\d{3}|ddd)([A-Za-z* ]) (.*)$");
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);) lines.push_back(l);
  std::vector<std::string> out;
  for (std::size_t i = 0; i + 3 < lines.size(); ++i) {
    if (!std::regex_match(lines[i], id_line) || !std::regex_match(lines[i + 1], owner_line) ||
        lines[i + 2].empty() || lines[i + 2][0] != '<') {
      continue;
    }
    std::string login = lines[i + 1].substr(0, lines[i + 1].find(' '));
    std::string h = lines[i] + "\n" + login + " 1000 1000\n" + lines[i + 2] + "\n";
    std::string t = lines[i + 3];
    if (t.rfind("ddddddddd ", 0) == 0) t = "936265473" + t.substr(9);
    h += t + "\n";
    std::size_t j = i + 4;
    while (j < lines.size() && !lines[j].empty()) h += lines[j++] + "\n";  // envelope
    h += "\n";
    ++j;
    std::smatch m;
    while (j < lines.size() && std::regex_match(lines[j], m, header_line)) {
      std::string flag = m[2];
      std::string body = std::string(m[3]) + "\n";
      ++j;
      while (j < lines.size() && !lines[j].empty() && (lines[j][0] == '\t' || lines[j][0] == ' ')) {
        body += lines[j++] + "\n";
      }
      char len[8];
      std::snprintf(len, sizeof len, "%03zu", body.size());
      h += len + flag + " " + body;
    }
    out.push_back(h);
    i = j - 1;
  }
  return out;
}

TEST(EximSpoolHeader, EveryCorpusTestSuiteDump) {
  std::size_t files = 0, recipients = 0, undelivered = 0, bounces = 0, auth = 0, owners = 0,
              host = 0, acl = 0, trees = 0, new_ids = 0;
  for (const auto& entry :
       std::filesystem::directory_iterator(kCorpus + "/exim-testsuite/spool-header-dumps")) {
    for (const auto& dump : ExtractDumps(ReadFile(entry.path()))) {
      SCOPED_TRACE(entry.path().string() + "\n" + dump);
      EximSpoolHeader h;
      ASSERT_TRUE(IsOk(ParseEximSpoolHeader(dump, "", &h)));
      EXPECT_TRUE(h.headers_valid) << h.header_problem;
      EXPECT_GT(h.header_count, 0u);
      ++files;
      recipients += h.recipients.size();
      undelivered += CountUndeliveredRecipients(h, {});
      bounces += h.sender.empty();
      auth += !h.auth_id.empty();
      owners += !EximQueueOwner(h).empty();
      host += !h.host_address.empty();
      acl += h.acl_variables;
      trees += !h.nonrecipients.empty();
      new_ids += h.id.size() == 23;
    }
  }
  // Counted independently with grep over the dumps.
  EXPECT_EQ(29u, files);
  EXPECT_EQ(29u, new_ids);
  EXPECT_EQ(35u, recipients);
  // 0338: userx@test.ex delivered; 0379: aaaa@myhost.test.ex delivered. (0377 and 4152 list
  // transport-qualified addresses in the tree, which match no recipient, as in exim -bp.)
  EXPECT_EQ(33u, undelivered);
  EXPECT_EQ(5u, bounces);
  EXPECT_EQ(22u, auth);    // grep -c '^-*auth_id' (0389's comes after an ACL variable)
  EXPECT_EQ(22u, owners);  // every local submission in these dumps also has -auth_id
  EXPECT_EQ(12u, host);
  EXPECT_EQ(1u, acl);  // 0389: -aclm 0 22 / >Sender verify failed<
  EXPECT_EQ(4u, trees);
}

TEST(EximSpoolHeader, RecipientSuffixesAndTree) {
  // stdout-0338: a 3-node tree and a recipient with the "#3" suffix (orcpt, errors_to).
  std::string h =
      "10HmaX-000000005vi-0000-H\nCALLER 1000 1000\n<CALLER@test.ex>\n936265473 0\n"
      "-ident CALLER\n-received_protocol local\n-auth_id CALLER\n"
      "NY a2-userx@test.ex\nNN userx@test.ex\n2\nuserx@test.ex\n"
      "a1-userx@test.ex  0,0 postmaster@test.ex 18,0#3\n\n"
      "038  Date: Tue, 2 Mar 1999 09:44:33 +0000\n";
  EximSpoolHeader out;
  ASSERT_TRUE(IsOk(ParseEximSpoolHeader(h, "", &out)));
  EXPECT_EQ((std::vector<std::string>{"userx@test.ex", "a1-userx@test.ex"}), out.recipients);
  EXPECT_EQ((std::vector<std::string>{"a2-userx@test.ex", "userx@test.ex"}), out.nonrecipients);
  EXPECT_EQ(1u, CountUndeliveredRecipients(out, {}));
  EXPECT_EQ(0u, CountUndeliveredRecipients(out, {"a1-userx@test.ex"}));  // -J journal
  EXPECT_EQ(38u, out.header_bytes);

  // Exim 3 ("addr 0,1,2") and early Exim 4 ("addr 3") suffixes; orcpt with a value.
  h = "10HmaX-000000005vi-0000-H\nu 1 1\n<a@b>\n936265473 0\nXX\n3\nx@y 0,1,2\nz@y 3\n"
      "o@y rfc822;o@y 10,0  0,-1#3\n\n";
  ASSERT_TRUE(IsOk(ParseEximSpoolHeader(h, "", &out)));
  EXPECT_EQ((std::vector<std::string>{"x@y", "z@y", "o@y"}), out.recipients);
}

// Two files written by hand and checked with Exim 4.96's own `exim -bp` (queue_list_
// requires_admin=false, spool_directory=the test dir), which printed:
//   21h    24 1xV65m-0004ZK-0G <alice@mx.example.test>
//           D a@example.com
//           D b@example.com
//             zed@example.com
//
//   22h    24 1xV65n-0004ZL-0H <> *** frozen ***
//             nobody3@mx.example.test
// The first has an ACL variable whose value contains a line "-frozen 17953" (not frozen);
// the second has ACL variables before its -frozen line (frozen: the gvengel/exim_exporter
// bug). Both -D files are "<id>-D\nbody\n" (24 bytes).
const char kAclValueLooksFrozen[] =
    "1xV65m-0004ZK-0G-H\nmail 8 8\n<alice@mx.example.test>\n1795348246 0\n"
    "-received_time_usec .082197\n--helo_name client.example.net\n"
    "-host_address [127.0.0.2]:34583\n-host_auth dovecot_plain\n"
    "-interface_address [127.0.0.1]:2536\n-received_protocol esmtpsa\n"
    "-aclc _spamscore 5\nab cd\n-aclm _note 22\nline one\n-frozen 17953\n"
    "-body_linecount 1\n--auth_id alice@mx.example.test\n"
    "YY b@example.com\nNN a@example.com\nNN c@example.com\n3\na@example.com\n"
    "b@example.com  0,0 postmaster@test.ex 18,0#3\nzed@example.com\n\n"
    "018T To: a@example.com\n022* X-Old: deleted header\n";
const char kAclBeforeFrozen[] =
    "1xV65n-0004ZL-0H-H\nmail 8 8\n<>\n1795348200 0\n-ident mail\n-received_protocol local\n"
    "-aclm _ratelimited 10\nyes\nreally\n-aclc 1 0\n\n-body_linecount 1\n"
    "-frozen 1795348218\n-localerror\nXX\n1\nnobody3@mx.example.test\n\n"
    "018T To: a@example.com\n";

TEST(EximSpoolHeader, AclVariablesCheckedAgainstRealExim) {
  EximSpoolHeader h;
  ASSERT_TRUE(IsOk(ParseEximSpoolHeader(kAclValueLooksFrozen, "1xV65m-0004ZK-0G", &h)));
  EXPECT_TRUE(h.headers_valid) << h.header_problem;
  EXPECT_FALSE(h.frozen);
  EXPECT_EQ(2u, h.acl_variables);
  EXPECT_EQ("alice@mx.example.test", h.auth_id);  // tainted "--auth_id"
  EXPECT_EQ("alice@mx.example.test", EximQueueOwner(h));
  EXPECT_EQ("[127.0.0.2]:34583", h.host_address);
  EXPECT_EQ(3u, h.nonrecipients.size());
  EXPECT_EQ(1u, CountUndeliveredRecipients(h, {}));
  EXPECT_EQ(24u, EximMessageSize(h, 24));  // 18 header bytes (the '*' one excluded) + 6

  ASSERT_TRUE(IsOk(ParseEximSpoolHeader(kAclBeforeFrozen, "1xV65n-0004ZL-0H", &h)));
  EXPECT_TRUE(h.frozen);
  EXPECT_EQ(1795348218, h.frozen_at);
  EXPECT_TRUE(h.local_error);
  EXPECT_EQ(2u, h.acl_variables);
  EXPECT_EQ("mail", EximQueueOwner(h));
  EXPECT_EQ(24u, EximMessageSize(h, 24));

  QueueMessage m = ToQueueMessage(h, 24, {});
  EXPECT_TRUE(m.bounce);
  EXPECT_TRUE(m.frozen);
  EXPECT_EQ("<>", m.sender_label);
  EXPECT_EQ("mail", m.owner_label);
  EXPECT_EQ("input", m.queue);
  EXPECT_EQ(1u, m.recipients);
}

TEST(EximSpoolHeader, LabelValuesAreSanitised) {
  std::string h =
      "1xV65m-0004ZK-0G-H\nmail 8 8\n<a\x01\xff@x>\n1795348246 0\n--auth_id bad\x02id\nXX\n1\n"
      "r@x\n\n";
  EximSpoolHeader out;
  ASSERT_TRUE(IsOk(ParseEximSpoolHeader(h, "", &out)));
  QueueMessage m = ToQueueMessage(out, -1, {});
  EXPECT_EQ("a??@x", m.sender_label);
  EXPECT_EQ("bad?id", m.owner_label);
  EXPECT_EQ(0u, m.size_bytes);  // no headers, no -D
}

TEST(EximSpoolHeader, DamagedEnvelopesAreErrors) {
  EximSpoolHeader h;
  for (const char* bad : {
           "", "garbage\n",
           "1xV65m-0004ZK-0G-H\n",                                      // truncated
           "1xV65m-0004ZK-0G-H\nmail x 8\n<a@b>\n1 0\nXX\n1\na@b\n\n",  // bad uid
           "1xV65m-0004ZK-0G-H\nmail 8 8\na@b\n1 0\nXX\n1\na@b\n\n",    // sender without <>
           "1xV65m-0004ZK-0G-H\nmail 8 8\n<a@b>\nnow 0\nXX\n1\na@b\n\n",
           "1xV65m-0004ZK-0G-H\nmail 8 8\n<a@b>\n1 0\n-aclm x 99\nshort\nXX\n1\na@b\n\n",
           "1xV65m-0004ZK-0G-H\nmail 8 8\n<a@b>\n1 0\n-frozen soon\nXX\n1\na@b\n\n",
           "1xV65m-0004ZK-0G-H\nmail 8 8\n<a@b>\n1 0\nYY a@b\nNN c@d\n1\na@b\n\n",  // tree short
           "1xV65m-0004ZK-0G-H\nmail 8 8\n<a@b>\n1 0\nXX\nmany\na@b\n\n",
           "1xV65m-0004ZK-0G-H\nmail 8 8\n<a@b>\n1 0\nXX\n3\na@b\n\n",  // fewer recipients
           "1xV65m-0004ZK-0G-H\nmail 8 8\n<a@b>\n1 0\nXX\n1\n\n\n",     // empty recipient
       }) {
    Status parsed = ParseEximSpoolHeader(bad, "", &h);
    EXPECT_FALSE(parsed.ok()) << bad;
    EXPECT_FALSE(parsed.message().empty());
  }
  // Envelope fine, headers damaged: still a message (exim -bp lists it), headers_valid false.
  for (const char* bad_headers : {
           "1xV65m-0004ZK-0G-H\nmail 8 8\n<a@b>\n1 0\nXX\n1\na@b\nnot blank\n",
           "1xV65m-0004ZK-0G-H\nmail 8 8\n<a@b>\n1 0\nXX\n1\na@b\n\n099  Short: x\n",
           "1xV65m-0004ZK-0G-H\nmail 8 8\n<a@b>\n1 0\nXX\n1\na@b\n\nSubject: no length\n",
       }) {
    ASSERT_TRUE(IsOk(ParseEximSpoolHeader(bad_headers, "", &h))) << bad_headers;
    EXPECT_FALSE(h.headers_valid) << bad_headers;
    EXPECT_EQ(1u, h.recipients.size());
  }
}

TEST(EximSpoolHeader, EveryTruncationAndByteFlipOfARealFileIsSafe) {
  const std::string full = kAclValueLooksFrozen;
  EximSpoolHeader h;
  std::size_t envelope_failures = 0;
  for (std::size_t n = 0; n < full.size(); ++n) {
    bool ok = ParseEximSpoolHeader(full.substr(0, n), "", &h).ok();
    if (!ok) ++envelope_failures;
    // Cut inside the headers: never a valid file except at a header boundary.
    if (ok && h.headers_valid) {
      EXPECT_TRUE(full[n - 1] == '\n') << n;
    }
  }
  EXPECT_GT(envelope_failures, full.size() / 2);
  for (std::size_t i = 0; i < full.size(); ++i) {
    for (char c : {'\0', '\n', '-', 'Y', '9', ' '}) {
      std::string damaged = full;
      damaged[i] = c;
      (void)ParseEximSpoolHeader(damaged, "", &h);  // must not crash or hang
    }
  }
}

// ParseEximSpoolSummary (the spool reader's parser, no copies) against ParseEximSpoolHeader
// + ToQueueMessage: the same verdict, error and message for each text.
void ExpectSummaryMatches(const std::string& text, const std::string& expected_id) {
  SCOPED_TRACE(text);
  EximSpoolHeader h;
  Status hstatus = ParseEximSpoolHeader(text, expected_id, &h);
  EximSpoolSummary sum;
  Status sstatus = ParseEximSpoolSummary(text, expected_id, &sum);
  ASSERT_EQ(hstatus.ok(), sstatus.ok());
  EXPECT_EQ(hstatus.message(), sstatus.message());
  if (!hstatus.ok()) return;
  EXPECT_EQ(h.header_problem, sum.header_problem);
  EXPECT_EQ(h.headers_valid, sum.headers_valid);
  EXPECT_EQ(h.header_bytes, sum.header_bytes);
  EXPECT_EQ(CountUndeliveredRecipients(h, {}), sum.undelivered);
  EXPECT_EQ(EximQueueOwner(h), sum.owner);
  for (std::int64_t data_size :
       {std::int64_t{-1}, std::int64_t{0}, std::int64_t{24}, std::int64_t{123456}}) {
    QueueMessage a = ToQueueMessage(h, data_size, {});
    QueueMessage b = ToQueueMessage(sum, data_size);
    EXPECT_EQ(a.id, b.id);
    EXPECT_EQ(a.queue, b.queue);
    EXPECT_EQ(a.sender_label, b.sender_label);
    EXPECT_EQ(a.owner_label, b.owner_label);
    EXPECT_EQ(a.bounce, b.bounce);
    EXPECT_EQ(a.frozen, b.frozen);
    EXPECT_EQ(a.has_received_time, b.has_received_time);
    EXPECT_EQ(a.received_time, b.received_time);
    EXPECT_EQ(a.size_bytes, b.size_bytes);
    EXPECT_EQ(a.recipients, b.recipients);
  }
}

TEST(EximSpoolHeader, SummaryParserAgreesWithTheFullParserOnTheCorpus) {
  for (const auto& f : RealFiles()) {
    ExpectSummaryMatches(ReadFile(kCorpus + "/" + f.dir + "/" + f.id + "-H"), f.id);
    ExpectSummaryMatches(ReadFile(kCorpus + "/" + f.dir + "/" + f.id + "-H"), "1xV65m-0004ZK-0G");
  }
  std::size_t dumps = 0;
  for (const auto& entry :
       std::filesystem::directory_iterator(kCorpus + "/exim-testsuite/spool-header-dumps")) {
    for (const auto& dump : ExtractDumps(ReadFile(entry.path()))) {
      ExpectSummaryMatches(dump, "");
      ++dumps;
    }
  }
  EXPECT_EQ(29u, dumps);
}

TEST(EximSpoolHeader, SummaryParserAgreesWithTheFullParser) {
  std::size_t texts = 0;
  // Trees, suffixes, ACL variables, sanitised labels, damaged envelopes and headers.
  ExpectSummaryMatches(
      "10HmaX-000000005vi-0000-H\nCALLER 1000 1000\n<CALLER@test.ex>\n936265473 0\n"
      "-ident CALLER\n-received_protocol local\n-auth_id CALLER\n"
      "NY a2-userx@test.ex\nNN userx@test.ex\n2\nuserx@test.ex\n"
      "a1-userx@test.ex  0,0 postmaster@test.ex 18,0#3\n\n"
      "038  Date: Tue, 2 Mar 1999 09:44:33 +0000\n",
      "");
  ExpectSummaryMatches(
      "1xV65m-0004ZK-0G-H\nmail 8 8\n<a\x01\xff@x>\n1795348246 0\n--auth_id bad\x02id\nXX\n1\n"
      "r@x\n\n",
      "");
  // A tree naming a recipient twice, and a recipient listed twice.
  ExpectSummaryMatches(
      "1xV65m-0004ZK-0G-H\nmail 8 8\n<a@b>\n1 0\nYN x@y\nNN x@y\n4\nx@y\nz@y\nx@y\nz@y\n\n", "");
  texts += 3;
  // Every truncation and several byte flips of the ACL files (checked against real Exim).
  for (const std::string& full :
       {std::string(kAclValueLooksFrozen), std::string(kAclBeforeFrozen)}) {
    for (std::size_t n = 0; n <= full.size(); ++n) {
      ExpectSummaryMatches(full.substr(0, n), "");
      ++texts;
    }
    for (std::size_t i = 0; i < full.size(); ++i) {
      for (char c : {'\0', '\n', '-', 'Y', '9', ' ', '*'}) {
        std::string damaged = full;
        damaged[i] = c;
        ExpectSummaryMatches(damaged, "");
        ++texts;
      }
    }
  }
  EXPECT_GT(texts, 5000u);
}

}  // namespace
}  // namespace mailrelay
