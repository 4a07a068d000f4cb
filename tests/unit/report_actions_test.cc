#include "common/text.h"
#include "mta/exim/actions.h"
#include "mta/postfix/actions.h"

#include <gtest/gtest.h>

#include <string>

namespace mailrelay {
namespace {

TEST(ReportActions, Quoting) {
  EXPECT_EQ("'plain'", ShellQuote("plain"));
  EXPECT_EQ("'it'\\''s'", ShellQuote("it's"));
  EXPECT_EQ("''", ShellQuote(""));
  EXPECT_EQ("a\\.b\\+c@d\\(e\\)\\$", exim::PerlRegexLiteral("a.b+c@d(e)$"));
  EXPECT_EQ("bob@mx.example.test", exim::ExipickStringLiteral("bob@mx.example.test"));
  EXPECT_EQ("a\\\\b\\\"c\\$d@", exim::ExipickStringLiteral("a\\b\"c$d@"));
}

ActionRequest Req(const std::string& identity, const std::string& kind, const std::string& sender) {
  ActionRequest r;
  r.identity = identity;
  r.kind = kind;
  r.sender = sender;
  return r;
}

std::string All(const ActionPlan& o) {
  std::string s;
  for (const auto& c : o.commands) s += c.command + "\n";
  return s;
}

TEST(ReportActions, EximAuthUser) {
  ActionPlan o = exim::SuggestActions(
      Req("bob@mx.example.test", "auth_user", "bob@mx.example.test"), "/var/spool/exim4");
  ASSERT_GE(o.commands.size(), 5u);
  EXPECT_TRUE(o.note.empty());
  EXPECT_EQ(
      "exipick --spool '/var/spool/exim4' -bpc '$authenticated_id eq \"bob@mx.example.test\"'",
      o.commands[0].command);
  EXPECT_EQ(
      "exipick --spool '/var/spool/exim4' -i '$authenticated_id eq "
      "\"bob@mx.example.test\"' | xargs -r exim -Mf",
      o.commands[1].command);
  EXPECT_EQ("exiqgrep -i -f '^<bob@mx\\.example\\.test>$' | xargs -r exim -Mf",
            o.commands[2].command);
  const std::string all = All(o);
  EXPECT_NE(std::string::npos, all.find("| xargs -r exim -Mrm\n"));
  EXPECT_NE(std::string::npos, all.find("exiqgrep -z -i -f '^<>$' | xargs -r exim -Mrm"));
}

TEST(ReportActions, EximLocalUserAndQueueOwner) {
  ActionPlan o = exim::SuggestActions(Req("www-data", "local_user", ""), "");
  EXPECT_EQ("exipick -bpc '$sender_ident eq \"www-data\"' '!$sender_host_address'",
            o.commands[0].command);
  EXPECT_EQ(std::string::npos, All(o).find("exiqgrep -i -f '^<"));  // no sender known

  ActionPlan q = exim::SuggestActions(Req("carol", "queue_owner", "carol@x"), "");
  EXPECT_EQ("exipick -bpc --or '$authenticated_id eq \"carol\"' '$sender_ident eq \"carol\"'",
            q.commands[0].command);

  ActionPlan s =
      exim::SuggestActions(Req("news@example.org", "queue_sender", "news@example.org"), "");
  EXPECT_EQ("exiqgrep -c -f '^<news@example\\.org>$'", s.commands[0].command);
  EXPECT_EQ(std::string::npos, All(s).find("exipick"));
}

TEST(ReportActions, HostileIdentities) {
  ActionPlan o = exim::SuggestActions(Req("o'brien\"$x@y", "auth_user", ""), "");
  // Shell: the single quote closes, escapes and reopens; Perl: " and $ are backslashed.
  EXPECT_EQ("exipick -bpc '$authenticated_id eq \"o'\\''brien\\\"\\$x@y\"'", o.commands[0].command);

  ActionPlan bad = exim::SuggestActions(Req("evil\nrm -rf /", "auth_user", ""), "");
  EXPECT_TRUE(bad.commands.empty());
  EXPECT_FALSE(bad.note.empty());
}

TEST(ReportActions, Postfix) {
  ActionPlan o =
      postfix::SuggestActions(Req("alice@mx.example.test", "auth_user", "ceo@bank.example"), "");
  const std::string ids =
      "postqueue -j | jq -r --arg s 'ceo@bank.example' 'select(.sender == $s) | .queue_id'";
  ASSERT_GE(o.commands.size(), 4u);
  EXPECT_EQ(ids, o.commands[0].command);
  EXPECT_EQ(ids + " | postsuper -h -", o.commands[1].command);
  EXPECT_NE(std::string::npos, All(o).find(ids + " | postsuper -d -\n"));
  EXPECT_NE(std::string::npos,
            All(o).find("'select(.sender == \"\" or .sender == \"MAILER-DAEMON\") | .queue_id' | "
                        "postsuper -d -"));

  ActionPlan none = postfix::SuggestActions(Req("alice@mx.example.test", "auth_user", ""), "");
  EXPECT_TRUE(none.commands.empty());
  EXPECT_NE(std::string::npos, none.note.find("sender"));
}

}  // namespace
}  // namespace mailrelay
