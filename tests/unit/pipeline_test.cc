// The shared pipeline: LineProcessor (decoder -> classifier -> sink) and LogPipeline stepped
// by hand with a ManualClock (no threads, no sleeps): counting, a reject log followed for its
// self-metrics only, the decoders' reference time following the clock, idle-series expiry, the
// state file, readiness.
#include "pipeline/log_pipeline.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <prometheus/registry.h>

#include "common/clock.h"
#include "mta/exim/exim_module.h"
#include "mta/postfix/postfix_module.h"
#include "pipeline/line_processor.h"
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

}  // namespace
}  // namespace mailrelay
