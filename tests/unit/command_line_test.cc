// The one flag table: both flag forms, scopes per subcommand, clear errors, --help from the
// table, the MTA modules' flags and --mta resolution; autodetection on fake cPanel,
// DirectAdmin, Debian, Fedora/EL and Postfix hosts built under --path.rootfs.
#include "app/command_line.h"

#include <gtest/gtest.h>

#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "app/exporter_command.h"
#include "app/runtime.h"
#include "common/clock.h"
#include "mta/exim/paths.h"
#include "respond/respond_command.h"
#include "status_matchers.h"

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

namespace fs = std::filesystem;

// A fake host under a temporary directory, for --path.rootfs.
class FakeHost : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "rootfs_XXXXXX").string();
    root_ = ::mkdtemp(tmpl.data());
  }
  void TearDown() override { fs::remove_all(root_); }
  // Files ("/var/log/maillog") and directories ("/var/spool/exim/input/") of the host.
  void Make(std::initializer_list<const char*> paths) const {
    for (const char* p : paths) {
      std::string path = root_ + p;
      if (path.back() == '/') {
        fs::create_directories(path);
      } else {
        fs::create_directories(fs::path(path).parent_path());
        std::ofstream(path, std::ios::app);
      }
    }
  }
  // Parses `args` with --path.rootfs=<the fake host>.
  void ParseOn(CommandLine* c, std::vector<std::string> args,
               FlagScope scope = kExporterScope) const {
    args.push_back("--path.rootfs=" + root_);
    std::vector<const char*> argv;
    for (const auto& a : args) argv.push_back(a.c_str());
    ASSERT_TRUE(IsOk(Parse(c, argv, scope)));
  }
  std::vector<std::string> LogPaths(const CommandLine& c, RunMode mode = RunMode::kLive) const {
    std::vector<std::string> paths;
    for (const auto& log : Logs(c, mode)) paths.push_back(log.path);
    return paths;
  }
  std::string Queue(const CommandLine& c) const {
    ManualClock clock;
    auto reader = c.mta()->MakeQueueReader(MakeMtaContext(c.options, RunMode::kLive, clock));
    EXPECT_TRUE(IsOk(reader));
    return reader.ok() ? reader->description : "";
  }
  std::string root_;
};

TEST_F(FakeHost, CpanelOnAlmaLinux) {
  Make({"/usr/local/cpanel/", "/var/log/exim_mainlog", "/var/log/exim_rejectlog",
        "/var/spool/exim/input/", "/var/log/maillog", "/usr/sbin/exim"});
  CommandLine c;
  ParseOn(&c, {});
  EXPECT_EQ("exim", c.mta()->name());  // Exim's log comes first; the maillog is Dovecot's
  EXPECT_TRUE(c.mta_note().empty());
  EXPECT_EQ((std::vector<std::string>{root_ + "/var/log/exim_mainlog",
                                      root_ + "/var/log/exim_rejectlog"}),
            LogPaths(c));
  EXPECT_EQ(std::vector<std::string>{root_ + "/var/log/exim_mainlog"},
            LogPaths(c, RunMode::kReport));
  EXPECT_EQ("spool " + root_ + "/var/spool/exim/input", Queue(c));
  for (const auto& log : Logs(c)) EXPECT_EQ("", log.detect_note);
  // cPanel's relayhosts files are the host's too.
  EXPECT_EQ(root_ + "/etc/relayhosts," + root_ + "/etc/alwaysrelay", c.options.relay.relayhosts);
  // The commands an admin runs on the host name the host's spool, not the fake root.
  ActionRequest request{"bob@example.com", "auth_user", "", true, root_, {}};
  ActionPlan plan = c.mta()->SuggestActions(request);
  ASSERT_FALSE(plan.commands.empty());
  EXPECT_NE(std::string::npos, plan.commands[0].command.find("--spool '/var/spool/exim'"))
      << plan.commands[0].command;
}

TEST_F(FakeHost, CpanelBeforeEximLoggedAnything) {
  Make({"/usr/local/cpanel/", "/var/spool/exim/input/"});
  CommandLine c;
  ParseOn(&c, {});
  EXPECT_EQ("exim", c.mta()->name());
  EXPECT_TRUE(c.mta_note().empty());  // Exim is there: its log is waited for
  auto logs = Logs(c);
  ASSERT_EQ(2u, logs.size());
  EXPECT_EQ(root_ + "/var/log/exim_mainlog", logs[0].path);
  EXPECT_NE(std::string::npos, logs[0].detect_note.find("no Exim main log found under " + root_));
  EXPECT_NE(std::string::npos, logs[0].detect_note.find("--exim.mainlog"));
}

TEST_F(FakeHost, DirectAdmin) {
  Make({"/usr/local/directadmin/", "/var/log/exim/mainlog", "/var/log/exim/rejectlog",
        "/var/spool/exim/input/", "/usr/sbin/exim"});
  CommandLine c;
  ParseOn(&c, {});
  EXPECT_EQ("exim", c.mta()->name());
  EXPECT_EQ((std::vector<std::string>{root_ + "/var/log/exim/mainlog",
                                      root_ + "/var/log/exim/rejectlog"}),
            LogPaths(c));
  EXPECT_EQ("spool " + root_ + "/var/spool/exim/input", Queue(c));
}

TEST_F(FakeHost, DebianExim4) {
  Make({"/var/log/exim4/mainlog", "/var/log/exim4/rejectlog", "/var/spool/exim4/input/",
        "/usr/sbin/exim4"});
  CommandLine c;
  ParseOn(&c, {});
  EXPECT_EQ("exim", c.mta()->name());
  EXPECT_EQ((std::vector<std::string>{root_ + "/var/log/exim4/mainlog",
                                      root_ + "/var/log/exim4/rejectlog"}),
            LogPaths(c));
  EXPECT_EQ("spool " + root_ + "/var/spool/exim4/input", Queue(c));
  // The report reads the same log and queue.
  CommandLine r;
  ParseOn(&r, {}, kReportScope);
  EXPECT_EQ(std::vector<std::string>{root_ + "/var/log/exim4/mainlog"},
            LogPaths(r, RunMode::kReport));
}

TEST_F(FakeHost, FedoraExim) {
  Make({"/var/log/exim/main.log", "/var/log/exim/reject.log", "/var/spool/exim/input/",
        "/usr/sbin/exim"});
  CommandLine c;
  ParseOn(&c, {});
  EXPECT_EQ("exim", c.mta()->name());
  EXPECT_EQ((std::vector<std::string>{root_ + "/var/log/exim/main.log",
                                      root_ + "/var/log/exim/reject.log"}),
            LogPaths(c));
  EXPECT_EQ("spool " + root_ + "/var/spool/exim/input", Queue(c));
}

TEST_F(FakeHost, PostfixOnEl) {
  // An EL host may have the exim package installed beside the Postfix it runs: a log found
  // beats programs found.
  Make({"/var/log/maillog", "/usr/sbin/postconf", "/var/spool/postfix/", "/usr/sbin/exim"});
  CommandLine c;
  ParseOn(&c, {});
  EXPECT_EQ("postfix", c.mta()->name());
  EXPECT_EQ(std::vector<std::string>{root_ + "/var/log/maillog"}, LogPaths(c));
  EXPECT_EQ("", Logs(c)[0].detect_note);
}

TEST_F(FakeHost, PostfixOnDebian) {
  Make({"/var/log/mail.log", "/var/log/maillog", "/usr/sbin/postconf"});
  CommandLine c;
  ParseOn(&c, {});
  EXPECT_EQ("postfix", c.mta()->name());
  EXPECT_EQ(std::vector<std::string>{root_ + "/var/log/mail.log"}, LogPaths(c));
  // --postfix.journal under a root reads the host's persistent journal.
  CommandLine j;
  ParseOn(&j, {"--postfix.journal"});
  auto logs = Logs(j);
  ASSERT_EQ(1u, logs.size());
  ASSERT_TRUE(logs[0].journal.has_value());
  EXPECT_EQ(root_ + "/var/log/journal", logs[0].journal->path);
}

TEST_F(FakeHost, PostfixLoggingOnlyToTheJournal) {
  // Debian 12 without rsyslog: Postfix installed, no log file.
  Make({"/usr/sbin/postconf", "/var/spool/postfix/"});
  CommandLine c;
  ParseOn(&c, {});
  EXPECT_EQ("postfix", c.mta()->name());
  auto logs = Logs(c);
  ASSERT_EQ(1u, logs.size());
  EXPECT_EQ(root_ + "/var/log/mail.log", logs[0].path);
  EXPECT_NE(std::string::npos, logs[0].detect_note.find("--postfix.journal"));
}

TEST_F(FakeHost, NothingFoundIsSaidWithWhatWasLookedFor) {
  Make({"/etc/", "/var/log/"});
  CommandLine c;
  ParseOn(&c, {});
  EXPECT_EQ("exim", c.mta()->name());  // the first module, waiting for its log
  EXPECT_NE(std::string::npos, c.mta_note().find("--mta=auto found no mail server under " + root_));
  EXPECT_NE(std::string::npos, c.mta_note().find("/var/log/exim4/mainlog"));
  EXPECT_NE(std::string::npos, c.mta_note().find("/var/log/maillog"));
  EXPECT_NE(std::string::npos, c.mta_note().find("/usr/sbin/postconf"));
  auto logs = Logs(c);
  ASSERT_FALSE(logs.empty());
  EXPECT_EQ(root_ + "/var/log/exim4/mainlog", logs[0].path);
  EXPECT_NE(std::string::npos, logs[0].detect_note.find("no Exim main log found under " + root_ +
                                                        " (looked for /var/log/exim_mainlog, "
                                                        "/var/log/exim/mainlog, "
                                                        "/var/log/exim4/mainlog, "
                                                        "/var/log/exim/main.log)"));
  // An explicit MTA says nothing about autodetection.
  CommandLine e;
  ParseOn(&e, {"--mta=exim"});
  EXPECT_TRUE(e.mta_note().empty());
}

TEST_F(FakeHost, FlagsNameTheirPathsAsGiven) {
  Make({"/var/log/exim4/mainlog"});
  CommandLine c;
  ParseOn(&c, {"--exim.mainlog=/elsewhere/mainlog", "--exim.spool-dir=/elsewhere/input",
               "--relay.relayhosts=/etc/relayhosts"});
  EXPECT_EQ((std::vector<std::string>{"/elsewhere/mainlog", "/elsewhere/rejectlog"}), LogPaths(c));
  EXPECT_EQ("spool /elsewhere/input", Queue(c));
  EXPECT_EQ("/etc/relayhosts", c.options.relay.relayhosts);
  EXPECT_EQ("", Logs(c)[0].detect_note);
}

TEST(RootFs, Paths) {
  RootFs host;
  EXPECT_TRUE(host.is_host_root());
  EXPECT_EQ("/var/log/maillog", host.Path("/var/log/maillog"));
  EXPECT_EQ("", host.Describe());
  RootFs root("/host/");
  EXPECT_EQ("/host", root.root());
  EXPECT_EQ("/host/var/log/maillog", root.Path("/var/log/maillog"));
  EXPECT_EQ("/var/spool/exim", root.HostPath("/host/var/spool/exim"));
  EXPECT_EQ("/", root.HostPath("/host"));
  EXPECT_EQ("/hostile/x", root.HostPath("/hostile/x"));
  EXPECT_EQ("/other", root.HostPath("/other"));
  EXPECT_EQ(" under /host", root.Describe());
}

}  // namespace
}  // namespace mailrelay
