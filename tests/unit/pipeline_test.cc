// The shared pipeline: LineProcessor (decoder -> classifier -> sink) and LogPipeline stepped
// by hand with a ManualClock (no threads, no sleeps): counting, a reject log followed for its
// self-metrics only, the decoders' reference time following the clock, idle-series expiry, the
// state file, readiness, log time stamps across DST transitions (Europe/Berlin,
// America/New_York; the exporter in the log's zone or in UTC with --exim.log-timezone).
#include "pipeline/log_pipeline.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <prometheus/registry.h>

#include "app/command_line.h"
#include "app/runtime.h"
#include "common/clock.h"
#include "dst_transitions.h"
#include "mta/exim/exim_module.h"
#include "mta/postfix/postfix_module.h"
#include "pipeline/line_processor.h"
#include "scoped_env.h"
#include "source/state_store.h"
#include "status_matchers.h"

namespace mailrelay {
namespace {

namespace fs = std::filesystem;

// Records what DispatchEvent hands on.
class RecordingSink : public EventSink {
 public:
  void OnArrival(const Event& ev, const Classification& c) override {
    calls.push_back("arrival " + std::string(RelayClassName(c.relay_class)) + " " +
                    std::string(ev.auth_id));
  }
  void OnDelivery(const Event&) override { calls.push_back("delivery"); }
  void OnCompleted(const Event&) override { calls.push_back("completed"); }
  void OnFrozen(const Event&) override { calls.push_back("frozen"); }
  void OnReject(const Event& ev) override {
    calls.push_back("reject " + std::string(RejectReasonName(ev.reject_reason)));
  }
  void OnAuthFailure(const Event&) override { calls.push_back("auth_failure"); }
  std::vector<std::string> calls;
};

RelayPolicy Policy() {
  RelayPolicy p;
  p.local_networks.Add("127.0.0.0/8");
  return p;
}

constexpr const char* kArrival =
    "2026-11-22 10:00:00 1xV63v-0004Eu-0K <= alice@x.test H=(c) [192.0.2.1]:1 P=esmtpa "
    "A=plain:alice@x.test S=10 for a@b.test b@b.test";
constexpr const char* kDelivery =
    "2026-11-22 10:00:01 1xV63v-0004Eu-0K => a@b.test R=dnslookup T=remote_smtp H=mx [192.0.2.9]";
constexpr const char* kCompleted = "2026-11-22 10:00:02 1xV63v-0004Eu-0K Completed";
constexpr const char* kReject =
    "2026-11-22 10:00:03 H=(x) [203.0.113.5]:4 F=<a@b> rejected RCPT <c@d>: relay not permitted";

TEST(LineProcessor, DispatchesEveryEventTypeOnce) {
  RelayClassifier classifier(Policy());
  RecordingSink sink;
  LineProcessor p(MakeEximModule()->MakeDecoder(LogSpec{}, {}), classifier, &sink);
  std::int64_t ts = 0;
  for (const char* line : {kArrival, kDelivery, kCompleted, kReject}) {
    EXPECT_EQ(ParseStatus::kOk, p.Process(line, &ts)) << line;
    EXPECT_NE(0, ts);
  }
  EXPECT_EQ(ParseStatus::kOk, p.Process("2026-11-22 10:00:04 Start queue run: pid=1", &ts));
  EXPECT_EQ(ParseStatus::kUnparsed, p.Process("garbage", &ts));
  EXPECT_EQ((std::vector<std::string>{"arrival authrelay alice@x.test", "delivery", "completed",
                                      "reject relay_denied"}),
            sink.calls);
}

TEST(LineProcessor, WithoutSinkDecodesButCountsNothing) {
  RelayClassifier classifier(Policy());
  LineProcessor p(MakeEximModule()->MakeDecoder(LogSpec{}, {}), classifier, nullptr);
  std::int64_t ts = 0;
  EXPECT_EQ(ParseStatus::kOk, p.Process(kArrival, &ts));
  EXPECT_NE(0, ts);
}

TEST(Decoders, SyslogYearFollowsTheReferenceTime) {
  // "Nov 22" without a year: the year that puts it at most 7 days after the reference.
  const std::string line =
      "Nov 22 10:00:00 mx postfix/qmgr[1]: 75CA8A74AB1: from=<a@b>, size=1, nrcpt=1 (queue active)";
  auto decoder = MakePostfixModule()->MakeDecoder(LogSpec{}, {});
  decoder->SetReferenceTime(1795000000);  // 2026-11-18
  std::int64_t in_2026 = decoder->LineTime(line);
  decoder->SetReferenceTime(1795000000 - 365 * 86400);
  std::int64_t in_2025 = decoder->LineTime(line);
  EXPECT_EQ(365 * 86400, in_2026 - in_2025);
  // LineTime does not disturb the decoding state: Decode sees the same time.
  std::int64_t ts = 0;
  decoder->Decode(line, &ts, [](const Event&) {});
  EXPECT_EQ(in_2025, ts);
}

TEST(Decoders, PostfixCorrelationSelfMetricsOnlyWithARegistry) {
  auto registry = std::make_shared<prometheus::Registry>();
  DecoderContext ctx;
  ctx.registry = registry.get();
  auto decoder = MakePostfixModule()->MakeDecoder(LogSpec{}, ctx);
  std::int64_t ts = 0;
  decoder->Decode(
      "Nov 22 11:47:04 mx postfix/smtpd[1]: 7E29AA74612: client=c[192.0.2.1], "
      "sasl_method=PLAIN, sasl_username=bob",
      &ts, [](const Event&) {});
  decoder->UpdateGauges();
  bool found = false;
  for (const auto& f : registry->Collect()) {
    if (f.name == "mailrelay_postfix_correlation_entries") {
      found = true;
      ASSERT_EQ(1u, f.metric.size());
      EXPECT_EQ(1, f.metric[0].gauge.value);
    }
  }
  EXPECT_TRUE(found);
  // The report's decoders have no registry and register nothing.
  auto plain = MakePostfixModule()->MakeDecoder(LogSpec{}, {});
  plain->UpdateGauges();
}

class LogPipelineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "pipeline_XXXXXX").string();
    dir_ = ::mkdtemp(tmpl.data());
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string Path(const std::string& name) const { return dir_ + "/" + name; }
  void Append(const std::string& name, const std::string& text) const {
    std::ofstream(Path(name), std::ios::app | std::ios::binary) << text;
  }
  static double Value(const prometheus::Registry& r, const std::string& family,
                      const std::string& label = "", const std::string& value = "") {
    for (const auto& f : r.Collect()) {
      if (f.name != family) continue;
      for (const auto& m : f.metric) {
        bool match = label.empty();
        for (const auto& l : m.label) match = match || (l.name == label && l.value == value);
        if (match)
          return f.type == prometheus::MetricType::Counter ? m.counter.value : m.gauge.value;
      }
    }
    return -1;  // missing: distinct from 0
  }

  std::string dir_;
  ManualClock clock_{1795000000};
  RelayClassifier classifier_{Policy()};
  std::shared_ptr<prometheus::Registry> registry_ = std::make_shared<prometheus::Registry>();
};

TEST_F(LogPipelineTest, StepsCountMainLogAndOnlySelfMetricsOfTheRejectLog) {
  BoundedLimits limits;
  limits.idle_timeout_seconds = 600;
  MailMetrics metrics(registry_, limits, BuildInfo{"v", "r"});
  LogPipeline pipeline(classifier_, metrics, clock_, {250, 600});
  auto exim = MakeEximModule();
  LogSpec main;
  main.name = "exim_mainlog";
  main.path = Path("mainlog");
  LogSpec reject;
  reject.name = "exim_rejectlog";
  reject.path = Path("rejectlog");
  reject.count_events = false;
  FileTailer::Options from_start;
  from_start.start_at_end = false;
  pipeline.AddLog(main, exim->MakeDecoder(main, {}), from_start);
  pipeline.AddLog(reject, exim->MakeDecoder(reject, {}), from_start);

  std::string why;
  EXPECT_FALSE(pipeline.Ready(&why));  // nothing opened before the first step
  Append("mainlog", std::string(kArrival) + "\n" + kReject + "\n");
  Append("rejectlog", std::string(kReject) + "\n");
  pipeline.Begin();
  EXPECT_FALSE(pipeline.Step());
  EXPECT_TRUE(pipeline.Ready(&why)) << why;

  EXPECT_EQ(1, Value(*registry_, "mailrelay_messages_received_total", "class", "authrelay"));
  EXPECT_EQ(1, Value(*registry_, "mailrelay_rejects_total", "reason", "relay_denied"));
  EXPECT_EQ(2, Value(*registry_, "mailrelay_log_lines_total", "log", "exim_mainlog"));
  EXPECT_EQ(1, Value(*registry_, "mailrelay_log_lines_total", "log", "exim_rejectlog"));
  EXPECT_EQ(1, Value(*registry_, "mailrelay_auth_user_messages_total", "user", "alice@x.test"));

  // Idle series expire on the clock: 600 s idle timeout, checked every 60 s.
  clock_.Advance(std::chrono::seconds(700));
  pipeline.Step();
  EXPECT_EQ(-1, Value(*registry_, "mailrelay_auth_user_messages_total", "user", "alice@x.test"));
  EXPECT_EQ(1, Value(*registry_, "mailrelay_messages_received_total", "class", "authrelay"));
  pipeline.Stop();
}

TEST_F(LogPipelineTest, MissingLogIsNotReadyWithTheReason) {
  MailMetrics metrics(registry_, BoundedLimits{}, BuildInfo{"v", "r"});
  LogPipeline pipeline(classifier_, metrics, clock_, {250, 7200});
  LogSpec main;
  main.name = "exim_mainlog";
  main.path = Path("nope/mainlog");
  pipeline.AddLog(main, MakeEximModule()->MakeDecoder(main, {}), FileTailer::Options{});
  pipeline.Begin();
  pipeline.Step();
  std::string why;
  EXPECT_FALSE(pipeline.Ready(&why));
  EXPECT_NE(std::string::npos, why.find("exim_mainlog: " + Path("nope/mainlog")));
  EXPECT_NE(std::string::npos, why.find("No such file or directory"));
  EXPECT_EQ(0, Value(*registry_, "mailrelay_log_file_open", "log", "exim_mainlog"));
  pipeline.Stop();
}

TEST_F(LogPipelineTest, StateIsSavedOnTheClockAndAtStop) {
  MailMetrics metrics(registry_, BoundedLimits{}, BuildInfo{"v", "r"});
  LogPipeline pipeline(classifier_, metrics, clock_, {250, 7200});
  LogSpec main;
  main.name = "exim_mainlog";
  main.path = Path("mainlog");
  pipeline.AddLog(main, MakeEximModule()->MakeDecoder(main, {}), FileTailer::Options{});
  pipeline.EnableState(Path("state"), 5000);
  Append("mainlog", std::string(kArrival) + "\n");
  pipeline.Begin();  // start_at_end: the existing line is skipped
  pipeline.Step();
  EXPECT_EQ(0, metrics.state_saves().Value());  // not due yet
  Append("mainlog", std::string(kDelivery) + "\n");
  clock_.Advance(std::chrono::seconds(5));
  pipeline.Step();
  EXPECT_EQ(1, metrics.state_saves().Value());
  EXPECT_EQ(1, Value(*registry_, "mailrelay_deliveries_total", "result", "delivered"));
  EXPECT_EQ(0, Value(*registry_, "mailrelay_messages_received_total", "class", "authrelay"));
  Append("mainlog", std::string(kCompleted) + "\n");
  pipeline.Step();
  pipeline.Stop();  // saves the position after the last line read
  EXPECT_EQ(2, metrics.state_saves().Value());
  StateStore saved(Path("state"));
  ASSERT_TRUE(IsOk(saved.Load()));
  ASSERT_NE(nullptr, saved.Find(Path("mainlog")));
  EXPECT_EQ(fs::file_size(Path("mainlog")), saved.Find(Path("mainlog"))->offset);
}

struct Transition {
  const char* zone;
  std::int64_t at;
};
constexpr Transition kTransitions[] = {{"Europe/Berlin", kBerlinFall},
                                       {"Europe/Berlin", kBerlinSpring},
                                       {"America/New_York", kNewYorkFall},
                                       {"America/New_York", kNewYorkSpring}};

// MailExporterLogStale (alerts/mailrelay.rules.yml) fires on
// time() - mailrelay_log_last_line_timestamp_seconds > mailrelay:threshold:log_stale_seconds,
// 1800 by default.
constexpr std::int64_t kLogStaleSeconds = 1800;

// One line every 7 minutes from 2 h before to 2 h after a transition, stamped as the MTA writes
// it, in the transition's zone.
std::vector<std::pair<std::int64_t, std::string>> LinesAround(const Transition& tr,
                                                              StampFormat format,
                                                              const char* text) {
  ScopedEnv tz("TZ", tr.zone);
  std::vector<std::pair<std::int64_t, std::string>> lines;
  for (std::int64_t t = tr.at - 7200; t <= tr.at + 7200; t += 7 * 60 + 3) {
    lines.emplace_back(t, LocalStamp(t, format) + text + "\n");
  }
  return lines;
}

class LogTimesAcrossDst : public LogPipelineTest {
 protected:
  // Follows the log named by `flags` as the exporter does (command line, module, pipeline),
  // appends the lines one by one with the clock at their instant, and checks the gauge after
  // each step: it is the line's own instant, so it never steps back at a fall-back nor leaps
  // at a spring-forward, and MailExporterLogStale's condition stays false.
  void Follow(std::vector<const char*> flags, const std::string& log_file,
              const std::vector<std::pair<std::int64_t, std::string>>& lines) {
    flags.insert(flags.begin(), "mailrelay_exporter");
    CommandLine command_line;
    ASSERT_TRUE(
        IsOk(command_line.Parse(static_cast<int>(flags.size()), flags.data(), kExporterScope)));
    clock_.SetUnixSeconds(lines.front().first);
    auto logs =
        command_line.mta()->Logs(MakeMtaContext(command_line.options, RunMode::kLive, clock_));
    ASSERT_TRUE(IsOk(logs));
    MailMetrics metrics(registry_, BoundedLimits{}, BuildInfo{"v", "r"});
    LogPipeline pipeline(classifier_, metrics, clock_, {250, 7200});
    DecoderContext decoder_context;
    decoder_context.reference_time = clock_.UnixSeconds();
    for (const LogSpec& log : *logs) {
      pipeline.AddLog(log, command_line.mta()->MakeDecoder(log, decoder_context),
                      FileTailer::Options{});
    }
    const std::string family = "mailrelay_log_last_line_timestamp_seconds";
    const std::string label = (*logs)[0].name;
    Append(log_file, "");
    pipeline.Begin();
    pipeline.Step();
    double previous = 0;
    for (const auto& [t, line] : lines) {
      clock_.SetUnixSeconds(t);
      Append(log_file, line);
      pipeline.Step();
      double gauge = Value(*registry_, family, "log", label);
      ASSERT_EQ(static_cast<double>(t), gauge) << line;
      ASSERT_GE(gauge, previous) << line;
      ASSERT_LE(static_cast<double>(clock_.UnixSeconds()) - gauge, kLogStaleSeconds) << line;
      previous = gauge;
    }
    pipeline.Stop();
  }
};

TEST_F(LogTimesAcrossDst, EximInTheExportersZone) {
  for (const auto& tr : kTransitions) {
    SCOPED_TRACE(std::string(tr.zone) + " " + std::to_string(tr.at));
    auto lines = LinesAround(tr, StampFormat::kExim, " 1xV63v-0004Eu-0K Completed");
    ScopedEnv tz("TZ", tr.zone);
    std::string log = "mainlog-" + std::to_string(tr.at);
    std::string flag = "--exim.mainlog=" + Path(log);
    Follow({flag.c_str(), "--exim.rejectlog=none"}, log, lines);
  }
}

TEST_F(LogTimesAcrossDst, EximInAContainerInUtcWithTheLogTimezoneFlag) {
  for (const auto& tr : kTransitions) {
    SCOPED_TRACE(std::string(tr.zone) + " " + std::to_string(tr.at));
    auto lines = LinesAround(tr, StampFormat::kExim, " 1xV63v-0004Eu-0K Completed");
    ScopedEnv tz("TZ", "UTC");
    std::string log = "mainlog-utc-" + std::to_string(tr.at);
    std::string flag = "--exim.mainlog=" + Path(log);
    std::string zone = std::string("--exim.log-timezone=") + tr.zone;
    Follow({flag.c_str(), "--exim.rejectlog=none", zone.c_str()}, log, lines);
  }
}

TEST_F(LogTimesAcrossDst, PostfixBsdSyslogStamps) {
  for (const auto& tr : kTransitions) {
    SCOPED_TRACE(std::string(tr.zone) + " " + std::to_string(tr.at));
    auto lines =
        LinesAround(tr, StampFormat::kBsdSyslog, " mx postfix/qmgr[1]: 75CA8A74AB1: removed");
    ScopedEnv tz("TZ", tr.zone);
    std::string log = "mail.log-" + std::to_string(tr.at);
    std::string flag = "--postfix.log=" + Path(log);
    Follow({flag.c_str()}, log, lines);
  }
}

}  // namespace
}  // namespace mailrelay
