// One test per failure mode of following a log (style-anchors: name tests after the failure).
#include "source/file_tailer.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace mailrelay {
namespace {

namespace fs = std::filesystem;

class CountingObserver : public TailerObserver {
 public:
  void OnBytesRead(std::size_t n) override { bytes += n; }
  void OnRotation() override { ++rotations; }
  void OnTruncation() override { ++truncations; }
  void OnOpenError(const Status&) override { ++open_errors; }
  void OnReadError(const Status& error) override {
    ++read_errors;
    last_read_error = error.message();
  }
  void OnLongLine() override { ++long_lines; }
  std::size_t bytes = 0;
  int rotations = 0, truncations = 0, open_errors = 0, read_errors = 0, long_lines = 0;
  std::string last_read_error;
};

class FileTailerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/tailer_testXXXXXX";
    ASSERT_NE(nullptr, mkdtemp(tmpl));
    dir_ = tmpl;
    path_ = dir_ + "/mainlog";
  }
  void TearDown() override { fs::remove_all(dir_); }

  void Append(const std::string& path, const std::string& text) {
    std::ofstream out(path, std::ios::app | std::ios::binary);
    out << text;
  }
  void Append(const std::string& text) { Append(path_, text); }

  std::vector<std::string> PollLines(FileTailer& t) {
    std::vector<std::string> lines;
    t.Poll([&](std::string_view l) { lines.emplace_back(l); });
    return lines;
  }

  std::string dir_;
  std::string path_;
  CountingObserver obs_;
};

using Lines = std::vector<std::string>;

TEST_F(FileTailerTest, StartsAtEndOfExistingFile) {
  Append("old 1\nold 2\n");
  FileTailer t(path_, {}, &obs_);
  EXPECT_EQ(Lines{}, PollLines(t));
  Append("new 1\n");
  EXPECT_EQ(Lines{"new 1"}, PollLines(t));
}

TEST_F(FileTailerTest, FromBeginningReadsEverything) {
  Append("a\nb\n");
  FileTailer::Options o;
  o.start_at_end = false;
  FileTailer t(path_, o, &obs_);
  EXPECT_EQ((Lines{"a", "b"}), PollLines(t));
  EXPECT_EQ(4u, obs_.bytes);
}

TEST_F(FileTailerTest, MissingFileAtStartIsWaitedForAndReadFromZero) {
  FileTailer t(path_, {}, &obs_);
  EXPECT_EQ(Lines{}, PollLines(t));
  EXPECT_FALSE(t.is_open());
  EXPECT_EQ(StatusCode::kNotFound, t.open_status().code());
  EXPECT_EQ(1, obs_.open_errors);
  EXPECT_EQ(Lines{}, PollLines(t));
  EXPECT_EQ(1, obs_.open_errors);  // counted once per distinct error
  Append("first\n");
  EXPECT_EQ(Lines{"first"}, PollLines(t));
  EXPECT_TRUE(t.is_open());
}

// A read that fails on an open file (here: the path names a directory, which opens but reads
// EISDIR) is logged and counted at every poll, never fatal, and nothing is read.
TEST_F(FileTailerTest, ReadErrorsAreCountedAndRetried) {
  fs::create_directory(path_);
  FileTailer::Options o;
  o.start_at_end = false;
  FileTailer t(path_, o, &obs_);
  EXPECT_EQ(Lines{}, PollLines(t));
  EXPECT_EQ(Lines{}, PollLines(t));
  EXPECT_EQ(2, obs_.read_errors);
  EXPECT_NE(std::string::npos, obs_.last_read_error.find("Is a directory")) << obs_.last_read_error;
  EXPECT_NE(std::string::npos, obs_.last_read_error.find(path_)) << obs_.last_read_error;
}

TEST_F(FileTailerTest, PartialLineHeldUntilNewline) {
  Append("");
  FileTailer t(path_, {}, &obs_);
  PollLines(t);
  Append("2024-01-01 00:00:00 par");
  EXPECT_EQ(Lines{}, PollLines(t));
  Append("tial\nnext");
  EXPECT_EQ(Lines{"2024-01-01 00:00:00 partial"}, PollLines(t));
  Append("\r\n");
  EXPECT_EQ(Lines{"next"}, PollLines(t));
}

TEST_F(FileTailerTest, RenameRotationDrainsOldFileThenReadsNew) {
  Append("");
  FileTailer t(path_, {}, &obs_);
  PollLines(t);
  Append("before rotation\n");
  Append("last old line\n");
  fs::rename(path_, path_ + ".1");
  Append(path_ + ".1", "late write to old file\n");
  Append("first new line\n");
  EXPECT_EQ((Lines{"before rotation", "last old line", "late write to old file", "first new line"}),
            PollLines(t));
  EXPECT_EQ(1, obs_.rotations);
  Append("second new line\n");
  EXPECT_EQ(Lines{"second new line"}, PollLines(t));
}

TEST_F(FileTailerTest, DeleteAndRecreate) {
  Append("");
  FileTailer t(path_, {}, &obs_);
  PollLines(t);
  Append("one\n");
  EXPECT_EQ(Lines{"one"}, PollLines(t));
  fs::remove(path_);
  EXPECT_EQ(Lines{}, PollLines(t));  // gone: nothing to do yet
  Append("two\n");
  EXPECT_EQ(Lines{"two"}, PollLines(t));
  EXPECT_EQ(1, obs_.rotations);
}

TEST_F(FileTailerTest, CopyTruncateRestartsAtZero) {
  Append("");
  FileTailer t(path_, {}, &obs_);
  PollLines(t);
  Append("line one is long enough\n");
  EXPECT_EQ(Lines{"line one is long enough"}, PollLines(t));
  fs::copy_file(path_, path_ + ".1");
  fs::resize_file(path_, 0);
  Append("after\n");
  EXPECT_EQ(Lines{"after"}, PollLines(t));
  EXPECT_EQ(1, obs_.truncations);
}

TEST_F(FileTailerTest, PartialLineCarriedAcrossRotation) {
  Append("");
  FileTailer t(path_, {}, &obs_);
  PollLines(t);
  Append("half of a ");
  EXPECT_EQ(Lines{}, PollLines(t));
  fs::rename(path_, path_ + ".1");
  Append("line\n");
  EXPECT_EQ(Lines{"half of a line"}, PollLines(t));
}

TEST_F(FileTailerTest, OverlongLinesAreCut) {
  Append("");
  FileTailer::Options o;
  o.max_line_bytes = 10;
  o.read_chunk_bytes = 4;  // lines span many reads
  FileTailer t(path_, o, &obs_);
  PollLines(t);
  Append(std::string(25, 'x') + "\nshort\n" + std::string(12, 'y') + "\n");
  EXPECT_EQ((Lines{std::string(10, 'x'), "short", std::string(10, 'y')}), PollLines(t));
  EXPECT_EQ(2, obs_.long_lines);
}

TEST_F(FileTailerTest, FlushPartialForOneShot) {
  Append("a\nno newline at end");
  FileTailer::Options o;
  o.start_at_end = false;
  FileTailer t(path_, o, &obs_);
  Lines lines = PollLines(t);
  t.FlushPartial([&](std::string_view l) { lines.emplace_back(l); });
  EXPECT_EQ((Lines{"a", "no newline at end"}), lines);
}

TEST_F(FileTailerTest, PermissionDeniedIsReportedNotFatal) {
  Append("x\n");
  chmod(path_.c_str(), 0);
  // Root reads any file: check as an unprivileged user in a child process.
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    if (geteuid() == 0 && (setgid(65534) != 0 || setuid(65534) != 0)) _exit(3);
    FileTailer t(path_, {}, nullptr);
    int lines = 0;
    t.Poll([&](std::string_view) { ++lines; });
    _exit(lines == 0 && !t.is_open() && t.open_status().code() == StatusCode::kPermissionDenied
              ? 0
              : 1);
  }
  int status = 0;
  ASSERT_EQ(pid, waitpid(pid, &status, 0));
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(0, WEXITSTATUS(status));
}

TEST_F(FileTailerTest, RotationToUnreadableFileIsCountedOnceAndBlocks) {
  chmod(dir_.c_str(), 0777);
  // As an unprivileged user (root reads any file), in a child process.
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    if (geteuid() == 0 && (setgid(65534) != 0 || setuid(65534) != 0)) _exit(3);
    CountingObserver obs;
    FileTailer::Options o;
    o.start_at_end = false;
    Append("a\nb\n");
    FileTailer t(path_, o, &obs);
    Lines got;
    auto poll = [&] { t.Poll([&](std::string_view l) { got.emplace_back(l); }); };
    poll();
    Append("c\n");
    if (rename(path_.c_str(), (path_ + ".1").c_str()) != 0) _exit(4);
    Append("d\n");
    chmod(path_.c_str(), 0);  // its owner cannot read it either
    poll();
    if (got != Lines{"a", "b", "c"}) _exit(5);  // the old file was drained
    if (!t.blocked() || t.open_status().code() != StatusCode::kPermissionDenied || !t.is_open())
      _exit(6);
    poll();
    poll();
    if (obs.rotations != 1 || obs.open_errors != 1) _exit(7);  // once, not at every poll
    chmod(path_.c_str(), 0644);
    poll();
    if (got != Lines{"a", "b", "c", "d"} || t.blocked() || obs.rotations != 1) _exit(8);
    _exit(0);
  }
  int status = 0;
  ASSERT_EQ(pid, waitpid(pid, &status, 0));
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(0, WEXITSTATUS(status));
}

TEST_F(FileTailerTest, BehindPollsAreBoundedShowLagAndSkipNothing) {
  FileTailer::Options o;
  o.start_at_end = false;
  o.read_chunk_bytes = 64;
  o.max_bytes_per_poll = 100;
  Lines want;
  std::string text;
  for (int i = 0; i < 50; ++i) {
    want.push_back("line " + std::to_string(i) + " of the backlog");
    text += want.back() + "\n";
  }
  Append(text);
  FileTailer t(path_, o, &obs_);
  Lines got;
  auto poll = [&] { return t.Poll([&](std::string_view l) { got.emplace_back(l); }); };
  EXPECT_TRUE(poll());  // stopped at the limit
  EXPECT_EQ(text.size() - 100, t.LagBytes());
  EXPECT_LT(got.size(), 10u);
  // A rename rotation while behind: the old file is still drained first, in order.
  Lines more;
  std::string text2;
  for (int i = 0; i < 20; ++i) {
    want.push_back("new file line " + std::to_string(i));
    text2 += want.back() + "\n";
  }
  ASSERT_EQ(0, rename(path_.c_str(), (path_ + ".1").c_str()));
  Append(text2);
  int polls = 1;
  while (poll()) ++polls;
  EXPECT_EQ(want, got);
  EXPECT_EQ(1, obs_.rotations);
  EXPECT_GE(polls, static_cast<int>((text.size() + text2.size()) / 100));
  EXPECT_EQ(0u, t.LagBytes());
  EXPECT_EQ(text.size() + text2.size(), obs_.bytes);
}

TEST_F(FileTailerTest, LagBytes) {
  Append("");
  FileTailer t(path_, {}, &obs_);
  PollLines(t);
  Append("12345\n");
  EXPECT_EQ(6u, t.LagBytes());
  PollLines(t);
  EXPECT_EQ(0u, t.LagBytes());
}

}  // namespace
}  // namespace mailrelay
