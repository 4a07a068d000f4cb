// EximSpoolScanner over private spool directories: real corpus files, flat and split
// layouts, the cache, and the failure modes (corrupt, unreadable and vanishing files, the
// max-files cap, a missing directory).
#include "mta/exim/spool_scanner.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

namespace mailrelay {
namespace {

namespace fs = std::filesystem;
const std::string kCorpus = MAILRELAY_CORPUS_DIR;

class TempSpool {
 public:
  TempSpool() {
    char tmpl[] = "/tmp/mailrelay-queue-test-XXXXXX";
    root_ = ::mkdtemp(tmpl);
    input_ = root_ + "/input";
    fs::create_directory(input_);
    fs::permissions(root_, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                               fs::perms::others_read | fs::perms::others_exec);
  }
  ~TempSpool() { fs::remove_all(root_); }
  const std::string& input() const { return input_; }
  void Write(const std::string& rel, const std::string& text) {
    fs::create_directories(fs::path(input_ + "/" + rel).parent_path());
    std::ofstream(input_ + "/" + rel, std::ios::binary) << text;
  }
  // Like Exim's spool_write_header: a new file renamed over the old one.
  void Rewrite(const std::string& rel, const std::string& text) {
    Write(rel + ".tmp", text);
    fs::rename(input_ + "/" + rel + ".tmp", input_ + "/" + rel);
  }
  void CopyCorpus(const std::string& corpus_dir, const std::string& id,
                  const std::string& sub = "") {
    std::string dest = input_ + (sub.empty() ? "" : "/" + sub);
    fs::create_directories(dest);
    for (const char* suffix : {"-H", "-D"}) {
      fs::copy_file(kCorpus + "/" + corpus_dir + "/" + id + suffix, dest + "/" + id + suffix);
    }
  }
  // Sets a directory's mtime an hour back (as if it had not changed for a while).
  void AgeDirectory(const std::string& rel = "") {
    std::string path = input_ + (rel.empty() ? "" : "/" + rel);
    timespec times[2];
    ::clock_gettime(CLOCK_REALTIME, &times[0]);
    times[0].tv_sec -= 3600;
    times[1] = times[0];
    ASSERT_EQ(0, ::utimensat(AT_FDCWD, path.c_str(), times, 0));
  }

 private:
  std::string root_;
  std::string input_;
};

// A -H file (checked format: see queue_exim_spool_header_test.cc).
std::string Header(const std::string& id, const std::string& sender, const std::string& auth_id,
                   bool frozen, int recipients, std::int64_t received = 1795348246,
                   const std::string& host = "[127.0.0.2]:34583") {
  std::string h = id + "-H\nmail 8 8\n<" + sender + ">\n" + std::to_string(received) + " 0\n";
  if (!host.empty()) h += "-host_address " + host + "\n";
  h += "-aclm _note 5\n-x\n-y\n";  // a value whose lines look like options
  if (!auth_id.empty()) h += "--auth_id " + auth_id + "\n";
  if (frozen) h += "-frozen " + std::to_string(received + 60) + "\n";
  h += "XX\n" + std::to_string(recipients) + "\n";
  for (int i = 0; i < recipients; ++i) h += "r" + std::to_string(i) + "@example.com\n";
  return h + "\n018T To: a@example.com\n";
}

std::string Id(int n) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "1xV65m-0004ZK-%02d", n);
  return buf;
}

struct Summary {
  std::size_t messages = 0, frozen = 0, bounces = 0;
  std::uint64_t bytes = 0, recipients = 0;
  std::map<std::string, int> owners;
  std::vector<std::string> ids;
};
Summary Summarise(const QueueScan& scan) {
  Summary s;
  for (const auto& m : scan.messages) {
    ++s.messages;
    s.frozen += m->frozen;
    s.bounces += m->bounce;
    s.bytes += m->size_bytes;
    s.recipients += m->recipients;
    if (!m->owner_label.empty()) ++s.owners[m->owner_label];
    s.ids.push_back(m->id);
    EXPECT_EQ("input", m->queue);
  }
  std::sort(s.ids.begin(), s.ids.end());
  return s;
}

std::uint64_t Err(const QueueScan& s, QueueError e) { return s.errors[static_cast<int>(e)]; }
std::uint64_t TotalErrors(const QueueScan& s) {
  std::uint64_t n = 0;
  for (auto e : s.errors) n += e;
  return n;
}

// Every test runs with -H files read one system call at a time and through io_uring batches
// (where the kernel allows it: else both runs take the plain path).
struct Mode {
  const char* name;
  bool io_uring;
};
// Test names (and ctest's) print the mode, not its bytes (which change from build to build).
void PrintTo(const Mode& m, std::ostream* os) { *os << m.name; }

class EximSpoolScannerTest : public ::testing::TestWithParam<Mode> {
 protected:
  EximSpoolScanner::Options Opts(const std::string& dir) const {
    EximSpoolScanner::Options o;
    o.input_dir = dir;
    o.io_uring = GetParam().io_uring;
    return o;
  }
};

INSTANTIATE_TEST_SUITE_P(Modes, EximSpoolScannerTest,
                         ::testing::Values(Mode{"syscalls", false}, Mode{"io_uring", true}),
                         [](const ::testing::TestParamInfo<Mode>& p) {
                           return std::string(p.param.name);
                         });

TEST_P(EximSpoolScannerTest, RealCorpusFilesFlatAndSplit) {
  TempSpool spool;
  // Flat: the two exim-exporter fixtures (header lengths that do not match their text: Exim
  // lists them with "spool format error", and so they count, with a parse error each).
  spool.CopyCorpus("exim-exporter/input", "1rZeE0-00GmsY-CG");
  spool.CopyCorpus("exim-exporter/input", "1ra7OS-004XaW-CD");
  // Split (input/<6th char of the id>/): the three test-suite files.
  spool.CopyCorpus("exim-testsuite/spool-input", "1i2t1o-0000cD-CV", "o");
  spool.CopyCorpus("exim-testsuite/spool-input", "1i3FVM-0008QX-DU", "M");
  spool.CopyCorpus("exim-testsuite/spool-input", "1qDO9M-0003B3-2p", "M");
  spool.Write("hdr.12345", "temporary file being written");
  spool.Write("M/1qDO9M-0003B3-2q-D", "a -D without -H");
  spool.Write("1rZeE0-00GmsY-CG-K", "");

  EximSpoolScanner scanner(Opts(spool.input()));
  QueueScan scan = scanner.Scan();
  ASSERT_TRUE(scan.ok);
  EXPECT_FALSE(scan.truncated);
  EXPECT_EQ(2u, Err(scan, QueueError::kParse));
  EXPECT_EQ(2u, TotalErrors(scan));
  Summary s = Summarise(scan);
  EXPECT_EQ(5u, s.messages);  // `exim -bpc` says 5 for these files (Exim 4.96)
  EXPECT_EQ(3u, s.frozen);
  EXPECT_EQ(4u, s.bounces);
  EXPECT_EQ(5u, s.recipients);
  // Exim 4.96 -bp sizes 2.2K, 2.1K, 317, 185, 173: the exact values add up to this.
  EXPECT_EQ(5013u, s.bytes);
  EXPECT_EQ((std::map<std::string, int>{{"Debian-exim", 3}}), s.owners);
  EXPECT_EQ(3u, scanner.last_stats().dirs_listed);  // input, input/M, input/o
}

TEST_P(EximSpoolScannerTest, UnchangedQueueIsNotReadAgain) {
  TempSpool spool;
  for (int i = 0; i < 10; ++i) {
    spool.Write(Id(i) + "-H", Header(Id(i), "u" + std::to_string(i % 3) + "@example.com",
                                     "user" + std::to_string(i % 2), i == 3, 2));
    spool.Write(Id(i) + "-D", Id(i) + "-D\nbody\n");
  }
  EximSpoolScanner scanner(Opts(spool.input()));
  QueueScan first = scanner.Scan();
  EXPECT_EQ(10u, scanner.last_stats().files_read);
  Summary s1 = Summarise(first);
  EXPECT_EQ(10u, s1.messages);
  EXPECT_EQ(1u, s1.frozen);
  EXPECT_EQ(20u, s1.recipients);
  EXPECT_EQ((std::map<std::string, int>{{"user0", 5}, {"user1", 5}}), s1.owners);

  // The directory was just modified, so it is listed again, but no file is re-read.
  QueueScan second = scanner.Scan();
  EXPECT_EQ(0u, scanner.last_stats().files_read);
  EXPECT_EQ(10u, scanner.last_stats().files_cached);
  EXPECT_EQ(1u, scanner.last_stats().dirs_listed);
  EXPECT_EQ(s1.ids, Summarise(second).ids);
  EXPECT_EQ(first.messages[0].get(), second.messages[0].get());  // the cached object

  // Once its mtime has settled, the directory is not even listed.
  spool.AgeDirectory();
  scanner.Scan();
  EXPECT_EQ(1u, scanner.last_stats().dirs_listed);
  QueueScan fourth = scanner.Scan();
  EXPECT_EQ(0u, scanner.last_stats().dirs_listed);
  EXPECT_EQ(1u, scanner.last_stats().dirs_reused);
  EXPECT_EQ(0u, scanner.last_stats().files_read + scanner.last_stats().files_cached);
  EXPECT_EQ(s1.ids, Summarise(fourth).ids);
  EXPECT_EQ(1u, Summarise(fourth).frozen);

  // `exim -Mf` rewrites the -H (rename): seen at once, only that file is read.
  spool.Rewrite(Id(5) + "-H", Header(Id(5), "u2@example.com", "user1", true, 2));
  QueueScan fifth = scanner.Scan();
  EXPECT_EQ(1u, scanner.last_stats().files_read);
  EXPECT_EQ(2u, Summarise(fifth).frozen);

  // A delivered message disappears.
  fs::remove(spool.input() + "/" + Id(0) + "-H");
  fs::remove(spool.input() + "/" + Id(0) + "-D");
  EXPECT_EQ(9u, Summarise(scanner.Scan()).messages);
  EXPECT_EQ(0u, scanner.last_stats().files_read);

  // Without trusting directory mtimes, every scan lists (but still reads no file).
  auto o = Opts(spool.input());
  o.trust_directory_mtime = false;
  EximSpoolScanner strict(o);
  strict.Scan();
  spool.AgeDirectory();
  strict.Scan();
  strict.Scan();
  EXPECT_EQ(1u, strict.last_stats().dirs_listed);
  EXPECT_EQ(0u, strict.last_stats().files_read);
}

TEST_P(EximSpoolScannerTest, CorruptFilesAreCountedEveryScanAndTheRestIsExact) {
  TempSpool spool;
  for (int i = 0; i < 4; ++i) {
    spool.Write(Id(i) + "-H", Header(Id(i), "", "", false, 1, 1795348246, ""));
  }
  std::string good = Header(Id(10), "a@b", "", false, 3);
  spool.Write(Id(10) + "-H", good.substr(0, good.size() / 2));  // truncated in the envelope
  spool.Write(Id(11) + "-H",
              "\x7f"
              "ELF garbage\n\0\0\0");
  spool.Write(Id(12) + "-H", Header(Id(13), "a@b", "", false, 1));  // names another message
  spool.Write(Id(14) + "-H", "");

  EximSpoolScanner scanner(Opts(spool.input()));
  for (int round = 0; round < 2; ++round) {
    QueueScan scan = scanner.Scan();
    ASSERT_TRUE(scan.ok);
    EXPECT_EQ(4u, Err(scan, QueueError::kParse));
    EXPECT_EQ(4u, TotalErrors(scan));
    Summary s = Summarise(scan);
    EXPECT_EQ(4u, s.messages);
    EXPECT_EQ(4u, s.bounces);
    EXPECT_TRUE(s.owners.empty());  // no auth id, no -ident: no owner (login line unused)
  }
  EXPECT_EQ(0u, scanner.last_stats().files_read);  // corrupt files are not re-read
}

TEST_P(EximSpoolScannerTest, UnreadableAndNonRegularFiles) {
  TempSpool spool;
  spool.Write(Id(1) + "-H", Header(Id(1), "a@b", "alice", false, 1));
  spool.Write(Id(2) + "-H", Header(Id(2), "a@b", "bob", false, 1));
  fs::create_directory(spool.input() + "/" + Id(3) + "-H");
  fs::create_symlink(spool.input() + "/" + Id(1) + "-H", spool.input() + "/" + Id(4) + "-H");
  // A FIFO must not be opened (it would block), a dangling symlink not followed.
  ASSERT_EQ(0, ::mkfifo((spool.input() + "/" + Id(5) + "-H").c_str(), 0644));
  fs::create_symlink(spool.input() + "/nowhere", spool.input() + "/" + Id(6) + "-H");
  ASSERT_EQ(0, ::chmod((spool.input() + "/" + Id(2) + "-H").c_str(), 0));

  EximSpoolScanner scanner(Opts(spool.input()));
  bool as_nobody = ::geteuid() == 0;
  if (as_nobody) {
    ASSERT_EQ(0, ::seteuid(65534));  // root could read a mode-000 file
  }
  QueueScan scan = scanner.Scan();
  if (as_nobody) {
    ASSERT_EQ(0, ::seteuid(0));
  }
  ASSERT_TRUE(scan.ok);
  EXPECT_EQ(5u, Err(scan, QueueError::kOpen));
  EXPECT_EQ(5u, TotalErrors(scan));
  Summary s = Summarise(scan);
  EXPECT_EQ(1u, s.messages);
  EXPECT_EQ(1, s.owners["alice"]);

  // Readable again: picked up at the next scan (unreadable files are retried).
  ASSERT_EQ(0, ::chmod((spool.input() + "/" + Id(2) + "-H").c_str(), 0644));
  scan = scanner.Scan();
  EXPECT_EQ(4u, Err(scan, QueueError::kOpen));
  EXPECT_EQ(2u, Summarise(scan).messages);
  EXPECT_EQ((std::map<std::string, int>{{"alice", 1}, {"bob", 1}}), Summarise(scan).owners);
}

TEST_P(EximSpoolScannerTest, DamagedHeaderSectionAndOversizedFiles) {
  TempSpool spool;
  spool.Write(Id(1) + "-H", Header(Id(1), "a@b", "alice", false, 2));
  spool.Write(Id(2) + "-H", Header(Id(2), "", "", true, 1));
  // Envelope fine, last header cut short: a message (exim -bp lists it) and a parse error.
  std::string cut = Header(Id(3), "c@d", "carol", false, 3);
  spool.Write(Id(3) + "-H", cut.substr(0, cut.size() - 5));
  // Larger than max_header_file_bytes: not read, a parse error.
  spool.Write(Id(4) + "-H", Header(Id(4), "e@f", "eve", false, 400));
  // NUL bytes in the envelope: a parse error.
  std::string nul = Header(Id(5), "g@h", "gus", false, 1);
  nul[nul.find("gus")] = '\0';
  spool.Write(Id(5) + "-H", nul);
  auto o = Opts(spool.input());
  o.max_header_file_bytes = 4096;
  EximSpoolScanner scanner(o);
  for (int round = 0; round < 2; ++round) {
    QueueScan scan = scanner.Scan();
    ASSERT_TRUE(scan.ok);
    EXPECT_EQ(3u, Err(scan, QueueError::kParse));
    EXPECT_EQ(3u, TotalErrors(scan));
    Summary s = Summarise(scan);
    EXPECT_EQ((std::vector<std::string>{Id(1), Id(2), Id(3)}), s.ids);
    EXPECT_EQ(6u, s.recipients);
    EXPECT_EQ(1u, s.frozen);
    EXPECT_EQ(1u, s.bounces);
    EXPECT_EQ((std::map<std::string, int>{{"alice", 1}, {"carol", 1}}), s.owners);
    EXPECT_EQ(round == 0 ? 5u : 0u, scanner.last_stats().files_read);
  }
}

// The files of a large scan are stat-ed, read and parsed on several threads: the same result
// as on one, in the same order, for a first scan and for a listed rescan.
TEST_P(EximSpoolScannerTest, ManyFilesOnSeveralThreadsGiveTheSameScan) {
  TempSpool spool;
  constexpr int kFiles = 2100;          // 3 threads (one more per kFilesPerThread files)
  constexpr std::size_t kCorrupt = 21;  // i % 101 == 0
  for (int i = 0; i < kFiles; ++i) {
    char id[32];
    std::snprintf(id, sizeof id, "1xV65m-%06d-%02d", i, i % 100);
    std::string sub = (i % 3 == 0) ? "" : std::string(1, "AbZ"[i % 3]) + "/";
    std::string text =
        Header(id, i % 7 == 0 ? "" : "s" + std::to_string(i % 11) + "@x",
               i % 5 == 0 ? "" : "u" + std::to_string(i % 13), i % 17 == 0, 1 + i % 4);
    if (i % 101 == 0) text = text.substr(0, 30);  // corrupt
    spool.Write(sub + id + "-H", text);
    spool.Write(sub + id + "-D",
                std::string(id) + "-D\n" + std::string(static_cast<std::size_t>(i % 50), 'x'));
  }
  auto scan_with = [&](unsigned threads, bool trust, EximSpoolScanner::Stats* stats) {
    auto o = Opts(spool.input());
    o.threads = threads;
    o.trust_directory_mtime = trust;
    EximSpoolScanner scanner(o);
    std::vector<QueueScan> scans;
    scans.push_back(scanner.Scan());
    scans.push_back(scanner.Scan());  // every directory listed again, every -H stat-ed
    *stats = scanner.last_stats();
    return scans;
  };
  EximSpoolScanner::Stats one{}, many{};
  auto a = scan_with(1, false, &one);
  auto b = scan_with(4, false, &many);
  EXPECT_EQ(1u, one.threads);
  EXPECT_EQ(3u, many.threads);
  EXPECT_EQ(0u, many.files_read);
  EXPECT_EQ(static_cast<std::size_t>(kFiles), many.files_cached);
  for (std::size_t k = 0; k < 2; ++k) {
    SCOPED_TRACE(k);
    ASSERT_EQ(a[k].messages.size(), b[k].messages.size());
    EXPECT_EQ(kFiles - kCorrupt, a[k].messages.size());
    for (std::size_t i = 0; i < a[k].messages.size(); ++i) {
      const QueueMessage& x = *a[k].messages[i];
      const QueueMessage& y = *b[k].messages[i];
      EXPECT_EQ(x.id, y.id);
      EXPECT_EQ(x.size_bytes, y.size_bytes);
      EXPECT_EQ(x.recipients, y.recipients);
      EXPECT_EQ(x.owner_label, y.owner_label);
      EXPECT_EQ(x.sender_label, y.sender_label);
      EXPECT_EQ(x.frozen, y.frozen);
    }
    EXPECT_EQ(kCorrupt, Err(b[k], QueueError::kParse));
    EXPECT_EQ(kCorrupt, TotalErrors(b[k]));
    std::uint64_t recipients = 0;
    for (int i = 0; i < kFiles; ++i)
      recipients += i % 101 == 0 ? 0 : 1 + static_cast<unsigned>(i % 4);
    EXPECT_EQ(recipients, Summarise(b[k]).recipients);
  }
}

TEST_P(EximSpoolScannerTest, BatchesGoThroughIoUringWhenAvailable) {
  TempSpool spool;
  for (int i = 0; i < 40; ++i) spool.Write(Id(i) + "-H", Header(Id(i), "a@b", "u", false, 1));
  EximSpoolScanner scanner(Opts(spool.input()));
  EXPECT_EQ(40u, Summarise(scanner.Scan()).messages);
  EXPECT_EQ(40u, scanner.last_stats().files_read);
  if (!GetParam().io_uring) {
    EXPECT_EQ(0u, scanner.last_stats().files_batched);
  } else if (scanner.last_stats().files_batched == 0) {
    GTEST_SKIP() << "io_uring is not available here (kernel, seccomp or sysctl)";
  } else {
    EXPECT_EQ(40u, scanner.last_stats().files_batched);
  }
}

TEST_P(EximSpoolScannerTest, FileVanishingBetweenReaddirAndOpen) {
  TempSpool spool;
  for (int i = 0; i < 3; ++i) spool.Write(Id(i) + "-H", Header(Id(i), "a@b", "u", false, 2));
  auto o = Opts(spool.input());
  std::string victim = Id(1) + "-H";
  o.before_open = [&](const std::string& name) {
    if (name == victim) fs::remove(spool.input() + "/" + name);  // delivered meanwhile
  };
  EximSpoolScanner scanner(o);
  QueueScan scan = scanner.Scan();
  ASSERT_TRUE(scan.ok);
  EXPECT_EQ(1u, Err(scan, QueueError::kVanished));
  EXPECT_EQ(1u, TotalErrors(scan));
  Summary s = Summarise(scan);
  EXPECT_EQ((std::vector<std::string>{Id(0), Id(2)}), s.ids);
  EXPECT_EQ(4u, s.recipients);
  // Gone for good: no error the next time.
  scan = scanner.Scan();
  EXPECT_EQ(0u, TotalErrors(scan));
  EXPECT_EQ(2u, Summarise(scan).messages);
}

TEST_P(EximSpoolScannerTest, MaxFilesCapTruncatesAndCatchesUp) {
  TempSpool spool;
  for (int i = 0; i < 5; ++i) spool.Write(Id(i) + "-H", Header(Id(i), "a@b", "u", false, 1));
  auto o = Opts(spool.input());
  o.max_files = 2;
  EximSpoolScanner scanner(o);
  QueueScan scan = scanner.Scan();
  EXPECT_TRUE(scan.truncated);
  EXPECT_EQ(2u, scan.messages.size());
  scan = scanner.Scan();
  EXPECT_TRUE(scan.truncated);
  EXPECT_EQ(4u, scan.messages.size());
  scan = scanner.Scan();
  EXPECT_FALSE(scan.truncated);
  EXPECT_EQ(5u, scan.messages.size());
  EXPECT_EQ(1u, scanner.last_stats().files_read);
  EXPECT_EQ(0u, TotalErrors(scan));
}

TEST_P(EximSpoolScannerTest, JournalMarksRecipientsDelivered) {
  TempSpool spool;
  spool.Write(Id(1) + "-H", Header(Id(1), "a@b", "u", false, 3));
  spool.Write(Id(1) + "-J", "r0@example.com\nr2@example.com\n");
  EximSpoolScanner scanner(Opts(spool.input()));
  EXPECT_EQ(1u, Summarise(scanner.Scan()).recipients);
  spool.Write(Id(1) + "-J", "r0@example.com\n");  // appended/rewritten in place: re-read
  EXPECT_EQ(2u, Summarise(scanner.Scan()).recipients);
  fs::remove(spool.input() + "/" + Id(1) + "-J");
  EXPECT_EQ(3u, Summarise(scanner.Scan()).recipients);
}

TEST_P(EximSpoolScannerTest, MissingDirectoryIsAnErrorNotAnEmptyQueue) {
  EximSpoolScanner scanner(Opts("/nonexistent/spool/input"));
  QueueScan scan = scanner.Scan();
  EXPECT_FALSE(scan.ok);
  EXPECT_EQ(1u, Err(scan, QueueError::kDirectory));
  EXPECT_TRUE(scan.messages.empty());
}

TEST_P(EximSpoolScannerTest, OwnerRule) {
  TempSpool spool;
  // Authenticated: the auth id. Local (no -host_address): -ident. SMTP without auth: none.
  spool.Write(Id(1) + "-H", Header(Id(1), "a@b", "alice@example.com", false, 1));
  spool.Write(Id(2) + "-H",
              "1xV65m-0004ZK-02-H\nwww-data 33 33\n<www-data@h>\n1795348246 0\n"
              "--ident www-data\n-received_protocol local\nXX\n1\nx@y\n\n");
  spool.Write(Id(3) + "-H",
              "1xV65m-0004ZK-03-H\nDebian-exim 1 1\n<a@b>\n1795348246 0\n"
              "-ident evil\n-host_address 192.0.2.1.25\nXX\n1\nx@y\n\n");
  EximSpoolScanner scanner(Opts(spool.input()));
  Summary s = Summarise(scanner.Scan());
  EXPECT_EQ((std::map<std::string, int>{{"alice@example.com", 1}, {"www-data", 1}}), s.owners);
}

}  // namespace
}  // namespace mailrelay
