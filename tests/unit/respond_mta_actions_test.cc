// What the MTA modules give respond (mta/exim/respond_actions.h, mta/postfix/respond_actions.h):
// argv commands built from documented options only, batched, ids checked; the Postfix pickup
// table of held local users' uids.
#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

#include "mta/exim/respond_actions.h"
#include "mta/postfix/respond_actions.h"

namespace mailrelay {
namespace {

TEST(RespondEximActions, FreezeAndThawInBatches) {
  std::vector<std::string> ids;
  for (int i = 0; i < 205; ++i) {
    char id[32];
    std::snprintf(id, sizeof id, "1xYXi3-%06d-1h", i);
    ids.push_back(id);
  }
  ids.push_back("not-an-id; rm -rf /");
  ids.push_back("1xYXi3-00005B00000-0001");  // the 4.97+ long form
  std::vector<Argv> freeze = exim::FreezeCommands("/usr/sbin/exim4", "", ids, true);
  ASSERT_EQ(3u, freeze.size());
  EXPECT_EQ((Argv{"/usr/sbin/exim4", "-Mf"}), Argv(freeze[0].begin(), freeze[0].begin() + 2));
  EXPECT_EQ(102u, freeze[0].size());
  EXPECT_EQ(102u, freeze[1].size());
  EXPECT_EQ(
      (Argv{"/usr/sbin/exim4", "-Mf", "1xYXi3-000200-1h", "1xYXi3-000201-1h", "1xYXi3-000202-1h",
            "1xYXi3-000203-1h", "1xYXi3-000204-1h", "1xYXi3-00005B00000-0001"}),
      freeze[2]);
  std::vector<Argv> thaw =
      exim::FreezeCommands("/usr/sbin/exim4", "/tmp/x/exim.conf", {"1xYXi3-00005B-1h"}, false);
  EXPECT_EQ(
      (std::vector<Argv>{{"/usr/sbin/exim4", "-C", "/tmp/x/exim.conf", "-Mt", "1xYXi3-00005B-1h"}}),
      thaw);
  EXPECT_TRUE(exim::FreezeCommands("/usr/sbin/exim4", "", {"../../x", ""}, true).empty());
}

TEST(RespondEximActions, CpanelHold) {
  EXPECT_EQ((Argv{"/usr/local/cpanel/bin/whmapi1", "hold_outgoing_email", "user=cpuser1"}),
            exim::CpanelHoldCommand("/usr/local/cpanel/bin/whmapi1", "cpuser1", true));
  EXPECT_EQ((Argv{"/usr/local/cpanel/bin/whmapi1", "release_outgoing_email", "user=cpuser1"}),
            exim::CpanelHoldCommand("/usr/local/cpanel/bin/whmapi1", "cpuser1", false));
  const std::vector<std::string> own = exim::EximServiceAccounts();
  for (const char* u : {"mailnull", "Debian-exim", "exim"}) {
    EXPECT_NE(own.end(), std::find(own.begin(), own.end(), u)) << u;
  }
}

TEST(RespondPostfixActions, PostsuperHoldAndRelease) {
  std::vector<std::string> ids = {"4jfHr93bYHz1cbsc", "3F1A2B4C5D", "bad id", "4jfHr955dDz1cbsq"};
  EXPECT_EQ((std::vector<Argv>{{"/usr/sbin/postsuper", "-h", "4jfHr93bYHz1cbsc", "-h", "3F1A2B4C5D",
                                "-h", "4jfHr955dDz1cbsq"}}),
            postfix::HoldCommands("/usr/sbin/postsuper", "", ids, true));
  EXPECT_EQ(
      (std::vector<Argv>{{"/usr/sbin/postsuper", "-c", "/etc/postfix-out", "-H", "3F1A2B4C5D"}}),
      postfix::HoldCommands("/usr/sbin/postsuper", "/etc/postfix-out", {"3F1A2B4C5D"}, false));
  std::vector<std::string> many(250, "3F1A2B4C5D");
  std::vector<Argv> batches = postfix::HoldCommands("/usr/sbin/postsuper", "", many, true);
  ASSERT_EQ(3u, batches.size());
  EXPECT_EQ(201u, batches[0].size());
  EXPECT_EQ(101u, batches[2].size());
}

TEST(RespondPostfixActions, PickupTableOfHeldLocalUsers) {
  auto uid_of = [](const std::string& name) -> std::optional<std::uint32_t> {
    if (name == "www-data") return 33;
    if (name == "nobody") return 65534;
    return std::nullopt;
  };
  std::string table =
      postfix::PickupHoldRegexp("/var/lib/mailrelay-exporter/hold-list",
                                {"bob@example.com", "www-data", "ghost", "nobody"}, uid_of);
  EXPECT_EQ(
      "# Written by mailrelay_exporter respond from /var/lib/mailrelay-exporter/hold-list (do "
      "not edit): the local\n"
      "# users whose new mail is held, for header_checks of the cleanup service of pickup.\n"
      "/^Received: by [^ ]+ \\([^()]*, from userid 33\\)/ HOLD held by mailrelay_exporter "
      "respond: local user www-data\n"
      "/^Received: by [^ ]+ \\([^()]*, from userid 65534\\)/ HOLD held by mailrelay_exporter "
      "respond: local user nobody\n",
      table);
  postfix::FollowerTools tools;
  tools.postmap = "/usr/sbin/postmap";
  tools.postfix = "/usr/sbin/postfix";
  tools.config_directory = "/etc/postfix";
  tools.map_type = "lmdb";
  HoldListFollowers f = postfix::Followers(tools, "/var/lib/x/hold-list", {"www-data"}, uid_of);
  EXPECT_EQ(
      (std::vector<Argv>{{"/usr/sbin/postmap", "-c", "/etc/postfix", "lmdb:/var/lib/x/hold-list"}}),
      f.after_list_change);
  ASSERT_EQ(1u, f.maps.size());
  EXPECT_EQ("/var/lib/x/hold-list.pickup-uids.regexp", f.maps[0].path);
  EXPECT_NE(std::string::npos, f.maps[0].content.find("from userid 33\\)"));
  EXPECT_EQ((std::vector<Argv>{{"/usr/sbin/postfix", "-c", "/etc/postfix", "reload"}}),
            f.maps[0].after_change);
}

}  // namespace
}  // namespace mailrelay
