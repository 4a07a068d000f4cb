// The postsuper commands for one owner's queued Postfix mail (e2e/postfix_queue_e2e.sh runs them
// against a real Postfix).
#include "mta/postfix/actions.h"

#include <gtest/gtest.h>

namespace mailrelay::postfix {
namespace {

TEST(PostfixOwnerActions, CommandsFeedTheIdsToPostsuper) {
  OwnerQueue q;
  q.owner = "alice@mx.example.test";
  q.queue_ids = {"B2222222222", "A1111111111", "B2222222222"};
  ActionPlan a = OwnerActions(q);
  ASSERT_EQ(a.commands.size(), 5u);
  const std::string list = "printf '%s\\n' A1111111111 B2222222222";
  EXPECT_EQ(a.commands[0].what, "the queue ids of the 2 queued messages of alice@mx.example.test");
  EXPECT_EQ(a.commands[0].command, list);
  EXPECT_EQ(a.commands[1].command, "postcat -q A1111111111");
  EXPECT_EQ(a.commands[2].command, list + " | postsuper -h -");
  EXPECT_EQ(a.commands[3].command, list + " | postsuper -H -");
  EXPECT_EQ(a.commands[4].command, list + " | postsuper -d -");
  EXPECT_NE(a.note.find("enable_long_queue_ids"), std::string::npos);
}

TEST(PostfixOwnerActions, ConfigDirectoryIsQuoted) {
  OwnerQueue q;
  q.owner = "www-data";
  q.queue_ids = {"4XrRZV5Gxbz9tM1"};
  q.config_directory = "/etc/postfix-out's";
  ActionPlan a = OwnerActions(q);
  ASSERT_EQ(a.commands.size(), 5u);
  EXPECT_EQ(a.commands[0].what, "the queue ids of the 1 queued message of www-data");
  EXPECT_EQ(a.commands[1].command, "postcat -c '/etc/postfix-out'\\''s' -q 4XrRZV5Gxbz9tM1");
  EXPECT_EQ(a.commands[2].command,
            "printf '%s\\n' 4XrRZV5Gxbz9tM1 | postsuper -c '/etc/postfix-out'\\''s' -h -");
}

TEST(PostfixOwnerActions, NamesThatAreNotQueueIdsAreLeftOut) {
  OwnerQueue q;
  q.owner = "bob";
  q.queue_ids = {"A1111111111", "$(reboot)", "../x", ""};
  ActionPlan a = OwnerActions(q);
  ASSERT_EQ(a.commands.size(), 5u);
  EXPECT_EQ(a.commands[2].command, "printf '%s\\n' A1111111111 | postsuper -h -");
  EXPECT_EQ(a.note.rfind("3 name(s) that are not Postfix queue ids left out. ", 0), 0u);
  q.queue_ids = {"$(reboot)"};
  a = OwnerActions(q);
  EXPECT_TRUE(a.commands.empty());
  EXPECT_EQ(
      a.note,
      "1 name(s) that are not Postfix queue ids left out. no queued message of bob to act on");
  q.queue_ids.clear();
  a = OwnerActions(q);
  EXPECT_TRUE(a.commands.empty());
  EXPECT_EQ(a.note, "no queued message of bob to act on");
}

}  // namespace
}  // namespace mailrelay::postfix
