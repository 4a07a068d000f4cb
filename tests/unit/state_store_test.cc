// --state.file: the file format and its atomic save (one test per failure mode).
#include "source/state_store.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "app/command_line.h"
#include "status_matchers.h"

namespace mailrelay {
namespace {

namespace fs = std::filesystem;

ReadPosition Pos(std::uint64_t dev, std::uint64_t ino, std::uint64_t offset, std::uint64_t fp,
                 std::uint32_t fp_len, bool skip = false) {
  ReadPosition p;
  p.file = {dev, ino, fp, fp_len};
  p.offset = offset;
  p.skip_to_newline = skip;
  return p;
}

class StateStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/state_testXXXXXX";
    ASSERT_NE(nullptr, mkdtemp(tmpl));
    dir_ = tmpl;
    path_ = dir_ + "/state";
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string Read(const std::string& p) {
    std::ifstream in(p, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }
  void Write(const std::string& p, const std::string& text) {
    std::ofstream out(p, std::ios::binary | std::ios::trunc);
    out << text;
  }
  std::string dir_;
  std::string path_;
};

TEST(StateFormat, RoundTripsEveryField) {
  StateEntries in;
  in["/var/log/exim4/mainlog"] = Pos(2049, 123456, 987654321, 0xdeadbeefcafef00dULL, 1024);
  in["/var/log/with space/rejectlog"] = Pos(1, 2, 3, 0, 0, true);
  StateEntries out;
  ASSERT_TRUE(IsOk(ParseState(SerializeState(in), &out)));
  EXPECT_EQ(in, out);
}

TEST(StateFormat, PathWithNewlineIsNotStored) {
  StateEntries in;
  in["/tmp/bad\nname"] = Pos(1, 2, 3, 4, 5);
  StateEntries out;
  ASSERT_TRUE(IsOk(ParseState(SerializeState(in), &out)));
  EXPECT_TRUE(out.empty());
}

TEST(StateFormat, TornOrForeignFilesAreRejected) {
  StateEntries good;
  good["/x"] = Pos(1, 2, 3, 4, 5);
  std::string text = SerializeState(good);
  StateEntries out;
  // Every strict prefix of a valid file (a torn write) is rejected.
  for (std::size_t n = 0; n < text.size(); ++n) {
    EXPECT_FALSE(ParseState(text.substr(0, n), &out).ok()) << n;
  }
  EXPECT_FALSE(ParseState("something else\nend\n", &out).ok());
  EXPECT_FALSE(ParseState(text + "log 1 2 3 4 5 0 /y\n", &out).ok());  // data after end
  EXPECT_FALSE(ParseState("mailrelay_exporter state 1\nlog 1 2 x 4 5 0 /y\nend\n", &out).ok());
  EXPECT_FALSE(ParseState("mailrelay_exporter state 1\nlog 1 2 3 4 1025 0 /y\nend\n", &out).ok());
  EXPECT_FALSE(ParseState("mailrelay_exporter state 1\nlog 1 2 3 4 5 2 /y\nend\n", &out).ok());
  EXPECT_FALSE(ParseState("mailrelay_exporter state 1\nlog 1 2 3 4 5 0\nend\n", &out).ok());
  EXPECT_FALSE(ParseState("mailrelay_exporter state 1\nlog 1 2 3 -4 5 0 /y\nend\n", &out).ok());
}

TEST_F(StateStoreTest, MissingFileIsAnEmptyState) {
  StateStore s(path_);
  EXPECT_TRUE(IsOk(s.Load()));
  EXPECT_TRUE(s.entries().empty());
  EXPECT_EQ(nullptr, s.Find("/x"));
}

TEST_F(StateStoreTest, SaveThenLoad) {
  StateStore s(path_);
  EXPECT_FALSE(s.dirty());
  s.Set("/var/log/mainlog", Pos(1, 2, 300, 4, 5));
  EXPECT_TRUE(s.dirty());
  ASSERT_TRUE(IsOk(s.Save()));
  EXPECT_FALSE(s.dirty());
  EXPECT_FALSE(fs::exists(path_ + ".tmp"));
  s.Set("/var/log/mainlog", Pos(1, 2, 300, 4, 5));
  EXPECT_FALSE(s.dirty());  // unchanged position: nothing to write

  StateStore again(path_);
  ASSERT_TRUE(IsOk(again.Load()));
  ASSERT_NE(nullptr, again.Find("/var/log/mainlog"));
  EXPECT_EQ(300u, again.Find("/var/log/mainlog")->offset);
}

TEST_F(StateStoreTest, CorruptFileIsReportedAndIgnored) {
  Write(path_, "mailrelay_exporter state 1\nlog 1 2 3 4 5 0 /x\n");  // no end line: torn
  StateStore s(path_);
  Status loaded = s.Load();
  EXPECT_FALSE(loaded.ok());
  EXPECT_NE(std::string::npos, loaded.message().find("truncated")) << loaded.message();
  EXPECT_TRUE(s.entries().empty());
  s.Set("/x", Pos(1, 2, 3, 4, 5));
  ASSERT_TRUE(IsOk(s.Save()));  // the next save replaces it
  StateStore again(path_);
  EXPECT_TRUE(IsOk(again.Load()));
}

TEST_F(StateStoreTest, LeftoverTempFileFromACrashIsHarmless) {
  StateStore s(path_);
  s.Set("/x", Pos(1, 2, 3, 4, 5));
  ASSERT_TRUE(IsOk(s.Save()));
  Write(path_ + ".tmp", "mailrelay_exporter state 1\nlog 9 9");  // killed mid-write
  StateStore again(path_);
  ASSERT_TRUE(IsOk(again.Load()));
  EXPECT_EQ(3u, again.Find("/x")->offset);
  again.Set("/x", Pos(1, 2, 4, 4, 5));
  ASSERT_TRUE(IsOk(again.Save()));
  EXPECT_FALSE(fs::exists(path_ + ".tmp"));
}

TEST_F(StateStoreTest, FailedSaveReportsWhyAndKeepsTheOldState) {
  StateStore s(path_);
  s.Set("/x", Pos(1, 2, 3, 4, 5));
  ASSERT_TRUE(IsOk(s.Save()));
  std::string before = Read(path_);
  fs::create_directory(path_ + ".tmp");  // the temporary file cannot be created, even by root
  s.Set("/x", Pos(1, 2, 99, 4, 5));
  Status saved = s.Save();
  EXPECT_FALSE(saved.ok());
  EXPECT_NE(std::string::npos, saved.message().find("cannot create")) << saved.message();
  EXPECT_TRUE(s.dirty());  // retried at the next interval
  EXPECT_EQ(before, Read(path_));
}

TEST_F(StateStoreTest, StateFileInMissingDirectoryFails) {
  StateStore s(dir_ + "/no/such/dir/state");
  s.Set("/x", Pos(1, 2, 3, 4, 5));
  Status saved = s.Save();
  EXPECT_FALSE(saved.ok());
  EXPECT_FALSE(saved.message().empty());
}

TEST(StateFlags, ParseStateFileAndInterval) {
  CommandLine c;
  std::vector<const char*> args = {"x", "--state.file=/var/lib/mailrelay/state",
                                   "--state.interval=250ms"};
  Status parsed = c.Parse(static_cast<int>(args.size()), args.data(), kExporterScope);
  ASSERT_TRUE(parsed.ok()) << parsed.message();
  EXPECT_EQ("/var/lib/mailrelay/state", c.options.tail.state_file);
  EXPECT_EQ(250, c.options.tail.state_interval_ms);
  CommandLine d;
  EXPECT_TRUE(d.options.tail.state_file.empty());
  EXPECT_EQ(5000, d.options.tail.state_interval_ms);
  std::vector<const char*> bad = {"x", "--state.interval=0s"};
  EXPECT_FALSE(d.Parse(static_cast<int>(bad.size()), bad.data(), kExporterScope).ok());
}

}  // namespace
}  // namespace mailrelay
