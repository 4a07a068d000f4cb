// --rules.file through the shared path: LineProcessor maps rejection texts before the sink and
// offers every line to the rules; the exporter (--oneshot) exposes the rule families and the
// mapped reasons; the report prints a table per counter rule; a bad file stops both with the
// rule's position; SIGHUP keeps the old rules when the new file is bad.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <prometheus/registry.h>

#include "app/exporter_command.h"
#include "app/reload.h"
#include "common/clock.h"
#include "mta/exim/exim_module.h"
#include "pipeline/line_processor.h"
#include "report/report_command.h"
#include "rules/rule_counters.h"
#include "rules/rule_set.h"

namespace mailrelay {
namespace {

namespace fs = std::filesystem;

constexpr const char* kRules = R"(reject_reasons:
  - name: local_blocklist
    mta: exim
    pattern: 'Mail from \S+ is not welcome here'
    reason: rbl
counters:
  - name: php_script_dirs
    help: "Local submissions by account."
    mta: exim
    prefilter: " cwd=/home/"
    pattern: ' cwd=/home/(?P<user>[^/ ]+)/'
)";

constexpr const char* kLog =
    "2026-11-22 10:00:00 H=(x) [203.0.113.5]:4 F=<a@b> rejected RCPT <c@d>: Mail from a@b is "
    "not welcome here\n"
    "2026-11-22 10:00:01 cwd=/home/alice/public_html 3 args: /usr/sbin/sendmail -t -i\n"
    "2026-11-22 10:00:01 1xV63z-0004Fq-1m <= w@x.test U=alice P=local S=356 for e@x.test\n"
    "2026-11-22 10:00:02 cwd=/home/alice/public_html/wp 3 args: /usr/sbin/sendmail -t -i\n"
    "2026-11-22 10:00:03 cwd=/home/bob/public_html 3 args: /usr/sbin/sendmail -t -i\n";

class RulesWiringTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "rules_wiring_XXXXXX").string();
    dir_ = ::mkdtemp(tmpl.data());
    Write("rules.yml", kRules);
    Write("mainlog", kLog);
  }
  void TearDown() override { fs::remove_all(dir_); }
  void Write(const std::string& name, const std::string& text) {
    std::ofstream(dir_ + "/" + name, std::ios::binary) << text;
  }
  std::string Path(const std::string& name) const { return dir_ + "/" + name; }
  int Run(std::vector<std::string> args, std::string* out, std::string* err) {
    std::vector<const char*> argv;
    for (const auto& a : args) argv.push_back(a.c_str());
    std::ostringstream o, e;
    ManualClock clock(1795000000);
    int rc =
        args.size() > 1 && args[1] == "report"
            ? report::RunReport(static_cast<int>(argv.size()) - 1, argv.data() + 1, o, e, clock)
            : RunExporter(static_cast<int>(argv.size()), argv.data(), o, e, clock);
    *out = o.str();
    *err = e.str();
    return rc;
  }

  std::string dir_;
};

class Recorder : public EventSink {
 public:
  void OnArrival(const Event&, const Classification&) override {}
  void OnDelivery(const Event&) override {}
  void OnCompleted(const Event&) override {}
  void OnFrozen(const Event&) override {}
  void OnReject(const Event& ev) override {
    reasons.emplace_back(RejectReasonName(ev.reject_reason));
  }
  void OnAuthFailure(const Event&) override {}
  std::vector<std::string> reasons;
};

class FakeRules : public LineRules {
 public:
  std::optional<RejectReason> MapReject(std::string_view text) override {
    if (text.find("not welcome") != std::string_view::npos) return RejectReason::kRbl;
    return std::nullopt;
  }
  void OnLine(std::string_view line, std::int64_t timestamp) override {
    lines.emplace_back(line);
    times.push_back(timestamp);
  }
  std::vector<std::string> lines;
  std::vector<std::int64_t> times;
};

TEST_F(RulesWiringTest, ProcessorMapsRejectsAndOffersEveryLine) {
  RelayClassifier classifier{RelayPolicy{}};
  Recorder sink;
  FakeRules rules;
  LineProcessor p(MakeEximModule()->MakeDecoder(LogSpec{}, {}), classifier, &sink, &rules);
  std::int64_t ts = 0;
  std::istringstream in(kLog);
  std::string line;
  while (std::getline(in, line)) p.Process(line, &ts);
  p.Process("2026-11-22 10:00:04 H=[192.0.2.1] rejected RCPT <x@y>: relay not permitted", &ts);
  EXPECT_EQ((std::vector<std::string>{"rbl", "relay_denied"}), sink.reasons);
  EXPECT_EQ(6u, rules.lines.size());
  EXPECT_NE(0, rules.times.front());
}

TEST_F(RulesWiringTest, OneshotExposesRuleFamiliesAndMappedReasons) {
  std::string out, err;
  ASSERT_EQ(0, Run({"mailrelay_exporter", "--oneshot", "--exim.mainlog=" + Path("mainlog"),
                    "--exim.rejectlog=none", "--no-relay.include-interface-addresses",
                    "--rules.file=" + Path("rules.yml")},
                   &out, &err))
      << err;
  EXPECT_NE(std::string::npos, out.find("mailrelay_rejects_total{reason=\"rbl\"} 1\n")) << out;
  EXPECT_NE(std::string::npos, out.find("mailrelay_rejects_total{reason=\"other\"} 0\n"));
  EXPECT_NE(std::string::npos, out.find("mailrelay_rule_php_script_dirs_total{user=\"alice\"} 2\n"))
      << out;
  EXPECT_NE(std::string::npos, out.find("mailrelay_rule_php_script_dirs_total{user=\"bob\"} 1\n"));
  EXPECT_NE(std::string::npos, out.find("mailrelay_rules_loaded{kind=\"counter\"} 1\n"));
  EXPECT_NE(std::string::npos,
            out.find("mailrelay_rules_matches_total{rule=\"local_blocklist\"} 1\n"));

  // Without the file: the built-in reason, no rule families.
  ASSERT_EQ(0, Run({"mailrelay_exporter", "--oneshot", "--exim.mainlog=" + Path("mainlog"),
                    "--exim.rejectlog=none", "--no-relay.include-interface-addresses"},
                   &out, &err));
  EXPECT_NE(std::string::npos, out.find("mailrelay_rejects_total{reason=\"other\"} 1\n"));
  EXPECT_EQ(std::string::npos, out.find("mailrelay_rule"));
}

TEST_F(RulesWiringTest, BadRulesStopStartupWithThePosition) {
  Write("bad.yml", "counters:\n  - name: x\n    pattern: '(?P<user>[^/ ]+'\n");
  std::string out, err;
  EXPECT_EQ(2, Run({"mailrelay_exporter", "--oneshot", "--exim.mainlog=" + Path("mainlog"),
                    "--rules.file=" + Path("bad.yml")},
                   &out, &err));
  EXPECT_NE(std::string::npos, err.find("bad.yml:3:")) << err;
  EXPECT_NE(std::string::npos, err.find("missing )")) << err;
  EXPECT_EQ(2, Run({"mailrelay_exporter", "report", "--exim.mainlog=" + Path("mainlog"),
                    "--rules.file=" + Path("bad.yml")},
                   &out, &err));
  EXPECT_NE(std::string::npos, err.find("bad.yml:3:")) << err;
}

TEST_F(RulesWiringTest, ReportTalliesCounterRulesOverTheWindow) {
  std::string out, err;
  ASSERT_EQ(0, Run({"mailrelay_exporter", "report", "--exim.mainlog=" + Path("mainlog"),
                    "--no-queue", "--since=2026-11-22 10:00:01", "--until=2026-11-22 10:00:03",
                    "--rules.file=" + Path("rules.yml")},
                   &out, &err))
      << err;
  // Lines at 10:00:01 and 10:00:02 are in the window, 10:00:03 (bob) is not.
  EXPECT_NE(std::string::npos, out.find("Rule php_script_dirs (2 lines, 1 label set)")) << out;
  EXPECT_NE(std::string::npos, out.find("  alice      2\n")) << out;
  EXPECT_EQ(std::string::npos, out.find("bob")) << out;
  ASSERT_EQ(0, Run({"mailrelay_exporter", "report", "--exim.mainlog=" + Path("mainlog"),
                    "--no-queue", "--since=2026-11-22 10:00:00", "--until=2026-11-22 10:00:05",
                    "--format=json", "--rules.file=" + Path("rules.yml")},
                   &out, &err))
      << err;
  EXPECT_NE(std::string::npos, out.find("\"rule\": \"php_script_dirs\"")) << out;
  EXPECT_NE(std::string::npos, out.find("\"rbl\": {\n")) << out;
}

TEST_F(RulesWiringTest, ReloadKeepsTheOldRulesWhenTheNewAreBad) {
  auto registry = std::make_shared<prometheus::Registry>();
  auto& overflow = prometheus::BuildCounter()
                       .Name("mailrelay_label_overflow_total")
                       .Help("h")
                       .Register(*registry);
  RuleCounters counters(*registry, overflow);
  auto rules = LoadRules(Path("rules.yml"), RulesOptions{});
  ASSERT_TRUE(rules.ok()) << rules.status().message();
  ASSERT_TRUE(counters.SetRules(*rules).ok());
  ManualClock clock;
  ConfigReloader reloader(*registry, clock);
  reloader.AttachRules(Path("rules.yml"), RulesOptions{}, &counters);
  Write("rules.yml", "counters:\n  - name: broken\n    pattern: '('\n");
  EXPECT_FALSE(reloader.Reload());
  counters.Flush();
  EXPECT_EQ(*rules, counters.rules());  // the old rules stay
  Write("rules.yml", "counters:\n  - name: other\n    pattern: 'x(?P<y>\\d)'\n");
  EXPECT_TRUE(reloader.Reload());
  counters.Flush();  // the pipeline's next turn installs them
  ASSERT_EQ(1u, counters.rules()->counter_rules().size());
  EXPECT_EQ("other", counters.rules()->counter_rules()[0].name);
}

}  // namespace
}  // namespace mailrelay
