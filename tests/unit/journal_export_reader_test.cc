// JournalExportParser over export-format text (text and binary fields, chunking at every byte,
// malformed input), FormatJournalLine, and JournalExportReader running the real journalctl over
// journal files written by systemd-journal-remote (one-shot, following with appends, the cursor
// file across readers, a refused cursor, a missing journalctl).
#include "source/journal_export_reader.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "common/child_process.h"

namespace mailrelay {
namespace {

std::vector<JournalExportEntry> ParseAll(const std::string& text, std::size_t chunk,
                                         JournalExportParser* parser = nullptr) {
  JournalExportParser local;
  JournalExportParser& p = parser != nullptr ? *parser : local;
  std::vector<JournalExportEntry> out;
  auto on_entry = [&](const JournalExportEntry& e) { out.push_back(e); };
  for (std::size_t i = 0; i < text.size(); i += chunk) {
    p.Feed(std::string_view(text).substr(i, chunk), on_entry);
  }
  p.Finish(on_entry);
  return out;
}

// A binary field as journalctl writes it: NAME\n, 64-bit little-endian length, value, \n.
std::string BinaryField(const std::string& name, const std::string& value) {
  std::string out = name + "\n";
  std::uint64_t len = value.size();
  for (int i = 0; i < 8; ++i) out += static_cast<char>((len >> (8 * i)) & 0xff);
  return out + value + "\n";
}

const char kTwoEntries[] =
    "__CURSOR=s=1;i=1\n__REALTIME_TIMESTAMP=1795348001000000\n__MONOTONIC_TIMESTAMP=1\n"
    "_BOOT_ID=0123\n_HOSTNAME=mx\nSYSLOG_IDENTIFIER=postfix/smtpd\n_PID=101\n"
    "MESSAGE=75CA8A74AB1: client=unknown[192.0.2.7], sasl_username=a=b\n\n"
    "__CURSOR=s=1;i=2\n__REALTIME_TIMESTAMP=1795348002000001\nSYSLOG_IDENTIFIER=dovecot\n"
    "SYSLOG_PID=7\n_PID=8\nMESSAGE=\n\n";

TEST(JournalExportParser, TextFields) {
  auto entries = ParseAll(kTwoEntries, 1 << 20);
  ASSERT_EQ(2u, entries.size());
  EXPECT_EQ("s=1;i=1", entries[0].cursor);
  EXPECT_EQ(1795348001000000u, entries[0].realtime_usec);
  EXPECT_EQ("mx", entries[0].hostname);
  EXPECT_EQ("postfix/smtpd", entries[0].identifier);
  EXPECT_EQ("101", entries[0].pid);
  EXPECT_EQ("", entries[0].syslog_pid);
  // Only the first '=' separates name and value.
  EXPECT_EQ("75CA8A74AB1: client=unknown[192.0.2.7], sasl_username=a=b", entries[0].message);
  EXPECT_TRUE(entries[0].has_message);
  EXPECT_EQ("s=1;i=2", entries[1].cursor);
  EXPECT_EQ("7", entries[1].syslog_pid);
  EXPECT_TRUE(entries[1].has_message);  // present and empty
  EXPECT_EQ("", entries[1].message);
}

TEST(JournalExportParser, BinaryFields) {
  std::string value("line one\nline two\x01\0end", 23);
  std::string text = "__CURSOR=c1\nSYSLOG_IDENTIFIER=postfix/qmgr\n" +
                     BinaryField("MESSAGE", value) + BinaryField("_HOSTNAME", "") + "_PID=5\n\n";
  auto entries = ParseAll(text, 1 << 20);
  ASSERT_EQ(1u, entries.size());
  EXPECT_EQ(value, entries[0].message);
  EXPECT_EQ("", entries[0].hostname);
  EXPECT_EQ("5", entries[0].pid);
  EXPECT_EQ(0u, JournalExportParser().malformed());
}

TEST(JournalExportParser, EveryChunkingGivesTheSameEntries) {
  std::string text = kTwoEntries + BinaryField("MESSAGE", std::string("x\ny\0z", 5)) +
                     "SYSLOG_IDENTIFIER=postfix/cleanup\n__CURSOR=c3\n\n";
  auto whole = ParseAll(text, text.size());
  ASSERT_EQ(3u, whole.size());
  for (std::size_t chunk = 1; chunk <= 17; ++chunk) {
    JournalExportParser p;
    auto parts = ParseAll(text, chunk, &p);
    ASSERT_EQ(whole.size(), parts.size()) << "chunk " << chunk;
    for (std::size_t i = 0; i < whole.size(); ++i) {
      EXPECT_EQ(whole[i].cursor, parts[i].cursor) << "chunk " << chunk;
      EXPECT_EQ(whole[i].message, parts[i].message) << "chunk " << chunk;
      EXPECT_EQ(whole[i].identifier, parts[i].identifier) << "chunk " << chunk;
    }
    EXPECT_EQ(0u, p.malformed()) << "chunk " << chunk;
  }
}

TEST(JournalExportParser, MalformedInputIsSkippedAndCounted) {
  // Not export format: a journalctl notice, a lower-case name, a binary field whose value is
  // not followed by a newline. The entries around them come through.
  std::string bad_binary = "MESSAGE\n";
  for (int i = 0; i < 8; ++i) bad_binary += static_cast<char>(i == 0 ? 3 : 0);
  bad_binary += "abcX\n";
  std::string text = "-- No entries --\nlower=case\n__CURSOR=ok1\nMESSAGE=first\n\n" + bad_binary +
                     "\n__CURSOR=ok2\nMESSAGE=second\n\n";
  JournalExportParser p;
  auto entries = ParseAll(text, 5, &p);
  ASSERT_GE(entries.size(), 2u);
  EXPECT_EQ("ok1", entries.front().cursor);
  EXPECT_EQ("first", entries.front().message);
  EXPECT_EQ("ok2", entries.back().cursor);
  EXPECT_EQ("second", entries.back().message);
  EXPECT_GE(p.malformed(), 3u);
}

TEST(JournalExportParser, OversizedValueIsSkippedWithoutLosingTheStream) {
  std::string huge(JournalExportParser::kMaxValueBytes + 1, 'a');
  std::string text = "__CURSOR=big\n" + BinaryField("MESSAGE", huge) + "\n__CURSOR=after\n" +
                     "MESSAGE=still here\n\n";
  JournalExportParser p;
  auto entries = ParseAll(text, 1 << 16, &p);
  ASSERT_EQ(2u, entries.size());
  EXPECT_FALSE(entries[0].has_message);
  EXPECT_EQ("after", entries[1].cursor);
  EXPECT_EQ("still here", entries[1].message);
  EXPECT_EQ(1u, p.malformed());
}

TEST(JournalExportParser, FinishCompletesOnlyAWholeTextField) {
  JournalExportParser p;
  auto entries = ParseAll("__CURSOR=c\nMESSAGE=no blank line at the end", 4, &p);
  ASSERT_EQ(1u, entries.size());
  EXPECT_EQ("no blank line at the end", entries[0].message);
  EXPECT_EQ(0u, p.malformed());
  std::string cut = BinaryField("MESSAGE", "cut short");
  cut.resize(cut.size() - 4);
  JournalExportParser q;
  entries = ParseAll("__CURSOR=d\n" + cut, 3, &q);
  ASSERT_EQ(1u, entries.size());
  EXPECT_FALSE(entries[0].has_message);
  EXPECT_EQ(1u, q.malformed());
}

TEST(JournalLine, SyslogLineOfAnEntry) {
  std::string line;
  FormatJournalLine(1795348001000042u, "mx", "postfix/smtpd", "101", "a\nb", &line);
  EXPECT_EQ("2026-11-22T11:46:41.000042Z mx postfix/smtpd[101]: a b", line);
  FormatJournalLine(0, "", "postfix/qmgr", "", "m", &line);
  EXPECT_EQ("1970-01-01T00:00:00.000000Z localhost postfix/qmgr: m", line);
}

class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/journal_export_test.XXXXXX";
    path_ = ::mkdtemp(tmpl);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

TEST(JournalExportReader, CommandLine) {
  TempDir dir;
  std::string file = dir.path() + "/x.journal";
  std::ofstream(file) << "";
  JournalOptions o;
  o.path = dir.path();
  const std::vector<std::string> common = {
      "/j", "--output=export",
      "--output-fields=SYSLOG_IDENTIFIER,MESSAGE,SYSLOG_PID,_PID,_HOSTNAME", "--quiet",
      "--no-pager"};
  auto with = [&](std::vector<std::string> extra) {
    std::vector<std::string> v = common;
    v.insert(v.end(), extra.begin(), extra.end());
    return v;
  };
  EXPECT_EQ(with({"--directory=" + dir.path(), "--follow", "--lines=0"}),
            JournalExportReader(o).Command("/j", ""));
  o.start_at_end = false;
  EXPECT_EQ(with({"--directory=" + dir.path(), "--follow", "--no-tail"}),
            JournalExportReader(o).Command("/j", ""));
  EXPECT_EQ(with({"--directory=" + dir.path(), "--follow", "--after-cursor=s=1;i=2"}),
            JournalExportReader(o).Command("/j", "s=1;i=2"));
  o.path = file;
  o.follow = false;
  EXPECT_EQ(with({"--file=" + file}), JournalExportReader(o).Command("/j", ""));
  o.path.clear();
  EXPECT_EQ(with({}), JournalExportReader(o).Command("/j", ""));
}

// Journal files made by systemd-journal-remote from export text, read back by journalctl.
class JournalExportReaderWithJournalctl : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* p :
         {"/lib/systemd/systemd-journal-remote", "/usr/lib/systemd/systemd-journal-remote"}) {
      if (::access(p, X_OK) == 0) remote_ = p;
    }
    ASSERT_FALSE(remote_.empty()) << "systemd-journal-remote is not installed "
                                     "(scripts/install-deps.sh installs it)";
    ASSERT_FALSE(FindExecutable({"/usr/bin/journalctl", "/bin/journalctl"}).empty());
    std::filesystem::create_directories(dir_.path() + "/journal");
  }

  // Appends entries (identifier, message) to the journal file.
  void Append(const std::vector<std::pair<std::string, std::string>>& entries) {
    std::string export_file = dir_.path() + "/export.txt";
    {
      std::ofstream out(export_file, std::ios::trunc);
      for (const auto& [ident, message] : entries) {
        ++seq_;
        out << "__REALTIME_TIMESTAMP=" << (1795348000000000u + seq_ * 1000000u) << "\n"
            << "__MONOTONIC_TIMESTAMP=" << (1000000 + seq_) << "\n"
            << "_BOOT_ID=0123456789abcdef0123456789abcdef\n_HOSTNAME=mx\n"
            << "SYSLOG_IDENTIFIER=" << ident << "\n_PID=" << (100 + seq_) << "\n"
            << "MESSAGE=" << message << "\n\n";
      }
    }
    ChildProcess child;
    std::string error;
    ASSERT_TRUE(SpawnChild({remote_, "--output=" + journal(), export_file}, false, &child, &error))
        << error;
    ::close(child.stdout_fd);
    int status = 0;
    ASSERT_EQ(child.pid, ::waitpid(child.pid, &status, 0));
    ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "systemd-journal-remote failed";
  }

  std::string journal() const { return dir_.path() + "/journal/postfix.journal"; }
  std::string cursor_file() const { return dir_.path() + "/cursor"; }

  // Polls until `n` lines were read in total (or 20 s passed).
  void PollUntil(JournalExportReader* reader, std::vector<std::string>* lines, std::size_t n) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (lines->size() < n && std::chrono::steady_clock::now() < deadline) {
      reader->Poll([&](std::string_view l) { lines->emplace_back(l); });
      if (lines->size() < n) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }

  TempDir dir_;
  std::string remote_;
  unsigned seq_ = 0;
};

TEST_F(JournalExportReaderWithJournalctl, OneShotReadsEveryMatchingEntry) {
  Append({{"postfix/smtpd", "A1: client=unknown[192.0.2.7]"},
          {"dovecot", "imap-login: Login"},
          {"postfix/submission/smtpd", "warning: multi\\nline"}});
  JournalOptions o;
  o.path = dir_.path() + "/journal";
  o.follow = false;
  JournalExportReader reader(o);
  std::vector<std::string> lines;
  std::size_t bytes = reader.Poll([&](std::string_view l) { lines.emplace_back(l); });
  ASSERT_EQ(2u, lines.size());
  EXPECT_EQ("2026-11-22T11:46:41.000000Z mx postfix/smtpd[101]: A1: client=unknown[192.0.2.7]",
            lines[0]);
  EXPECT_EQ("2026-11-22T11:46:43.000000Z mx postfix/submission/smtpd[103]: warning: multi\\nline",
            lines[1]);
  EXPECT_EQ(lines[0].size() + lines[1].size() + 2, bytes);
  EXPECT_TRUE(reader.is_open());
  EXPECT_TRUE(reader.open_status().ok()) << reader.open_status().message();
  EXPECT_EQ(0u, reader.Poll([&](std::string_view l) { lines.emplace_back(l); }));  // done
}

TEST_F(JournalExportReaderWithJournalctl, FollowsAppendsAndResumesAtTheCursor) {
  Append({{"postfix/smtpd", "one"}, {"postfix/qmgr", "two"}});
  JournalOptions o;
  o.path = journal();
  o.cursor_file = cursor_file();
  o.start_at_end = false;
  std::vector<std::string> lines;
  {
    JournalExportReader reader(o);
    PollUntil(&reader, &lines, 2);
    ASSERT_EQ(2u, lines.size());
    EXPECT_TRUE(reader.is_open());
    Append({{"postfix/pickup", "three"}});
    PollUntil(&reader, &lines, 3);
    ASSERT_EQ(3u, lines.size());
    EXPECT_NE(std::string::npos, lines[2].find("postfix/pickup[103]: three")) << lines[2];
  }
  // A new reader continues after the saved cursor: nothing twice, nothing lost.
  Append({{"postfix/smtpd", "four"}});
  lines.clear();
  JournalExportReader again(o);
  PollUntil(&again, &lines, 1);
  ASSERT_EQ(1u, lines.size());
  EXPECT_NE(std::string::npos, lines[0].find("]: four")) << lines[0];
}

TEST_F(JournalExportReaderWithJournalctl, ARefusedCursorIsDroppedOnce) {
  Append({{"postfix/smtpd", "one"}});
  std::ofstream(cursor_file()) << "not-a-cursor\n";
  JournalOptions o;
  o.path = journal();
  o.cursor_file = cursor_file();
  o.start_at_end = false;
  JournalExportReader reader(o);
  std::vector<std::string> lines;
  reader.Poll([&](std::string_view l) { lines.emplace_back(l); });
  // journalctl exits on the bad cursor; the next start (without it) reads from the beginning.
  PollUntil(&reader, &lines, 1);
  ASSERT_EQ(1u, lines.size());
  EXPECT_NE(std::string::npos, lines[0].find("]: one"));
  EXPECT_TRUE(reader.is_open());
}

TEST(JournalExportReader, MissingJournalctlIsNotOpen) {
  JournalOptions o;
  o.journalctl = "/nonexistent/journalctl";
  JournalExportReader reader(o);
  EXPECT_EQ(0u, reader.Poll([](std::string_view) {}));
  EXPECT_FALSE(reader.is_open());
  EXPECT_EQ(StatusCode::kNotFound, reader.open_status().code());
}

}  // namespace
}  // namespace mailrelay
