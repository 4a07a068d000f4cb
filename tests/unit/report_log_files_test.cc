#include "report/log_files.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>
#include <zlib.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "mta/exim/log_parser.h"

namespace mailrelay::report {
namespace {

namespace fs = std::filesystem;

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "report_logs_XXXXXX").string();
    path_ = ::mkdtemp(tmpl.data());
  }
  ~TempDir() { fs::remove_all(path_); }
  const std::string& path() const { return path_; }
  std::string operator/(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

void WritePlain(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

void WriteGzip(const std::string& path, const std::string& text) {
  gzFile gz = gzopen(path.c_str(), "wb");
  ASSERT_NE(nullptr, gz);
  ASSERT_EQ(static_cast<int>(text.size()),
            gzwrite(gz, text.data(), static_cast<unsigned>(text.size())));
  gzclose(gz);
}

std::string Line(const std::string& time, const std::string& rest = "Start queue run: pid=1") {
  return "2026-11-" + time + " " + rest + "\n";
}

std::vector<std::string> Names(const std::vector<LogFile>& files) {
  std::vector<std::string> out;
  for (const auto& f : files) out.push_back(fs::path(f.path).filename().string());
  return out;
}

LineTimeFn EximTime() {
  auto parser = std::make_shared<EximLogParser>();
  return [parser](std::string_view line) {
    Event ev;
    parser->Parse(line, &ev);
    return ev.timestamp;
  };
}

TEST(ReportLogFiles, FindsRotatedSiblingsOldestFirst) {
  TempDir dir;
  for (const char* plain : {"mainlog", "mainlog.1", "mainlog.3", "mainlog-20261120", "mainlog.bak",
                            "mainlog-old", "rejectlog.1", "mainlog.1.bz2"}) {
    WritePlain(dir / plain, "x\n");
  }
  for (const char* gz : {"mainlog.2.gz", "mainlog.10.gz", "mainlog.3.gz", "mainlog-20261121.gz",
                         "mainlog-20261119.gz"}) {
    WriteGzip(dir / gz, "x\n");
  }
  fs::create_directory(dir / "mainlog.4");  // not a regular file
  auto files = FindLogFiles(dir / "mainlog");
  EXPECT_EQ((std::vector<std::string>{"mainlog.10.gz", "mainlog.3", "mainlog.2.gz", "mainlog.1",
                                      "mainlog-20261119.gz", "mainlog-20261120",
                                      "mainlog-20261121.gz", "mainlog"}),
            Names(files));
  EXPECT_TRUE(files[0].gzip);
  EXPECT_FALSE(files[1].gzip);  // mainlog.3 beats mainlog.3.gz
  EXPECT_TRUE(files.back().live);
  EXPECT_FALSE(files[0].live);
}

TEST(ReportLogFiles, LiveFileMayBeMissing) {
  TempDir dir;
  WritePlain(dir / "mail.log-20261122", "x\n");
  EXPECT_EQ(std::vector<std::string>{"mail.log-20261122"}, Names(FindLogFiles(dir / "mail.log")));
  EXPECT_TRUE(FindLogFiles(dir / "nothing").empty());
}

TEST(ReportLogFiles, ProbesTimesAndOrdersByThem) {
  TempDir dir;
  // A dated series older than the numbered one: time order wins over name order.
  WriteGzip(dir / "mainlog-20261119.gz",
            "garbage line\n" + Line("19 10:00:00") + Line("19 23:59:00"));
  WritePlain(dir / "mainlog.2", Line("20 00:00:01") + Line("20 23:00:00"));
  WritePlain(dir / "mainlog.1", Line("21 00:00:01") + Line("21 23:00:00") + "partial");
  WritePlain(dir / "mainlog", Line("22 00:00:01"));
  auto files = FindLogFiles(dir / "mainlog");
  ProbeAndOrder(&files, EximTime());
  ASSERT_EQ((std::vector<std::string>{"mainlog-20261119.gz", "mainlog.2", "mainlog.1", "mainlog"}),
            Names(files));
  EximLogParser p;
  auto t = [&](const std::string& s) {
    Event ev;
    p.Parse("2026-11-" + s + " Start queue run: pid=1", &ev);
    return ev.timestamp;
  };
  EXPECT_EQ(t("19 10:00:00"), files[0].first_time);
  EXPECT_EQ(0, files[0].last_time);  // not cheap for gzip
  EXPECT_EQ(t("20 00:00:01"), files[1].first_time);
  EXPECT_EQ(t("20 23:00:00"), files[1].last_time);
  EXPECT_EQ(t("21 23:00:00"), files[2].last_time);  // the partial line has no time
  EXPECT_EQ(t("22 00:00:01"), files[3].last_time);

  // Window 2026-11-21 12:00 .. 2026-11-22 00:00 (no slack).
  TimeWindow w{t("21 12:00:00"), t("22 00:00:00")};
  EXPECT_EQ(FileVerdict::kBeforeWindow, JudgeFile(files, 0, w, 0));  // up to mainlog.2's start
  EXPECT_EQ(FileVerdict::kBeforeWindow, JudgeFile(files, 1, w, 0));
  EXPECT_EQ(FileVerdict::kRead, JudgeFile(files, 2, w, 0));
  EXPECT_EQ(FileVerdict::kAfterWindow, JudgeFile(files, 3, w, 0));
  // Slack keeps the neighbours.
  EXPECT_EQ(FileVerdict::kRead, JudgeFile(files, 3, w, 3600));
  // A file without times of its own ends where the next one starts; unknown bounds are read.
  files[1].first_time = files[1].last_time = 0;
  EXPECT_EQ(FileVerdict::kRead, JudgeFile(files, 0, w, 0));
  EXPECT_EQ(FileVerdict::kBeforeWindow, JudgeFile(files, 1, w, 0));
  files[2].first_time = 0;
  EXPECT_EQ(FileVerdict::kRead, JudgeFile(files, 1, w, 0));
}

TEST(ReportLogFiles, ProbeOfALargeFileReadsOnlyItsEnds) {
  TempDir dir;
  std::string text = Line("20 00:00:01");
  for (int i = 0; i < 5000; ++i) text += Line("20 12:00:00");
  text += Line("20 23:59:59");
  WritePlain(dir / "mainlog", text);
  LogFile f{dir / "mainlog", false, true, 0, 0};
  int calls = 0;
  auto time = EximTime();
  ProbeTimes(
      &f,
      [&](std::string_view line) {
        ++calls;
        return time(line);
      },
      4096);
  EXPECT_EQ(time("2026-11-20 00:00:01 x"), f.first_time);
  EXPECT_EQ(time("2026-11-20 23:59:59 x"), f.last_time);
  EXPECT_LT(calls, 200);
}

TEST(ReportLogFiles, ReadsPlainAndGzipLines) {
  TempDir dir;
  WritePlain(dir / "a", "one\r\ntwo\n\nlast without newline");
  WriteGzip(dir / "b.gz", "alpha\nbeta\n");
  std::vector<std::string> lines;
  auto collect = [&](std::string_view l) { lines.emplace_back(l); };
  auto r = ReadLogLines(LogFile{dir / "a", false, false, 0, 0}, collect);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(4u, r->lines);
  r = ReadLogLines(LogFile{dir / "b.gz", true, false, 0, 0}, collect);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ((std::vector<std::string>{"one", "two", "", "last without newline", "alpha", "beta"}),
            lines);
}

TEST(ReportLogFiles, CutsLongLines) {
  TempDir dir;
  WritePlain(dir / "a", std::string(100, 'x') + "\nshort\n");
  std::vector<std::string> lines;
  auto r = ReadLogLines(
      LogFile{dir / "a", false, false, 0, 0}, [&](std::string_view l) { lines.emplace_back(l); },
      10);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(1u, r->long_lines);
  EXPECT_EQ((std::vector<std::string>{std::string(10, 'x'), "short"}), lines);
}

TEST(ReportLogFiles, ErrorsAreValues) {
  TempDir dir;
  auto r = ReadLogLines(LogFile{dir / "missing", false, false, 0, 0}, [](std::string_view) {});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(std::string::npos, r.status().message().find("No such file"));
  // A damaged gzip file: the lines before the damage are handed on, then the error.
  std::string good;
  for (int i = 0; i < 2000; ++i) good += "line " + std::to_string(i) + "\n";
  WriteGzip(dir / "c.gz", good);
  auto size = fs::file_size(dir / "c.gz");
  fs::resize_file(dir / "c.gz", size / 2);
  std::uint64_t n = 0;
  r = ReadLogLines(LogFile{dir / "c.gz", true, false, 0, 0}, [&](std::string_view) { ++n; });
  EXPECT_FALSE(r.ok());
  EXPECT_GT(n, 0u);
  EXPECT_LT(n, 2000u);
}

}  // namespace
}  // namespace mailrelay::report
