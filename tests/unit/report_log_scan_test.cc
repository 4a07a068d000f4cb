#include "report/log_scan.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <zlib.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "mta/exim/exim_module.h"
#include "mta/exim/log_parser.h"
#include "mta/postfix/postfix_module.h"
#include "report/aggregator.h"

namespace mailrelay::report {
namespace {

namespace fs = std::filesystem;

class ScanTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "report_scan_XXXXXX").string();
    dir_ = ::mkdtemp(tmpl.data());
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string Path(const std::string& name) const { return dir_ + "/" + name; }
  void Plain(const std::string& name, const std::string& text) const {
    std::ofstream(Path(name), std::ios::binary) << text;
  }
  void Gzip(const std::string& name, const std::string& text) const {
    gzFile gz = gzopen(Path(name).c_str(), "wb");
    gzwrite(gz, text.data(), static_cast<unsigned>(text.size()));
    gzclose(gz);
  }
  static std::int64_t T(const std::string& when) {
    EximLogParser p;
    Event ev;
    p.Parse(when + " Start queue run: pid=1", &ev);
    return ev.timestamp;
  }
  RelayClassifier Classifier() const {
    RelayPolicy p;
    p.local_networks.Add("127.0.0.0/8");
    return RelayClassifier(std::move(p));
  }

  // The report's path: the module's decoder (reference time: the window's end), the
  // classifier, a window filter, the aggregator.
  ScanResult Scan(const MtaModule& mta, const std::string& path, const ScanOptions& o,
                  ReportAggregator& agg, const std::vector<LogFile>* files = nullptr) {
    WindowFilter in_window(o.window, agg);
    DecoderContext ctx;
    ctx.reference_time = o.window.until;
    LineProcessor processor(mta.MakeDecoder(LogSpec{}, ctx), classifier_, &in_window);
    return files ? ScanLogFiles(*files, o, processor) : ScanLog(path, o, processor);
  }

  std::string dir_;
  RelayClassifier classifier_ = Classifier();
};

std::string Arrival(const std::string& when, const std::string& user) {
  return when + " 1xV63v-0004Eu-0K <= " + user +
         "@x.test H=(c) [192.0.2.1]:1 P=esmtpa A=plain:" + user +
         "@x.test S=1 for a@b.test b@b.test\n";
}

TEST_F(ScanTest, EximWindowAcrossRotatedFiles) {
  Gzip("mainlog.2.gz", Arrival("2026-11-20 10:00:00", "old"));
  Plain("mainlog.1", Arrival("2026-11-21 09:59:59", "early") +
                         Arrival("2026-11-21 10:00:00", "alice") +
                         Arrival("2026-11-21 23:00:00", "alice"));
  Plain("mainlog", Arrival("2026-11-22 00:00:00", "bob") + Arrival("2026-11-22 01:00:00", "late"));
  ScanOptions o;
  o.window = {T("2026-11-21 10:00:00"), T("2026-11-22 01:00:00")};
  o.skip_slack_seconds = 0;
  ReportAggregator agg;
  ScanResult r = Scan(*MakeEximModule(), Path("mainlog"), o, agg);
  ASSERT_EQ(3u, r.logs.size());
  EXPECT_EQ("before_window", r.logs[0].status);
  EXPECT_EQ("read", r.logs[1].status);
  EXPECT_EQ("read", r.logs[2].status);
  EXPECT_EQ(5u, r.lines_read);
  EXPECT_EQ(3u, r.lines_in_window);
  ReportData d;
  agg.Finish(10, &d);
  EXPECT_EQ(3u, d.classes[static_cast<std::size_t>(RelayClass::kAuthRelay)].messages);
  EXPECT_EQ(6u, d.classes[static_cast<std::size_t>(RelayClass::kAuthRelay)].recipients);
  ASSERT_EQ(2u, d.auth_users.size());
  EXPECT_EQ("alice@x.test", d.auth_users[0].user);
  EXPECT_EQ(2u, d.auth_users[0].messages);
  EXPECT_EQ("bob@x.test", d.auth_users[1].user);
}

TEST_F(ScanTest, PostfixCorrelatesAcrossTheWindowStart) {
  // smtpd's client= line just before the window, qmgr's line inside it: the message arrives
  // (is counted) at the qmgr line. The syslog lines carry no year: --until gives it.
  Plain("mail.log.1",
        "Nov 22 11:59:59 mx postfix/smtpd[1]: 4AB12A745C1: client=c.example[192.0.2.5], "
        "sasl_method=PLAIN, sasl_username=alice@mx.test\n");
  Plain("mail.log",
        "Nov 22 12:00:01 mx postfix/qmgr[2]: 4AB12A745C1: from=<alice@mx.test>, size=900, "
        "nrcpt=3 (queue active)\n"
        "Nov 22 12:00:02 mx postfix/smtpd[3]: warning: unknown[198.51.100.7]: SASL LOGIN "
        "authentication failed: authentication failure\n");
  ScanOptions o;
  o.window = {T("2026-11-22 12:00:00"), T("2026-11-22 13:00:00")};
  ReportAggregator agg;
  ScanResult r = Scan(*MakePostfixModule(), Path("mail.log"), o, agg);
  ASSERT_EQ(2u, r.logs.size());
  EXPECT_EQ("read", r.logs[0].status);  // within the slack: read for correlation
  EXPECT_EQ(2u, r.lines_in_window);
  ReportData d;
  agg.Finish(10, &d);
  ASSERT_EQ(1u, d.auth_users.size());
  EXPECT_EQ("alice@mx.test", d.auth_users[0].user);
  EXPECT_EQ(3u, d.auth_users[0].recipients);
  EXPECT_EQ(1u, d.auth_failures_total);
}

TEST_F(ScanTest, UnreadableFileIsReported) {
  Plain("mainlog", Arrival("2026-11-22 00:00:00", "bob"));
  LogFile missing{Path("gone.1"), false, false, 0, 0};
  LogFile live{Path("mainlog"), false, true, 0, 0};
  ScanOptions o;
  o.window = {T("2026-11-21 00:00:00"), T("2026-11-23 00:00:00")};
  ReportAggregator agg;
  std::vector<LogFile> files = {missing, live};
  ScanResult r = Scan(*MakeEximModule(), "", o, agg, &files);
  EXPECT_EQ(1u, r.files_read);
  EXPECT_EQ(1u, r.files_failed);
  EXPECT_EQ("error", r.logs[0].status);
  EXPECT_FALSE(r.logs[0].error.empty());
}

}  // namespace
}  // namespace mailrelay::report
