// Resuming a log at a saved position: one test per way the log can change while the exporter is
// stopped (nothing lost, nothing read twice).
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "common/clock.h"
#include "mta/exim/exim_module.h"
#include "pipeline/log_pipeline.h"
#include "source/file_tailer.h"
#include "source/read_position.h"
#include "source/state_store.h"
#include "status_matchers.h"

namespace mailrelay {
namespace {

namespace fs = std::filesystem;
using Lines = std::vector<std::string>;

class CountingObserver : public TailerObserver {
 public:
  void OnRotation() override { ++rotations; }
  void OnTruncation() override { ++truncations; }
  int rotations = 0, truncations = 0;
};

class StateResumeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/resume_testXXXXXX";
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
  void Gzip(const std::string& from, const std::string& to) {
    std::ifstream in(from, std::ios::binary);
    std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    gzFile gz = gzopen(to.c_str(), "wb");
    ASSERT_NE(nullptr, gz);
    ASSERT_EQ(static_cast<int>(data.size()),
              gzwrite(gz, data.data(), static_cast<unsigned>(data.size())));
    gzclose(gz);
    fs::remove(from);
  }

  Lines PollLines(FileTailer& t) {
    Lines lines;
    t.Poll([&](std::string_view l) { lines.emplace_back(l); });
    return lines;
  }
  FileTailer::Options FromStart() {
    FileTailer::Options o;
    o.start_at_end = false;
    return o;
  }
  // A first run that reads what is there and returns its position (as saved at shutdown).
  ReadPosition FirstRun(FileTailer::Options o = {}) {
    o.start_at_end = false;
    FileTailer t(path_, o);
    PollLines(t);
    ReadPosition p;
    EXPECT_TRUE(t.Position(&p));
    return p;
  }
  // A restarted run: resumes at p and reads what is there now.
  Lines Resume(const ReadPosition& p, FileTailer::Options o = {}) {
    FileTailer t(path_, o, &obs_);
    t.ResumeFrom(p);
    return PollLines(t);
  }

  std::string dir_;
  std::string path_;
  CountingObserver obs_;
};

TEST_F(StateResumeTest, PositionIsAfterTheLastCompleteLineNotAfterAHeldPartialLine) {
  Append("a\nbb\npart");
  FileTailer t(path_, FromStart());
  EXPECT_FALSE(t.is_open());
  ReadPosition p;
  EXPECT_FALSE(t.Position(&p));  // nothing opened yet
  EXPECT_EQ((Lines{"a", "bb"}), PollLines(t));
  ASSERT_TRUE(t.Position(&p));
  EXPECT_EQ(5u, p.offset);
  EXPECT_EQ(9u, t.offset());
  EXPECT_EQ(9u, p.file.fingerprint_len);
  EXPECT_EQ(Fnv1a64("a\nbb\npart"), p.file.fingerprint);
  struct stat st {};
  ASSERT_EQ(0, stat(path_.c_str(), &st));
  EXPECT_EQ(static_cast<std::uint64_t>(st.st_ino), p.file.ino);
}

TEST_F(StateResumeTest, FingerprintStopsGrowingAtOneKiB) {
  std::string first(1000, 'x');
  Append(first + "\n");
  FileTailer t(path_, FromStart());
  PollLines(t);
  Append(std::string(2000, 'y') + "\n");
  PollLines(t);
  ReadPosition p;
  ASSERT_TRUE(t.Position(&p));
  EXPECT_EQ(1024u, p.file.fingerprint_len);
  EXPECT_EQ(Fnv1a64(first + "\n" + std::string(23, 'y')), p.file.fingerprint);
}

TEST_F(StateResumeTest, StartAtEndWithoutStateStillTails) {
  Append("old\n");
  FileTailer t(path_, {});
  EXPECT_EQ(Lines{}, PollLines(t));
  ReadPosition p;
  ASSERT_TRUE(t.Position(&p));
  EXPECT_EQ(4u, p.offset);
}

TEST_F(StateResumeTest, SameFileResumesAtTheSavedOffset) {
  Append("a\nb\n");
  ReadPosition p = FirstRun();
  Append("c\n");
  EXPECT_EQ(Lines{"c"}, Resume(p));  // start_at_end is not used when resuming
  EXPECT_EQ(Lines{"c"}, Resume(p, FromStart()));
  EXPECT_EQ(0, obs_.rotations);
}

TEST_F(StateResumeTest, HeldPartialLineIsReadAgainWhole) {
  Append("a\npar");
  ReadPosition p = FirstRun();
  Append("tial\n");
  EXPECT_EQ(Lines{"partial"}, Resume(p));
}

TEST_F(StateResumeTest, RenameRotationWhileStoppedFinishesTheRotatedFileFirst) {
  Append("a\n");
  ReadPosition p = FirstRun();
  Append("late 1\n");
  fs::rename(path_, path_ + ".1");
  Append("new 1\n");
  EXPECT_EQ((Lines{"late 1", "new 1"}), Resume(p));
  EXPECT_EQ(1, obs_.rotations);
}

TEST_F(StateResumeTest, DateextRotationWhileStopped) {
  Append("a\n");
  ReadPosition p = FirstRun();
  Append("late 1\n");
  Append(path_ + "-20240101", "much older\n");
  fs::rename(path_, path_ + "-20240102");
  Append("new 1\n");
  EXPECT_EQ((Lines{"late 1", "new 1"}), Resume(p));
}

TEST_F(StateResumeTest, GzippedRotatedFileIsRead) {
  Append("a\nb\n");
  ReadPosition p = FirstRun();
  Append("late 1\nlate 2\n");
  fs::rename(path_, path_ + ".1");
  Gzip(path_ + ".1", path_ + ".1.gz");
  Append("new 1\n");
  EXPECT_EQ((Lines{"late 1", "late 2", "new 1"}), Resume(p));
}

TEST_F(StateResumeTest, DatedGzippedRotatedFileIsRead) {
  Append("a\nb\n");
  ReadPosition p = FirstRun();
  Append("late 1\n");
  fs::rename(path_, path_ + "-20240102");
  Gzip(path_ + "-20240102", path_ + "-20240102.gz");
  Append("new 1\n");
  EXPECT_EQ((Lines{"late 1", "new 1"}), Resume(p));
}

TEST_F(StateResumeTest, TwoRotationsWhileStoppedReadEveryNewerRotatedFile) {
  Append("a\n");
  ReadPosition p = FirstRun();
  Append("late in old\n");
  fs::rename(path_, path_ + ".1");
  Append("whole middle file\n");
  fs::rename(path_ + ".1", path_ + ".2");
  Gzip(path_ + ".2", path_ + ".2.gz");
  fs::rename(path_, path_ + ".1");
  Append("new\n");
  EXPECT_EQ((Lines{"late in old", "whole middle file", "new"}), Resume(p));
}

TEST_F(StateResumeTest, CopytruncateWhileStoppedFindsTheCopyByFingerprint) {
  Append("2024-01-01 00:00:00 first line of the old file\n");
  ReadPosition p = FirstRun();
  Append("2024-01-01 00:00:01 late\n");
  fs::copy_file(path_, path_ + ".1");
  fs::resize_file(path_, 0);
  Append("2024-01-02 00:00:00 new\n");
  EXPECT_EQ((Lines{"2024-01-01 00:00:01 late", "2024-01-02 00:00:00 new"}), Resume(p));
}

TEST_F(StateResumeTest, TruncatedAndRegrownPastTheOffsetIsANewFile) {
  Append("2024-01-01 00:00:00 old\n");
  ReadPosition p = FirstRun();
  fs::resize_file(path_, 0);  // no copy kept
  Append("2024-01-02 00:00:00 new content, longer than the old offset\n");
  EXPECT_EQ((Lines{"2024-01-02 00:00:00 new content, longer than the old offset"}), Resume(p));
}

TEST_F(StateResumeTest, ReusedInodeIsDetectedByTheFingerprint) {
  Append("2024-01-02 00:00:00 new file that got the old inode number\n");
  struct stat st {};
  ASSERT_EQ(0, stat(path_.c_str(), &st));
  ReadPosition p;  // what a run on the deleted file with this inode number saved
  p.file.dev = static_cast<std::uint64_t>(st.st_dev);
  p.file.ino = static_cast<std::uint64_t>(st.st_ino);
  p.file.fingerprint = Fnv1a64("2024-01-01 00:00:00 old");
  p.file.fingerprint_len = 23;
  p.offset = 24;
  EXPECT_EQ((Lines{"2024-01-02 00:00:00 new file that got the old inode number"}), Resume(p));
}

TEST_F(StateResumeTest, SavedFileGoneReadsTheCurrentFileFromTheStart) {
  Append("2024-01-01 00:00:00 old\n");
  ReadPosition p = FirstRun();
  fs::rename(path_, path_ + ".1");
  fs::remove(path_ + ".1");
  Append("2024-01-02 00:00:00 new\n");
  EXPECT_EQ((Lines{"2024-01-02 00:00:00 new"}), Resume(p));
}

TEST_F(StateResumeTest, MissingPathAfterRotationDrainsRotatedFileThenWaitsForTheNewOne) {
  Append("a\n");
  ReadPosition p = FirstRun();
  Append("late\n");
  fs::rename(path_, path_ + ".1");
  FileTailer t(path_, {}, &obs_);
  t.ResumeFrom(p);
  EXPECT_EQ(Lines{"late"}, PollLines(t));
  Append(path_ + ".1", "later still\n");  // the writer has not reopened yet
  EXPECT_EQ(Lines{"later still"}, PollLines(t));
  Append("new\n");
  EXPECT_EQ(Lines{"new"}, PollLines(t));
}

TEST_F(StateResumeTest, PartialLineCarriedAcrossRotationKeepsThePositionInTheOldFile) {
  Append("a\nhal");
  FileTailer t(path_, FromStart());
  EXPECT_EQ(Lines{"a"}, PollLines(t));
  fs::rename(path_, path_ + ".1");
  Append("");
  EXPECT_EQ(Lines{}, PollLines(t));  // now following the new, empty file; "hal" held
  ReadPosition p;
  ASSERT_TRUE(t.Position(&p));
  EXPECT_EQ(2u, p.offset);
  EXPECT_EQ(Fnv1a64("a\nhal"), p.file.fingerprint);
  Append("f\nnext\n");
  EXPECT_EQ((Lines{"half", "next"}), Resume(p));
  // Once the line is complete the position moves into the new file.
  EXPECT_EQ((Lines{"half", "next"}), PollLines(t));
  ASSERT_TRUE(t.Position(&p));
  EXPECT_EQ(7u, p.offset);
  Append("more\n");
  EXPECT_EQ(Lines{"more"}, Resume(p));
}

TEST_F(StateResumeTest, OverlongLineIsNotEmittedTwice) {
  FileTailer::Options o;
  o.max_line_bytes = 10;
  o.read_chunk_bytes = 4;
  Append("ok\n" + std::string(25, 'x'));
  o.start_at_end = false;
  FileTailer t(path_, o);
  EXPECT_EQ((Lines{"ok", std::string(10, 'x')}), PollLines(t));
  ReadPosition p;
  ASSERT_TRUE(t.Position(&p));
  EXPECT_TRUE(p.skip_to_newline);
  EXPECT_EQ(28u, p.offset);
  Append("yyy\nnext\n");
  EXPECT_EQ(Lines{"next"}, Resume(p, o));
}

TEST_F(StateResumeTest, CopytruncateWhileRunningMovesThePositionToTheRewrittenFile) {
  Append("2024-01-01 00:00:00 one\n");
  FileTailer t(path_, FromStart(), &obs_);
  PollLines(t);
  fs::resize_file(path_, 0);
  Append("2\n");
  EXPECT_EQ(Lines{"2"}, PollLines(t));
  EXPECT_EQ(1, obs_.truncations);
  ReadPosition p;
  ASSERT_TRUE(t.Position(&p));
  EXPECT_EQ(2u, p.offset);
  EXPECT_EQ(Fnv1a64("2\n"), p.file.fingerprint);
  Append("3\n");
  EXPECT_EQ(Lines{"3"}, Resume(p));
}

TEST_F(StateResumeTest, RotatedSeriesAreOrderedOldestFirst) {
  for (const char* s :
       {".1", ".2.gz", ".0", "-20240102", "-20240101.gz", "-20240103.gz", "-20240103", ".tmp"}) {
    Append(path_ + s, "x\n");
  }
  auto series = RotatedSeries(path_);
  ASSERT_EQ(2u, series.size());
  EXPECT_EQ((std::vector<RotatedFile>{
                {path_ + ".2.gz", true}, {path_ + ".1", false}, {path_ + ".0", false}}),
            series[0]);
  EXPECT_EQ((std::vector<RotatedFile>{{path_ + "-20240101.gz", true},
                                      {path_ + "-20240102", false},
                                      {path_ + "-20240103", false}}),
            series[1]);
}

// The pipeline saves the position of the last line it counted when it stops, and a new pipeline
// continues there.
TEST_F(StateResumeTest, PipelineSavesAtStopAndResumes) {
  std::string state = dir_ + "/state";
  auto run = [&](int expected_lines) {
    RelayClassifier classifier(RelayPolicy{});
    auto registry = std::make_shared<prometheus::Registry>();
    MailMetrics metrics(registry, BoundedLimits{}, BuildInfo{"v", "r"});
    ManualClock clock;
    LogPipeline pipeline(classifier, metrics, clock, {5, 3600});
    LogSpec spec;
    spec.name = "exim_mainlog";
    spec.path = path_;
    pipeline.AddLog(spec, MakeEximModule()->MakeDecoder(spec, {}), FromStart());
    pipeline.EnableState(state, 3600 * 1000);  // only the save at Stop()
    pipeline.Begin();
    EXPECT_FALSE(pipeline.Step());  // everything there is read in one step
    pipeline.Stop();
    EXPECT_EQ(expected_lines, metrics.ForLog("exim_mainlog").lines->Value());
    EXPECT_EQ(1, metrics.state_saves().Value());
  };
  Append("2024-01-01 00:00:00 one\n2024-01-01 00:00:00 two\npartial");
  run(2);
  StateStore s(state);
  ASSERT_TRUE(IsOk(s.Load()));
  ASSERT_NE(nullptr, s.Find(path_));
  EXPECT_EQ(48u, s.Find(path_)->offset);
  Append(" line\n");
  fs::rename(path_, path_ + ".1");
  Append("2024-01-01 00:00:00 three\n");
  run(2);
}

}  // namespace
}  // namespace mailrelay
