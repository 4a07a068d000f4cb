// The Responder (respond/responder.h) with a stand-in MTA module: its commands are recorded by
// the test's runner, which freezes and thaws the in-memory queue as the MTA would. What runs
// for real against Exim and Postfix is tested end to end (tests/e2e/respond_*_e2e.sh); here:
// dry-run changes nothing, hold and release in order, repeats are unchanged, every refusal is
// audited, the hourly cap and its window, the followers of the list run only on a change.
#include "respond/responder.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "common/json.h"
#include "respond/webhook_receiver.h"
#include "status_matchers.h"

namespace mailrelay::respond {
namespace {

struct FakeMessage {
  std::string owner;
  bool frozen = false;
};

class FakeQueue : public QueueSource {
 public:
  std::vector<std::string> QueueNames() const override { return {"input"}; }
  QueueScan Scan() override {
    ++scans;
    QueueScan scan;
    scan.ok = ok;
    if (!ok) return scan;
    for (const auto& [id, m] : messages) {
      auto q = std::make_shared<QueueMessage>();
      q->id = id;
      q->owner_label = m.owner;
      q->frozen = m.frozen;
      scan.messages.push_back(std::move(q));
    }
    return scan;
  }
  std::map<std::string, FakeMessage> messages;
  bool ok = true;
  int scans = 0;
};

class TestModule : public MtaModule {
 public:
  std::string_view name() const override { return "test"; }
  void RegisterFlags(FlagSet&) override {}
  Presence Detect(const FlagSet&, const RootFs&) const override { return Presence::kAbsent; }
  std::string DetectTargets() const override { return "nothing"; }
  StatusOr<std::vector<LogSpec>> Logs(const MtaContext&) const override {
    return std::vector<LogSpec>{};
  }
  std::unique_ptr<LineDecoder> MakeDecoder(const LogSpec&, const DecoderContext&) const override {
    return nullptr;
  }
  StatusOr<QueueReader> MakeQueueReader(const MtaContext&) const override { return QueueReader{}; }
  ActionPlan SuggestActions(const ActionRequest&) const override { return {}; }
  std::vector<std::string> ServiceAccounts() const override { return {"mtauser"}; }
  bool IsHeld(const QueueMessage& m) const override { return m.frozen; }
  StatusOr<std::vector<Argv>> QueueHoldCommands(const std::vector<std::string>& ids,
                                                bool hold) const override {
    Argv argv = {hold ? "/test/freeze" : "/test/thaw"};
    argv.insert(argv.end(), ids.begin(), ids.end());
    return std::vector<Argv>{argv};
  }
  StatusOr<HoldListFollowers> FollowHoldList(
      const std::string& path, const std::vector<std::string>& accounts) const override {
    HoldListFollowers f;
    f.after_list_change.push_back({"/test/postmap", path});
    HoldMap map;
    map.path = path + ".uids";
    for (const auto& a : accounts) map.content += a + "\n";
    map.after_change.push_back({"/test/reload"});
    f.maps.push_back(std::move(map));
    return f;
  }
  std::vector<Argv> AccountHoldCommands(const std::string& account, bool hold) const override {
    if (account != "cpuser") return {};
    return {{"/test/whmapi1", hold ? "hold_outgoing_email" : "release_outgoing_email",
             "user=" + account}};
  }
};

class RespondResponder : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/respond_responder_test.XXXXXX";
    ASSERT_NE(nullptr, mkdtemp(tmpl));
    dir_ = tmpl;
    queue_.messages = {{"m1", {"bob@example.com"}},
                       {"m2", {"BOB@example.com"}},  // owners compare case-insensitively
                       {"m3", {"alice@example.com"}},
                       {"m4", {"bob@example.com", true}},  // frozen already
                       {"m5", {"carol"}}};
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::unique_ptr<Responder> Make(bool dry_run, std::size_t cap = 10) {
    ResponderOptions o;
    o.dry_run = dry_run;
    o.policy.alerts = {"MailRelayAuthrelayHigh"};
    o.policy.never = {"root", "mtauser", "vip"};
    o.max_actions_per_hour = cap;
    o.hold_list = dir_ + "/hold-list";
    audit_ = std::make_unique<AuditLog>(dir_ + "/audit.jsonl");
    EXPECT_TRUE(IsOk(audit_->Open()));
    metrics_ = std::make_unique<RespondMetrics>(nullptr);
    return std::make_unique<Responder>(o, module_, queue_, *audit_, metrics_.get(), clock_,
                                       [this](const Argv& argv, const CommandOptions&) {
                                         ran_.push_back(argv);
                                         CommandResult r;
                                         r.status = fail_ ? CommandResult::Status::kExitStatus
                                                          : CommandResult::Status::kOk;
                                         r.exit_code = fail_ ? 1 : 0;
                                         if (fail_) return r;
                                         for (std::size_t i = 1; i < argv.size(); ++i) {
                                           auto it = queue_.messages.find(argv[i]);
                                           if (it == queue_.messages.end()) continue;
                                           if (argv[0] == "/test/freeze") it->second.frozen = true;
                                           if (argv[0] == "/test/thaw") it->second.frozen = false;
                                         }
                                         return r;
                                       });
  }

  WebhookPayload Payload(std::map<std::string, std::string> labels, std::string status = "firing") {
    WebhookPayload p;
    p.version = "4";
    p.status = status;
    WebhookAlert a;
    a.status = status;
    a.starts_at = "2026-11-23T09:59:00.123456789Z";
    a.labels = {{"alertname", "MailRelayAuthrelayHigh"},
                {"severity", "critical"},
                {"instance", "mx1:9225"},
                {"user", "bob@example.com"}};
    for (auto& [k, v] : labels) {
      if (k == "startsAt") {
        a.starts_at = v;
      } else {
        a.labels[k] = v;
      }
    }
    p.alerts.push_back(a);
    return p;
  }

  // The audit records, parsed.
  std::vector<JsonValue> Audit() {
    std::ifstream in(dir_ + "/audit.jsonl");
    std::vector<JsonValue> out;
    std::string line;
    while (std::getline(in, line)) {
      JsonValue v;
      EXPECT_TRUE(IsOk(ParseJson(line, &v))) << line;
      out.push_back(std::move(v));
    }
    return out;
  }
  static std::string Field(const JsonValue& v, const char* name) {
    const JsonValue* m = v.Member(name);
    if (m == nullptr) return "<none>";
    if (m->type == JsonValue::Type::kNumber) return std::to_string(m->integer);
    return m->string;
  }
  std::string HoldListText() {
    std::ifstream in(dir_ + "/hold-list");
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
  }
  bool Frozen(const std::string& id) { return queue_.messages.at(id).frozen; }
  std::string Metrics() {
    std::string out;
    for (const auto& f : metrics_->Collect()) {
      for (const auto& m : f.metric) {
        out += f.name;
        for (const auto& l : m.label) out += " " + l.name + "=" + l.value;
        double v = f.type == prometheus::MetricType::Counter ? m.counter.value : m.gauge.value;
        out += " " + std::to_string(static_cast<long long>(v)) + "\n";
      }
    }
    return out;
  }

  std::string dir_;
  FakeQueue queue_;
  TestModule module_;
  ManualClock clock_{1795428000};
  std::unique_ptr<AuditLog> audit_;
  std::unique_ptr<RespondMetrics> metrics_;
  std::vector<Argv> ran_;
  bool fail_ = false;
};

TEST_F(RespondResponder, DryRunChangesNothingAndAuditsTheWouldBeCommands) {
  auto r = Make(/*dry_run=*/true);
  r->Handle(Payload({}), 1, clock_.UnixSeconds());
  EXPECT_TRUE(ran_.empty());
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/hold-list"));
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/hold-list.uids"));
  EXPECT_FALSE(Frozen("m1"));
  EXPECT_FALSE(Frozen("m2"));
  std::vector<JsonValue> audit = Audit();
  ASSERT_EQ(1u, audit.size());
  const JsonValue& hold = audit[0];
  EXPECT_EQ("hold", Field(hold, "event"));
  EXPECT_EQ("dry-run", Field(hold, "mode"));
  EXPECT_EQ("dry_run", Field(hold, "result"));
  EXPECT_EQ("would add", Field(hold, "hold_list"));
  EXPECT_EQ("3", Field(hold, "queued"));
  EXPECT_EQ("1", Field(hold, "held_before"));
  EXPECT_EQ("2", Field(hold, "to_hold"));
  const auto& steps = hold.Member("steps")->array;
  std::vector<std::string> shown;
  for (const auto& s : steps) {
    std::string what;
    if (const JsonValue* argv = s.Member("argv")) {
      for (const auto& a : argv->array) what += (what.empty() ? "" : " ") + a.string;
    } else {
      what = "file " + s.Member("file")->string;
    }
    shown.push_back(what + ": " + s.Member("status")->string);
  }
  const std::vector<std::string> want = {
      "/test/postmap " + dir_ + "/hold-list: not run (dry-run)",
      "file " + dir_ + "/hold-list.uids: would write",
      "/test/reload: not run (dry-run)",
      "/test/freeze m1 m2: not run (dry-run)",
  };
  EXPECT_EQ(want, shown);
  // A repeat notification: unchanged, and the cap is not used twice.
  r->Handle(Payload({}), 2, clock_.UnixSeconds());
  audit = Audit();
  ASSERT_EQ(2u, audit.size());
  EXPECT_EQ("present", Field(audit[1], "hold_list"));
  EXPECT_EQ("dry_run", Field(audit[1], "result"));  // m1, m2 would still be frozen
  EXPECT_TRUE(ran_.empty());
  EXPECT_NE(std::string::npos, Metrics().find("mailrelay_respond_actions_total action=hold "
                                              "result=dry_run 2\n"));
}

TEST_F(RespondResponder, DryRunSeesTheRealList) {
  std::ofstream(dir_ + "/hold-list") << "bob@example.com HOLD by hand\n";
  auto r = Make(/*dry_run=*/true);
  r->Handle(Payload({}), 1, clock_.UnixSeconds());
  EXPECT_TRUE(ran_.empty());
  EXPECT_EQ("present", Field(Audit().back(), "hold_list"));  // not "would add"
  EXPECT_EQ("bob@example.com HOLD by hand\n", HoldListText());
}

TEST_F(RespondResponder, HoldThenRepeatThenRelease) {
  auto r = Make(/*dry_run=*/false);
  ActionReport rep = r->Hold("bob@example.com", Payload({}).alerts[0], 7, clock_.UnixSeconds());
  EXPECT_EQ("done", rep.result) << rep.error << rep.record;
  EXPECT_EQ(0u, rep.remaining);
  EXPECT_TRUE(Frozen("m1"));
  EXPECT_TRUE(Frozen("m2"));
  EXPECT_FALSE(Frozen("m3"));  // alice's
  EXPECT_FALSE(Frozen("m5"));
  const std::vector<Argv> want = {
      {"/test/postmap", dir_ + "/hold-list"}, {"/test/reload"}, {"/test/freeze", "m1", "m2"}};
  EXPECT_EQ(want, ran_);
  EXPECT_NE(std::string::npos,
            HoldListText().find("\nbob@example.com HOLD held by mailrelay_exporter respond "
                                "since=2026-11-23T10:00:00Z alert=MailRelayAuthrelayHigh "
                                "by=webhook\n"));
  std::ifstream uids(dir_ + "/hold-list.uids");
  std::string uid_line;
  std::getline(uids, uid_line);
  EXPECT_EQ("bob@example.com", uid_line);
  // Repeats: nothing to do.
  ran_.clear();
  r->Handle(Payload({}), 8, clock_.UnixSeconds());
  EXPECT_TRUE(ran_.empty());
  // New mail of bob that escaped (e.g. queued before the snippet was installed) is held at
  // the next repeat; the list and its followers are left alone.
  queue_.messages["m6"] = {"bob@example.com"};
  r->Handle(Payload({}), 9, clock_.UnixSeconds());
  EXPECT_EQ((std::vector<Argv>{{"/test/freeze", "m6"}}), ran_);
  std::vector<JsonValue> audit = Audit();
  ASSERT_EQ(3u, audit.size());
  EXPECT_EQ("unchanged", Field(audit[1], "result"));
  EXPECT_EQ("done", Field(audit[2], "result"));
  EXPECT_EQ("present", Field(audit[2], "hold_list"));
  EXPECT_EQ("7", Field(audit[0], "notification"));

  // Release: entry out of the list, followers, thaw of every held message of bob.
  ran_.clear();
  ActionReport rel = r->Release("BOB@example.com", "alice");
  EXPECT_EQ("done", rel.result) << rel.error << rel.record;
  EXPECT_EQ(std::string::npos, HoldListText().find("bob@example.com HOLD"));
  EXPECT_FALSE(Frozen("m1"));
  EXPECT_FALSE(Frozen("m4"));  // frozen before the hold: release thaws all of bob's mail
  ASSERT_EQ(3u, ran_.size());
  EXPECT_EQ("/test/thaw", ran_[2][0]);
  audit = Audit();
  EXPECT_EQ("release", Field(audit.back(), "event"));
  EXPECT_EQ("alice", Field(audit.back(), "operator"));
  EXPECT_EQ("removed", Field(audit.back(), "hold_list"));
  // Releasing again: nothing held, nothing listed.
  ran_.clear();
  EXPECT_EQ("unchanged", r->Release("bob@example.com", "alice").result);
  EXPECT_TRUE(ran_.empty());
  // The same incident's repeats do not hold bob again: a person decided.
  clock_.Advance(std::chrono::seconds(60));
  r->Handle(Payload({}), 10, clock_.UnixSeconds());
  EXPECT_TRUE(ran_.empty());
  EXPECT_EQ("released", Field(Audit().back(), "reason"));
  EXPECT_FALSE(Frozen("m1"));
  // A new incident (an alert that started after the release) does.
  r->Handle(Payload({{"startsAt", "2026-11-23T10:00:30Z"}}), 11, clock_.UnixSeconds());
  EXPECT_EQ("done", Field(Audit().back(), "result"));
  EXPECT_TRUE(Frozen("m1"));
  EXPECT_EQ(std::string::npos, HoldListText().find("#released bob"));
  const std::string m = Metrics();
  EXPECT_NE(std::string::npos, m.find("action=hold result=done 3\n")) << m;
  EXPECT_NE(std::string::npos, m.find("action=hold result=unchanged 1\n")) << m;
  EXPECT_NE(std::string::npos, m.find("reason=released 1\n")) << m;
  EXPECT_NE(std::string::npos, m.find("action=release result=done 1\n")) << m;
  EXPECT_NE(std::string::npos,
            m.find("mailrelay_respond_last_action_timestamp_seconds 1795428060\n"))
      << m;
}

TEST_F(RespondResponder, EveryRefusalIsAuditedAndNothingRuns) {
  auto r = Make(/*dry_run=*/false, /*cap=*/1);
  r->Handle(Payload({{"user", "vip"}}), 1, clock_.UnixSeconds());
  r->Handle(Payload({{"user", "MTAUSER"}}), 2, clock_.UnixSeconds());
  r->Handle(Payload({{"user", "bob\n../../etc"}}), 3, clock_.UnixSeconds());
  r->Handle(Payload({{"alertname", "MailSomethingElse"}}), 4, clock_.UnixSeconds());
  r->Handle(Payload({{"severity", "warning"}}), 5, clock_.UnixSeconds());
  r->Handle(Payload({}, "resolved"), 6, clock_.UnixSeconds());
  EXPECT_TRUE(ran_.empty());
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/hold-list"));
  // The cap: one new hold an hour. bob is held; carol is refused; bob's repeat is fine.
  r->Handle(Payload({}), 7, clock_.UnixSeconds());
  EXPECT_FALSE(ran_.empty());
  ran_.clear();
  r->Handle(Payload({{"user", "carol"}}), 8, clock_.UnixSeconds());
  r->Handle(Payload({}), 9, clock_.UnixSeconds());
  EXPECT_TRUE(ran_.empty());
  EXPECT_FALSE(Frozen("m5"));
  EXPECT_EQ(std::string::npos, HoldListText().find("carol"));

  std::vector<JsonValue> audit = Audit();
  std::vector<std::string> got;
  for (const JsonValue& a : audit) {
    got.push_back(Field(a, "notification") + " " + Field(a, "event") + " " + Field(a, "reason") +
                  " " + Field(a, "result"));
  }
  const std::vector<std::string> want = {
      "1 refusal never <none>",
      "2 refusal never <none>",
      "3 refusal implausible_account <none>",
      "4 refusal alert_not_listed <none>",
      "5 refusal severity <none>",
      "6 ignored resolved <none>",
      "7 hold <none> done",
      "8 refusal rate_limited <none>",
      "9 hold <none> unchanged",
  };
  EXPECT_EQ(want, got);
  EXPECT_EQ("bob?../../etc", Field(audit[2], "account"));
  EXPECT_EQ("626f620a2e2e2f2e2e2f657463", Field(audit[2], "account_hex"));
  const std::string m = Metrics();
  EXPECT_NE(std::string::npos, m.find("reason=never 2\n")) << m;
  EXPECT_NE(std::string::npos, m.find("reason=rate_limited 1\n")) << m;
  EXPECT_NE(std::string::npos, m.find("action=hold result=refused 6\n")) << m;

  // An hour later the cap has room again; a restarted responder counts the list's holds.
  clock_.Advance(std::chrono::seconds(1800));
  auto restarted = Make(/*dry_run=*/false, /*cap=*/1);
  restarted->Handle(Payload({{"user", "carol"}}), 10, clock_.UnixSeconds());
  EXPECT_EQ("rate_limited", Field(Audit().back(), "reason"));
  clock_.Advance(std::chrono::seconds(1801));
  restarted->Handle(Payload({{"user", "carol"}}), 11, clock_.UnixSeconds());
  EXPECT_EQ("done", Field(Audit().back(), "result"));
  EXPECT_TRUE(Frozen("m5"));
}

TEST_F(RespondResponder, FailuresAreReportedNotHidden) {
  auto r = Make(/*dry_run=*/false);
  fail_ = true;  // every command fails: postmap, the freeze
  ActionReport rep = r->Hold("bob@example.com", Payload({}).alerts[0], 1, clock_.UnixSeconds());
  EXPECT_EQ("failed", rep.result);
  EXPECT_EQ(2u, rep.remaining);
  EXPECT_NE(std::string::npos, rep.error.find("/test/postmap: exit 1")) << rep.error;
  EXPECT_EQ("/test/freeze", ran_.back()[0]);  // the queued mail was tried all the same
  // The list entry stays (new mail is held); a repeat retries the freeze.
  fail_ = false;
  ran_.clear();
  rep = r->Hold("bob@example.com", Payload({}).alerts[0], 2, clock_.UnixSeconds());
  EXPECT_EQ("done", rep.result) << rep.error;
  // postmap again (it failed), the derived map is written already: no reload; the freeze.
  EXPECT_EQ(
      (std::vector<Argv>{{"/test/postmap", dir_ + "/hold-list"}, {"/test/freeze", "m1", "m2"}}),
      ran_);
  // An unreadable queue: failed, said so.
  queue_.ok = false;
  rep = r->Hold("carol", Payload({}).alerts[0], 3, clock_.UnixSeconds());
  EXPECT_EQ("failed", rep.result);
  EXPECT_NE(std::string::npos, rep.error.find("queue not read")) << rep.error;
}

TEST_F(RespondResponder, HostHoldAndSync) {
  auto r = Make(/*dry_run=*/false);
  queue_.messages["m7"] = {"cpuser"};
  ASSERT_TRUE(IsOk(r->Sync()));  // creates the list, runs the followers once
  EXPECT_TRUE(std::filesystem::exists(dir_ + "/hold-list"));
  EXPECT_EQ((std::vector<Argv>{{"/test/postmap", dir_ + "/hold-list"}, {"/test/reload"}}), ran_);
  ran_.clear();
  ASSERT_TRUE(IsOk(r->Sync()));  // the derived map is unchanged: no reload
  EXPECT_EQ((std::vector<Argv>{{"/test/postmap", dir_ + "/hold-list"}}), ran_);
  ran_.clear();
  EXPECT_EQ("done", r->Hold("cpuser", Payload({}).alerts[0], 1, clock_.UnixSeconds()).result);
  EXPECT_EQ((std::vector<Argv>{{"/test/postmap", dir_ + "/hold-list"},
                               {"/test/reload"},
                               {"/test/freeze", "m7"},
                               {"/test/whmapi1", "hold_outgoing_email", "user=cpuser"}}),
            ran_);
  StatusOr<std::vector<HeldAccount>> held = r->HeldAccounts();
  ASSERT_TRUE(IsOk(held));
  ASSERT_EQ(1u, held->size());
  EXPECT_EQ("cpuser", (*held)[0].entry.account);
  EXPECT_EQ(1u, (*held)[0].queued);
  EXPECT_EQ(1u, (*held)[0].held);
}

TEST_F(RespondResponder, WebhookReceiverAnswersAtOnceAndActsInOrder) {
  auto r = Make(/*dry_run=*/true);
  WebhookReceiver receiver(*r, *audit_, metrics_.get(), clock_);
  HttpServer::Request bad;
  bad.body = R"({"version":"3"})";
  HttpServer::Response resp = receiver.Handle(bad);
  EXPECT_EQ(400, resp.status);
  EXPECT_NE(std::string::npos, resp.body.find("is not 4")) << resp.body;
  HttpServer::Request good;
  good.body = R"({"version":"4","status":"firing","receiver":"respond","groupKey":"{}:{}",)"
              R"("alerts":[{"status":"firing","labels":{"alertname":"MailRelayAuthrelayHigh",)"
              R"("severity":"critical","user":"bob@example.com"}}]})";
  resp = receiver.Handle(good);
  EXPECT_EQ(200, resp.status);
  EXPECT_EQ("{\"status\":\"accepted\",\"notification\":1}\n", resp.body);
  receiver.Drain();
  std::vector<JsonValue> audit = Audit();
  ASSERT_EQ(3u, audit.size());
  EXPECT_EQ("bad_notification", Field(audit[0], "event"));
  EXPECT_EQ("notification", Field(audit[1], "event"));
  EXPECT_EQ("1", Field(audit[1], "notification"));
  EXPECT_EQ("hold", Field(audit[2], "event"));
  EXPECT_EQ("1", Field(audit[2], "notification"));
  const std::string m = Metrics();
  EXPECT_NE(std::string::npos, m.find("result=bad_request 1\n")) << m;
  EXPECT_NE(std::string::npos, m.find("result=accepted 1\n")) << m;
}

}  // namespace
}  // namespace mailrelay::respond
