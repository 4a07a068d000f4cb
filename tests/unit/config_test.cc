#include "app/config.h"

#include <gtest/gtest.h>

namespace mailrelay {
namespace {

bool Parse(std::vector<const char*> args, Config* c, std::string* err) {
  args.insert(args.begin(), "mailrelay_exporter");
  return ParseFlags(static_cast<int>(args.size()), args.data(), c, err);
}

TEST(Config, ParsesBothFlagForms) {
  Config c;
  std::string err;
  ASSERT_TRUE(Parse(
      {"--web.listen-address=127.0.0.1:0", "--exim.mainlog", "/x/mainlog", "--tail.from-beginning",
       "--metrics.max-series-per-family=5", "--metrics.series-idle-timeout=30m",
       "--no-relay.include-interface-addresses", "--log.level=debug", "--tail.poll-interval=100ms"},
      &c, &err))
      << err;
  EXPECT_EQ("127.0.0.1:0", c.listen_address);
  EXPECT_EQ("/x/mainlog", c.exim_mainlog);
  EXPECT_TRUE(c.tail_from_beginning);
  EXPECT_EQ(5u, c.max_series_per_family);
  EXPECT_EQ(1800, c.series_idle_timeout_seconds);
  EXPECT_FALSE(c.include_interface_addresses);
  EXPECT_EQ(LogLevel::kDebug, c.log_level);
  EXPECT_EQ(100, c.tail_poll_interval_ms);
}

TEST(Config, RejectsBadInputWithClearMessage) {
  Config c;
  std::string err;
  EXPECT_FALSE(Parse({"--nope"}, &c, &err));
  EXPECT_NE(std::string::npos, err.find("unknown flag --nope"));
  EXPECT_FALSE(Parse({"--metrics.max-series-per-family=0"}, &c, &err));
  EXPECT_NE(std::string::npos, err.find("invalid value"));
  EXPECT_FALSE(Parse({"--exim.mainlog"}, &c, &err));
  EXPECT_NE(std::string::npos, err.find("needs a value"));
  EXPECT_FALSE(Parse({"--log.level=loud"}, &c, &err));
  EXPECT_FALSE(Parse({"positional"}, &c, &err));
  EXPECT_FALSE(Parse({"--web.telemetry-path=metrics"}, &c, &err));
}

TEST(Config, HelpListsEveryFlag) {
  std::string help = HelpText("mailrelay_exporter");
  for (const auto& f : FlagTable()) {
    EXPECT_NE(std::string::npos, help.find("--" + f.name)) << f.name;
  }
}

TEST(Config, RejectlogSibling) {
  EXPECT_EQ("/var/log/exim_rejectlog", RejectlogFor("/var/log/exim_mainlog"));
  EXPECT_EQ("/var/log/exim4/rejectlog", RejectlogFor("/var/log/exim4/mainlog"));
  EXPECT_EQ("/var/log/exim/reject.log", RejectlogFor("/var/log/exim/main.log"));
  EXPECT_EQ("", RejectlogFor("/tmp/custom.log"));
}

}  // namespace
}  // namespace mailrelay
