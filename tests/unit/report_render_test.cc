#include "report/render.h"

#include <gtest/gtest.h>

#include <string>

#include "app/runtime.h"
#include "common/clock.h"
#include "report/json_writer.h"
#include "report/report_command.h"
#include "report/text_table.h"

namespace mailrelay::report {
namespace {

TEST(ReportRender, TextTableAlignsOnCharacters) {
  TextTable t({{"NAME"}, {"N", true}});
  t.AddRow({"ä-user", "5"});
  t.AddRow({"b", "123"});
  EXPECT_EQ(
      "  NAME      N\n"
      "  ä-user    5\n"
      "  b       123\n",
      t.Render());
}

TEST(ReportRender, JsonWriterEscapesAndNests) {
  JsonWriter w;
  w.BeginObject();
  w.Field("s", "a\"b\\c\n\x01");
  w.Key("empty");
  w.BeginArray();
  w.EndArray();
  w.Key("list");
  w.BeginArray();
  w.Uint(1);
  w.Null();
  w.EndArray();
  w.FieldBool("b", true);
  w.FieldInt("i", -3);
  w.EndObject();
  EXPECT_EQ(
      "{\n"
      "  \"s\": \"a\\\"b\\\\c\\n\\u0001\",\n"
      "  \"empty\": [],\n"
      "  \"list\": [\n"
      "    1,\n"
      "    null\n"
      "  ],\n"
      "  \"b\": true,\n"
      "  \"i\": -3\n"
      "}\n",
      w.Take());
}

ReportData Sample() {
  ReportData d;
  d.mta = "exim";
  d.window = {1795334400, 1795338000};
  d.top = 10;
  d.logs.push_back({"mainlog.1", false, 1795330000, 1795335000, "read", "", 42});
  d.logs.push_back({"mainlog.2.gz", true, 1795200000, 0, "before_window", "", 0});
  d.classes[1] = {RelayClass::kAuthRelay, 3, 7, 900, 1};
  for (int i = 0; i < kRelayClassCount; ++i) {
    d.classes[static_cast<std::size_t>(i)].relay_class = static_cast<RelayClass>(i);
    SourceIpTable t;
    t.relay_class = static_cast<RelayClass>(i);
    d.source_ips.push_back(t);
  }
  d.auth_users.push_back({"alice@mx.example.test", 3, 7, 2, 1});
  d.auth_users_total = 1;
  d.rejects.push_back({RejectReason::kRelayDenied, 2, 1});
  d.rejects_total = 2;
  Offender o;
  o.identity = "alice@mx.example.test";
  o.kind = "auth_user";
  o.messages = 3;
  o.recipients = 7;
  o.ips = 2;
  o.sender = "alice@mx.example.test";
  o.commands.push_back({"freeze", "exipick -i x | xargs -r exim -Mf"});
  d.offender = o;
  return d;
}

TEST(ReportRender, TextHasEverySection) {
  std::string text = RenderText(Sample());
  for (const char* needle :
       {"Window  ", "Logs\n", "skipped: ends before the window", "Accepted messages by relay class",
        "Top auth users", "alice@mx.example.test", "Top source IPs per relay class",
        "Top local users", "Spoofing suspects", "Failed SMTP AUTH by IP", "Rejects by reason (2)",
        "relay_denied", "Top offender: alice@mx.example.test (auth user)\n",
        "  in the window: 3 messages, 7 recipients from 2 IPs, usually as alice@mx.example.test; "
        "queue not read\n",
        "  # freeze\n  exipick -i x | xargs -r exim -Mf\n"}) {
    EXPECT_NE(std::string::npos, text.find(needle)) << needle << "\n" << text;
  }
  EXPECT_EQ(std::string::npos, text.find("Queue now"));  // not asked for
}

TEST(ReportRender, JsonHasStableKeys) {
  ReportData d = Sample();
  d.queue = QueueReport{};
  d.queue->source = "spool /x/input";
  d.queue->error = "permission denied";
  std::string json = RenderJson(d);
  for (const char* key : {"\"report_version\": 1",
                          "\"window\"",
                          "\"since_unix\": 1795334400",
                          "\"logs\"",
                          "\"status\": \"before_window\"",
                          "\"classes\"",
                          "\"localhostrelay\"",
                          "\"ignored\"",
                          "\"deliveries\"",
                          "\"auth_users\"",
                          "\"source_ips\"",
                          "\"local_users\"",
                          "\"spoofing\"",
                          "\"auth_failures\"",
                          "\"rejects\"",
                          "\"by_reason\"",
                          "\"spam\"",
                          "\"queue\"",
                          "\"read\": false",
                          "\"error\": \"permission denied\"",
                          "\"top_offender\"",
                          "\"commands\""}) {
    EXPECT_NE(std::string::npos, json.find(key)) << key;
  }
}

TEST(ReportFlags, SharedAndOwnFlags) {
  const char* argv[] = {"report",
                        "--since",
                        "2h",
                        "--top=3",
                        "--format=json",
                        "--no-queue",
                        "--mta=postfix",
                        "--postfix.log",
                        "/tmp/mail.log",
                        "--no-relay.include-interface-addresses"};
  ReportCommandLine r;
  Status s = r.Parse(static_cast<int>(std::size(argv)), argv);
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_EQ("2h", r.report.since);
  EXPECT_EQ(3u, r.report.top);
  EXPECT_EQ("json", r.report.format);
  EXPECT_FALSE(r.report.queue);
  EXPECT_EQ("postfix", r.shared.mta()->name());
  EXPECT_FALSE(r.shared.options.relay.include_interface_addresses);
  // The Postfix module took --postfix.log: the report reads that file.
  ManualClock clock;
  auto logs = r.shared.mta()->Logs(MakeMtaContext(r.shared.options, RunMode::kReport, clock));
  ASSERT_TRUE(logs.ok());
  ASSERT_EQ(1u, logs->size());
  EXPECT_EQ("/tmp/mail.log", logs->front().path);
}

TEST(ReportFlags, Rejections) {
  auto parse = [](std::initializer_list<const char*> args) {
    std::vector<const char*> argv = {"report"};
    argv.insert(argv.end(), args.begin(), args.end());
    ReportCommandLine r;
    Status s = r.Parse(static_cast<int>(argv.size()), argv.data());
    return std::make_pair(s, r.shared.options.help);
  };
  EXPECT_NE(std::string::npos,
            parse({"--web.listen-address=:1"}).first.message().find("exporter flag"));
  EXPECT_NE(std::string::npos, parse({"--bogus"}).first.message().find("unknown flag"));
  EXPECT_FALSE(parse({"--top=0"}).first.ok());
  EXPECT_FALSE(parse({"--format=xml"}).first.ok());
  EXPECT_FALSE(parse({"--mta=qmail"}).first.ok());  // the exporter's own validation
  EXPECT_FALSE(parse({"--since"}).first.ok());
  EXPECT_FALSE(parse({"positional"}).first.ok());
  EXPECT_TRUE(parse({"-h"}).second);
}

TEST(ReportFlags, HelpListsFlags) {
  std::string help = ReportHelpText("mailrelay_exporter");
  for (const char* flag :
       {"--since", "--until", "--top=10", "--format=text", "--queue", "--mta=auto",
        "--exim.mainlog", "--exim.spool-dir", "--postfix.log", "--relay.ignore-users"}) {
    EXPECT_NE(std::string::npos, help.find(flag)) << flag;
  }
  EXPECT_EQ(std::string::npos, help.find("--web.listen-address"));
}

}  // namespace
}  // namespace mailrelay::report
