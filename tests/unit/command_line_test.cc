// The one flag table: both flag forms, scopes per subcommand, clear errors, --help from the
// table, the MTA modules' flags and --mta resolution.
#include "app/command_line.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "app/exporter_command.h"
#include "app/runtime.h"
#include "common/clock.h"
#include "mta/exim/paths.h"
#include "respond/respond_command.h"

namespace mailrelay {
namespace {

Status Parse(CommandLine* c, std::vector<const char*> args, FlagScope scope = kExporterScope) {
  args.insert(args.begin(), "mailrelay_exporter");
  return c->Parse(static_cast<int>(args.size()), args.data(), scope);
}

std::vector<LogSpec> Logs(const CommandLine& c, RunMode mode = RunMode::kLive) {
  ManualClock clock;
  auto logs = c.mta()->Logs(MakeMtaContext(c.options, mode, clock));
  EXPECT_TRUE(logs.ok()) << logs.status().message();
  return logs.ok() ? *logs : std::vector<LogSpec>{};
}

TEST(CommandLine, ParsesBothFlagForms) {
  CommandLine c;
  Status s =
      Parse(&c, {"--web.listen-address=127.0.0.1:0", "--exim.mainlog", "/x/mainlog",
                 "--tail.from-beginning", "--metrics.max-series-per-family=5",
                 "--metrics.series-idle-timeout=30m", "--no-relay.include-interface-addresses",
                 "--log.level=debug", "--tail.poll-interval=100ms"});
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_EQ("127.0.0.1:0", c.options.web.listen_address);
  EXPECT_TRUE(c.options.tail.from_beginning);
  EXPECT_EQ(5u, c.options.metrics.max_series_per_family);
  EXPECT_EQ(1800, c.options.metrics.series_idle_timeout_seconds);
  EXPECT_FALSE(c.options.relay.include_interface_addresses);
  EXPECT_EQ(LogLevel::kDebug, c.options.log_level);
  EXPECT_EQ(100, c.options.tail.poll_interval_ms);
  // --exim.mainlog names the log: --mta=auto picks Exim, which follows it and its reject log.
  EXPECT_EQ("exim", c.mta()->name());
  auto logs = Logs(c);
  ASSERT_EQ(2u, logs.size());
  EXPECT_EQ("/x/mainlog", logs[0].path);
  EXPECT_TRUE(logs[0].count_events);
  EXPECT_EQ("/x/rejectlog", logs[1].path);
  EXPECT_FALSE(logs[1].count_events);  // the reject log repeats the main log's rejections
  EXPECT_EQ(1u, Logs(c, RunMode::kReport).size());  // the report reads the main log only
}

TEST(CommandLine, RejectsBadInputWithClearMessage) {
  auto error = [](std::vector<const char*> args, FlagScope scope = kExporterScope) {
    CommandLine c;
    Status s = Parse(&c, std::move(args), scope);
    EXPECT_FALSE(s.ok());
    return s.message();
  };
  EXPECT_NE(std::string::npos, error({"--nope"}).find("unknown flag --nope"));
  EXPECT_NE(std::string::npos, error({"--metrics.max-series-per-family=0"}).find("invalid value"));
  EXPECT_NE(std::string::npos, error({"--exim.mainlog"}).find("needs a value"));
  EXPECT_NE(std::string::npos, error({"--log.level=loud"}).find("--log.level"));
  EXPECT_NE(std::string::npos, error({"positional"}).find("unexpected argument"));
  EXPECT_NE(std::string::npos, error({"--web.telemetry-path=metrics"}).find("starting with /"));
  EXPECT_NE(std::string::npos, error({"--mta=qmail"}).find("exim, postfix"));
  EXPECT_NE(std::string::npos, error({"--no-oneshot=1"}).find("takes no value"));
  // A flag of the exporter only is refused by the report, with a reason.
  EXPECT_NE(std::string::npos,
            error({"--state.file=x"}, kReportScope).find("exporter flag that report does not"));
}

TEST(CommandLine, HelpListsEveryFlagOfItsScope) {
  std::string help = ExporterHelpText();
  CommandLine c;
  for (const auto& f : c.flags.flags()) {
    bool exporter = (f.scopes & kExporterScope) != 0;
    EXPECT_EQ(exporter, help.find("  --" + f.name + "\n") != std::string::npos ||
                            help.find("  --" + f.name + "=") != std::string::npos)
        << f.name;
  }
  EXPECT_NE(std::string::npos, help.find("  --exim.mainlog=autodetect\n"));
  EXPECT_NE(std::string::npos, help.find("  --postfix.correlation-ttl=2h\n"));
  EXPECT_NE(std::string::npos, help.find("  --queue.top-k=20\n"));
}

TEST(CommandLine, PostfixFlagsPickPostfix) {
  CommandLine c;
  ASSERT_TRUE(Parse(&c, {"--postfix.log=/x/mail.log"}).ok());
  EXPECT_EQ("postfix", c.mta()->name());
  auto logs = Logs(c);
  ASSERT_EQ(1u, logs.size());
  EXPECT_EQ("postfix", logs[0].name);
  EXPECT_EQ("/x/mail.log", logs[0].path);

  CommandLine j;
  ASSERT_TRUE(Parse(&j, {"--postfix.journal", "--state.file=/s/state"}).ok());
  EXPECT_EQ("postfix", j.mta()->name());
  logs = Logs(j);
  ASSERT_EQ(1u, logs.size());
  ASSERT_TRUE(logs[0].journal.has_value());
  EXPECT_EQ("/s/state.postfix-journal-cursor", logs[0].journal->cursor_file);
  EXPECT_TRUE(logs[0].path.empty());
  logs = Logs(j, RunMode::kOneshot);
  ASSERT_EQ(1u, logs.size());
  EXPECT_TRUE(logs[0].journal->cursor_file.empty());  // one-shot keeps no cursor
  ManualClock clock;
  EXPECT_FALSE(j.mta()->Logs(MakeMtaContext(j.options, RunMode::kReport, clock)).ok());

  // An explicit --mta wins over another module's flags.
  CommandLine e;
  ASSERT_TRUE(Parse(&e, {"--mta=exim", "--postfix.log=/x/mail.log"}).ok());
  EXPECT_EQ("exim", e.mta()->name());
}

// respond's flags: its own scope, its listen address default, the exporter unchanged; the
// accounts it never holds always include root and the MTA's own users.
TEST(CommandLine, RespondFlags) {
  respond::RespondCommandLine r;
  std::vector<const char*> args = {"respond", "--respond.mode=hold", "--mta=postfix",
                                   "--respond.never=vip@example.com",
                                   "--respond.max-actions-per-hour=3"};
  Status s = r.Parse(static_cast<int>(args.size()), args.data(), 1);
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_EQ("hold", r.respond.mode);
  EXPECT_EQ(3u, r.respond.max_actions_per_hour);
  EXPECT_EQ("127.0.0.1:9226", r.shared.options.web.listen_address);
  EXPECT_FALSE(r.shared.flags.Given("web.listen-address"));
  EXPECT_EQ("postfix", r.shared.mta()->name());
  EXPECT_EQ((std::vector<std::string>{"root", "postfix", "vip@example.com"}),
            respond::NeverAccounts(r.shared.mta()->ServiceAccounts(), r.respond.never));
  std::string help = respond::RespondHelpText("mailrelay_exporter");
  EXPECT_NE(std::string::npos, help.find("  --web.listen-address=127.0.0.1:9226\n"));
  EXPECT_NE(std::string::npos, help.find("  --respond.mode=dry-run\n"));
  EXPECT_EQ(std::string::npos, help.find("\n  --oneshot"));

  respond::RespondCommandLine bad;
  std::vector<const char*> oneshot = {"respond", "--oneshot"};
  s = bad.Parse(2, oneshot.data(), 1);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(std::string::npos, s.message().find("respond does not take")) << s.message();

  CommandLine exporter;
  s = Parse(&exporter, {"--respond.mode=hold"});
  EXPECT_FALSE(s.ok());
  EXPECT_NE(std::string::npos, s.message().find("unknown flag --respond.mode")) << s.message();
  EXPECT_EQ(":9225", exporter.options.web.listen_address);
  EXPECT_EQ(std::string::npos, ExporterHelpText().find("--respond."));
}

TEST(CommandLine, RejectlogSibling) {
  EXPECT_EQ("/var/log/exim_rejectlog", exim::RejectlogFor("/var/log/exim_mainlog"));
  EXPECT_EQ("/var/log/exim4/rejectlog", exim::RejectlogFor("/var/log/exim4/mainlog"));
  EXPECT_EQ("/var/log/exim/reject.log", exim::RejectlogFor("/var/log/exim/main.log"));
  EXPECT_EQ("", exim::RejectlogFor("/tmp/custom.log"));
  CommandLine c;
  ASSERT_TRUE(Parse(&c, {"--exim.mainlog=/tmp/custom.log"}).ok());
  EXPECT_EQ(1u, Logs(c).size());  // no sibling of an unknown name
  CommandLine n;
  ASSERT_TRUE(Parse(&n, {"--exim.mainlog=/var/log/exim4/mainlog", "--exim.rejectlog=none"}).ok());
  EXPECT_EQ(1u, Logs(n).size());
}

}  // namespace
}  // namespace mailrelay
