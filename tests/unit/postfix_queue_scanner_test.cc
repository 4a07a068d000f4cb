// PostfixQueueScanner over private queue directories filled with the real Postfix's queue files
// (tests/fixtures/postfix-queue): the layout (queues, hashed subdirectories), the cache, and
// the failure modes (files being written, corrupt, unreadable and vanishing files, the
// max-files cap, missing directories). The wall clock of the settle rule is a ManualClock: no
// test waits.
#include "mta/postfix/queue_scanner.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>

#include "postfix_queue_fixtures.h"

namespace mailrelay {
namespace {

namespace fs = std::filesystem;
using testing::PostfixCase;
using testing::PostfixCases;
using testing::ReadFixture;

std::string Names(std::uint32_t uid) { return uid == 0 ? "root" : "user" + std::to_string(uid); }

class TempQueue {
 public:
  TempQueue() {
    char tmpl[] = "/tmp/mailrelay-pfqueue-test-XXXXXX";
    root_ = ::mkdtemp(tmpl);
    for (const char* q : {"maildrop", "incoming", "active", "deferred", "hold"}) {
      fs::create_directory(root_ + "/" + q);
    }
  }
  ~TempQueue() { fs::remove_all(root_); }
  const std::string& root() const { return root_; }
  std::string Path(const std::string& rel) const { return root_ + "/" + rel; }

  // Writes a queue file the way Postfix leaves a complete one (mode 0700 unless given).
  void Put(const std::string& rel, const std::string& bytes, mode_t mode = 0700) {
    fs::create_directories(fs::path(Path(rel)).parent_path());
    std::ofstream(Path(rel), std::ios::binary) << bytes;
    ASSERT_EQ(0, ::chmod(Path(rel).c_str(), mode));
  }
  // Every fixture case in its queue; deferred ones hashed by the first character of the id.
  void PutCases(const std::vector<PostfixCase>& cases) {
    for (const PostfixCase& c : cases) Put(Rel(c), c.bytes, c.mode);
  }
  static std::string Rel(const PostfixCase& c) {
    return c.queue == "deferred" ? c.queue + "/" + c.id.substr(0, 1) + "/" + c.id
                                 : c.queue + "/" + c.id;
  }
  void SetMtime(const std::string& rel, std::int64_t seconds) {
    timespec times[2] = {{seconds, 0}, {seconds, 0}};
    ASSERT_EQ(0, ::utimensat(AT_FDCWD, Path(rel).c_str(), times, AT_SYMLINK_NOFOLLOW));
  }

 private:
  std::string root_;
};

struct Fixture {
  TempQueue queue;
  ManualClock clock{::time(nullptr)};
  std::vector<std::string> opened;
  PostfixQueueScanner::Options Options() {
    PostfixQueueScanner::Options o;
    o.queue_directory = queue.root();
    o.uid_resolver = Names;
    o.clock = &clock;
    o.before_open = [this](const std::string& rel) { opened.push_back(rel); };
    return o;
  }
  // Moves the wall clock past the settle time of every directory written so far.
  void Settle() { clock.Advance(std::chrono::seconds(10)); }
};

std::map<std::string, std::shared_ptr<const QueueMessage>> ById(const QueueScan& scan) {
  std::map<std::string, std::shared_ptr<const QueueMessage>> out;
  for (const auto& m : scan.messages) EXPECT_TRUE(out.emplace(m->id, m).second) << m->id;
  return out;
}

std::uint64_t Errors(const QueueScan& scan, QueueError e) {
  return scan.errors[static_cast<int>(e)];
}

TEST(PostfixQueueScanner, ReadsWhatPostqueueListed) {
  Fixture fx;
  std::vector<PostfixCase> cases = PostfixCases();
  fx.queue.PutCases(cases);
  PostfixQueueScanner scanner(fx.Options());
  QueueScan scan = scanner.Scan();
  ASSERT_TRUE(scan.ok) << scanner.last_status().ToString();
  EXPECT_TRUE(scanner.last_status().ok());
  EXPECT_FALSE(scan.truncated);
  for (int e = 0; e < kQueueErrorCount; ++e) EXPECT_EQ(scan.errors[e], 0u) << e;
  auto by_id = ById(scan);
  ASSERT_EQ(by_id.size(), cases.size());
  for (const PostfixCase& c : cases) {
    SCOPED_TRACE(c.name);
    const QueueMessage& m = *by_id.at(c.id);
    EXPECT_EQ(m.queue, c.listed.queue_name);
    EXPECT_EQ(m.size_bytes, c.listed.message_size);
    EXPECT_EQ(m.received_time, c.listed.arrival_time);
    EXPECT_EQ(m.recipients, c.listed.recipients.size());
    EXPECT_EQ(m.bounce, IsPostfixBounceSender(c.listed.sender));
  }
  // Owners: SASL users, pickup's uids by name, the maildrop file's owner (this process).
  EXPECT_EQ(by_id.at(cases[0].id)->owner_label, "");  // bounce
  std::map<std::string, std::string> owner;
  for (const PostfixCase& c : cases) owner[c.name] = by_id.at(c.id)->owner_label;
  EXPECT_EQ(owner["smtp_auth_plain"], "alice@mx.example.test");
  EXPECT_EQ(owner["smtp_auth_login"], "bob@mx.example.test");
  EXPECT_EQ(owner["smtp_unauth"], "");
  EXPECT_EQ(owner["pickup_root"], "root");
  EXPECT_EQ(owner["pickup_www_data_t"], "user33");
  EXPECT_EQ(owner["pickup_nobody"], "user65534");
  EXPECT_EQ(owner["maildrop"], Names(::geteuid()));
  const auto& stats = scanner.last_stats();
  EXPECT_EQ(stats.files_read, cases.size());
  EXPECT_EQ(stats.files_cached, 0u);
  // Two files are larger than the first read: one more read each, and far less than their size.
  EXPECT_EQ(stats.extra_reads, 2u);
  std::uint64_t total = 0;
  for (const PostfixCase& c : cases) total += c.bytes.size();
  EXPECT_LT(stats.bytes_read, total - 20000);
  EXPECT_EQ(scanner.QueueNames(),
            (std::vector<std::string>{"active", "deferred", "hold", "incoming", "maildrop"}));
}

TEST(PostfixQueueScanner, UnchangedQueueIsNotReadAgain) {
  Fixture fx;
  std::vector<PostfixCase> cases = PostfixCases();
  fx.queue.PutCases(cases);
  PostfixQueueScanner scanner(fx.Options());
  QueueScan first = scanner.Scan();
  ASSERT_TRUE(first.ok);
  // Directories written within the settle time are listed again (and their files stat'ed).
  fx.opened.clear();
  QueueScan second = scanner.Scan();
  EXPECT_TRUE(fx.opened.empty());
  EXPECT_EQ(scanner.last_stats().files_cached, cases.size());
  EXPECT_EQ(scanner.last_stats().dirs_reused, 0u);
  // Then, settled: not even listed, but for active/ (none of the cases is there).
  fx.Settle();
  scanner.Scan();
  fx.Settle();
  QueueScan third = scanner.Scan();
  EXPECT_TRUE(fx.opened.empty());
  EXPECT_EQ(scanner.last_stats().dirs_listed, 1u);  // active/
  EXPECT_EQ(scanner.last_stats().files_read, 0u);
  auto a = ById(first);
  auto c = ById(third);
  ASSERT_EQ(a.size(), c.size());
  for (const auto& [id, m] : a) EXPECT_EQ(c.at(id).get(), m.get()) << id;  // the same objects
}

TEST(PostfixQueueScanner, NewFileInASettledHashDirectory) {
  Fixture fx;
  std::string plain = ReadFixture("smtp_auth_plain.qf");
  fx.queue.Put("deferred/A/A1111111111", plain);
  PostfixQueueScanner scanner(fx.Options());
  ASSERT_EQ(scanner.Scan().messages.size(), 1u);
  fx.Settle();
  scanner.Scan();
  // A new file in deferred/A changes deferred/A's mtime (not deferred/'s): it is seen.
  fx.queue.Put("deferred/A/A2222222222", plain);
  fx.opened.clear();
  QueueScan scan = scanner.Scan();
  EXPECT_EQ(scan.messages.size(), 2u);
  EXPECT_EQ(fx.opened, std::vector<std::string>{"deferred/A/A2222222222"});
  // A new hash subdirectory changes deferred/ itself.
  fx.Settle();
  scanner.Scan();
  fx.queue.Put("deferred/B/B3333333333", plain);
  EXPECT_EQ(scanner.Scan().messages.size(), 3u);
}

TEST(PostfixQueueScanner, MoveBetweenQueuesIsNotReadAgain) {
  Fixture fx;
  std::string plain = ReadFixture("smtp_auth_plain.qf");
  fx.queue.Put("deferred/A/A1111111111", plain);
  PostfixQueueScanner scanner(fx.Options());
  ASSERT_EQ(ById(scanner.Scan()).at("A1111111111")->queue, "deferred");
  fs::rename(fx.queue.Path("deferred/A/A1111111111"), fx.queue.Path("active/A1111111111"));
  fx.opened.clear();
  QueueScan scan = scanner.Scan();
  EXPECT_TRUE(fx.opened.empty());
  EXPECT_EQ(scanner.last_stats().files_moved, 1u);
  EXPECT_EQ(ById(scan).at("A1111111111")->queue, "active");
  EXPECT_EQ(ById(scan).at("A1111111111")->owner_label, "alice@mx.example.test");
}

// The queue manager retypes a delivered recipient's record in place (R -> D): no rename, the
// directory's mtime stays; the file's mtime changes. In active/ that is seen at once.
TEST(PostfixQueueScanner, InPlaceEditInActive) {
  Fixture fx;
  std::string plain = ReadFixture("smtp_auth_plain.qf");
  fx.queue.Put("active/A1111111111", plain);
  fx.queue.SetMtime("active/A1111111111", 1700000000);
  fx.Settle();
  PostfixQueueScanner scanner(fx.Options());
  ASSERT_EQ(ById(scanner.Scan()).at("A1111111111")->recipients, 2u);
  fx.Settle();
  scanner.Scan();
  std::size_t at = plain.find(std::string("R\x0e") + "r1@example.com");
  ASSERT_NE(at, std::string::npos);
  {
    std::fstream f(fx.queue.Path("active/A1111111111"), std::ios::in | std::ios::out);
    f.seekp(static_cast<std::streamoff>(at));
    f.put('D');
  }
  fx.queue.SetMtime("active/A1111111111", 1700000100);
  QueueScan scan = scanner.Scan();
  EXPECT_EQ(ById(scan).at("A1111111111")->recipients, 1u);
  EXPECT_EQ(scanner.last_stats().files_read, 1u);
}

TEST(PostfixQueueScanner, FilesBeingWrittenAreLeftOut) {
  Fixture fx;
  std::string plain = ReadFixture("smtp_auth_plain.qf");
  fx.queue.Put("incoming/A1111111111", plain, 0600);  // cleanup(8) still writing it
  PostfixQueueScanner scanner(fx.Options());
  QueueScan scan = scanner.Scan();
  EXPECT_TRUE(scan.ok);
  EXPECT_TRUE(scan.messages.empty());
  for (int e = 0; e < kQueueErrorCount; ++e) EXPECT_EQ(scan.errors[e], 0u) << e;
  EXPECT_EQ(scanner.last_stats().files_not_ready, 1u);
  // Committed with fchmod, which does not touch the directory: seen all the same.
  fx.Settle();
  scanner.Scan();
  ASSERT_EQ(0, ::chmod(fx.queue.Path("incoming/A1111111111").c_str(), 0700));
  EXPECT_EQ(scanner.Scan().messages.size(), 1u);
}

TEST(PostfixQueueScanner, CorruptFilesCountEveryScanButAreReadOnce) {
  Fixture fx;
  fx.queue.Put("hold/C1111111111", ReadFixture("corrupt_no_end.qf"));
  fx.queue.Put("hold/C2222222222", ReadFixture("corrupt_truncated_content.qf"));
  fx.queue.Put("hold/A1111111111", ReadFixture("smtp_auth_plain.qf"));
  PostfixQueueScanner scanner(fx.Options());
  QueueScan scan = scanner.Scan();
  EXPECT_TRUE(scan.ok);
  EXPECT_EQ(scan.messages.size(), 1u);
  EXPECT_EQ(Errors(scan, QueueError::kParse), 2u);
  fx.queue.Put("hold/A2222222222", ReadFixture("smtp_auth_plain.qf"));  // relists hold/
  fx.opened.clear();
  scan = scanner.Scan();
  EXPECT_EQ(Errors(scan, QueueError::kParse), 2u);
  EXPECT_EQ(scan.messages.size(), 2u);
  EXPECT_EQ(fx.opened, std::vector<std::string>{"hold/A2222222222"});
  fx.Settle();
  scanner.Scan();
  fx.Settle();
  scan = scanner.Scan();                            // reused without listing: still counted
  EXPECT_EQ(scanner.last_stats().dirs_reused, 4u);  // all but active/
  EXPECT_EQ(Errors(scan, QueueError::kParse), 2u);
}

TEST(PostfixQueueScanner, VanishedAndUnreadableFiles) {
  Fixture fx;
  std::string plain = ReadFixture("smtp_auth_plain.qf");
  fx.queue.Put("deferred/A/A1111111111", plain);
  fx.queue.Put("deferred/A/A2222222222", plain);
  fs::create_directory(fx.queue.Path("deferred/A/A3333333333"));  // a directory named like one
  ASSERT_EQ(0, ::mkfifo(fx.queue.Path("hold/F1111111111").c_str(), 0700));  // never blocks
  PostfixQueueScanner::Options o = fx.Options();
  o.before_open = [&](const std::string& rel) {
    if (rel == "deferred/A/A2222222222") fs::remove(fx.queue.Path(rel));  // delivered meanwhile
  };
  PostfixQueueScanner scanner(o);
  QueueScan scan = scanner.Scan();
  EXPECT_TRUE(scan.ok);
  EXPECT_EQ(scan.messages.size(), 1u);
  EXPECT_EQ(Errors(scan, QueueError::kVanished), 1u);
  EXPECT_EQ(Errors(scan, QueueError::kOpen), 2u);
  // Unreadable files are tried again at each scan (their directories are never reused).
  fx.Settle();
  scanner.Scan();
  fx.Settle();
  scan = scanner.Scan();
  EXPECT_EQ(Errors(scan, QueueError::kOpen), 2u);
  EXPECT_EQ(Errors(scan, QueueError::kVanished), 0u);
}

TEST(PostfixQueueScanner, MaxFilesPerScan) {
  Fixture fx;
  std::string plain = ReadFixture("smtp_auth_plain.qf");
  for (const char* id : {"A1111111111", "A2222222222", "A3333333333"}) {
    fx.queue.Put(std::string("deferred/A/") + id, plain);
  }
  PostfixQueueScanner::Options o = fx.Options();
  o.max_files = 2;
  PostfixQueueScanner scanner(o);
  QueueScan scan = scanner.Scan();
  EXPECT_TRUE(scan.truncated);
  EXPECT_EQ(scan.messages.size(), 2u);
  fx.Settle();
  scan = scanner.Scan();  // not reused: the listing was incomplete
  EXPECT_FALSE(scan.truncated);
  EXPECT_EQ(scan.messages.size(), 3u);
  EXPECT_EQ(scanner.last_stats().files_read, 1u);
}

TEST(PostfixQueueScanner, DeepHashingAndLongQueueIds) {
  Fixture fx;
  std::string plain = ReadFixture("smtp_auth_plain.qf");
  fx.queue.Put("deferred/4/X/4XrRZV5Gxbz9tM1", plain);
  fx.queue.Put("hold/4/4XrRZV5Gxbz9tM2", plain);
  fx.queue.Put("incoming/1700000000.12345", plain);  // a temporary name: not a queue file
  fx.queue.Put("deferred/ABCDEF12345", plain);       // a queue file at the hash level: read too
  fx.queue.Put("deferred/flush_log_name", plain);    // not a queue id
  PostfixQueueScanner scanner(fx.Options());
  QueueScan scan = scanner.Scan();
  auto by_id = ById(scan);
  EXPECT_EQ(by_id.size(), 3u);
  EXPECT_EQ(by_id.at("4XrRZV5Gxbz9tM1")->queue, "deferred");
  EXPECT_EQ(by_id.at("4XrRZV5Gxbz9tM2")->queue, "hold");
  EXPECT_EQ(by_id.count("ABCDEF12345"), 1u);
}

TEST(PostfixQueueScanner, MissingDirectories) {
  Fixture fx;
  PostfixQueueScanner::Options o = fx.Options();
  o.queue_directory = fx.queue.root() + "/nonexistent";
  PostfixQueueScanner missing(o);
  QueueScan scan = missing.Scan();
  EXPECT_FALSE(scan.ok);
  EXPECT_EQ(Errors(scan, QueueError::kDirectory), 1u);
  EXPECT_EQ(missing.last_status().code(), StatusCode::kNotFound);
  EXPECT_EQ(missing.last_status().message(), "cannot open the Postfix queue directory " +
                                                 o.queue_directory + ": No such file or directory");

  // One queue missing: nothing is reported (a partial queue would read as a small one).
  fx.queue.Put("deferred/A/A1111111111", ReadFixture("smtp_auth_plain.qf"));
  fs::remove(fx.queue.Path("hold"));
  PostfixQueueScanner scanner(fx.Options());
  scan = scanner.Scan();
  EXPECT_FALSE(scan.ok);
  EXPECT_TRUE(scan.messages.empty());
  EXPECT_EQ(Errors(scan, QueueError::kDirectory), 1u);
  EXPECT_EQ(scanner.last_status().message(),
            "cannot open " + fx.queue.root() + "/hold: No such file or directory");
  fs::create_directory(fx.queue.Path("hold"));
  scan = scanner.Scan();
  EXPECT_TRUE(scan.ok);
  EXPECT_TRUE(scanner.last_status().ok());
  EXPECT_EQ(scan.messages.size(), 1u);
}

// Without search permission on a queue directory (the usual case for an unprivileged exporter:
// Postfix's queues are postfix-owned 0700). Root bypasses permissions, so the test drops to
// an unprivileged uid in a child process.
TEST(PostfixQueueScanner, PermissionDenied) {
  Fixture fx;
  fx.queue.Put("deferred/A/A1111111111", ReadFixture("smtp_auth_plain.qf"));
  ASSERT_EQ(0, ::chmod(fx.queue.root().c_str(), 0755));
  ASSERT_EQ(0, ::chmod(fx.queue.Path("deferred").c_str(), 0700));
  if (::geteuid() == 0) {
    pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      if (::setgid(65534) != 0 || ::setuid(65534) != 0) ::_exit(2);
      PostfixQueueScanner scanner(fx.Options());
      QueueScan scan = scanner.Scan();
      bool good = !scan.ok && Errors(scan, QueueError::kDirectory) == 1 &&
                  scanner.last_status().code() == StatusCode::kPermissionDenied &&
                  scanner.last_status().message() ==
                      "cannot open " + fx.queue.root() + "/deferred: Permission denied";
      ::_exit(good ? 0 : 1);
    }
    int status = 0;
    ASSERT_EQ(pid, ::waitpid(pid, &status, 0));
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  } else {
    ASSERT_EQ(0, ::chmod(fx.queue.Path("deferred").c_str(), 0));
    PostfixQueueScanner scanner(fx.Options());
    QueueScan scan = scanner.Scan();
    EXPECT_FALSE(scan.ok);
    EXPECT_EQ(scanner.last_status().code(), StatusCode::kPermissionDenied);
    ASSERT_EQ(0, ::chmod(fx.queue.Path("deferred").c_str(), 0700));
  }
}

}  // namespace
}  // namespace mailrelay
