// The hold list (respond/hold_list.h): the file format both MTA snippets read, edits that keep
// an admin's lines, atomic rewrites, and read-modify-writes serialised across threads (each
// with its own open file, as two processes would be).
#include "respond/hold_list.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>
#include <vector>

#include "common/file_io.h"
#include "status_matchers.h"

namespace mailrelay::respond {
namespace {

TEST(RespondHoldList, UtcTimes) {
  EXPECT_EQ("2026-11-23T10:00:00Z", FormatUtc(1795428000));
  EXPECT_EQ(1795428000, ParseUtc("2026-11-23T10:00:00Z"));
  EXPECT_EQ(1795428000, ParseUtc("2026-11-23T11:00:00+01:00"));
  EXPECT_EQ(1795428000, ParseUtc("2026-11-23T10:00:00.52Z"));  // Alertmanager's startsAt
  EXPECT_EQ(1795428000, ParseUtc("2026-11-23T10:00:00.123456789Z"));
  EXPECT_EQ(0, ParseUtc("2026-11-23 10:00:00"));
  EXPECT_EQ(0, ParseUtc("2026-11-23T10:00:00Zjunk"));
  EXPECT_EQ(0, ParseUtc(""));
}

TEST(RespondHoldList, LineFormat) {
  HoldEntry e{"bob@example.com", 1795428000, "MailRelayAuthrelayHigh", "webhook"};
  EXPECT_EQ(
      "bob@example.com HOLD held by mailrelay_exporter respond since=2026-11-23T10:00:00Z "
      "alert=MailRelayAuthrelayHigh by=webhook",
      HoldListText::FormatLine(e));
  e.alert = "Bad alert\nname";  // never written into a line
  EXPECT_EQ(
      "bob@example.com HOLD held by mailrelay_exporter respond since=2026-11-23T10:00:00Z "
      "by=webhook",
      HoldListText::FormatLine(e));
}

TEST(RespondHoldList, EditsKeepEverythingElse) {
  const std::string text =
      "# the admin's comment\n"
      "vip@example.com HOLD by hand\n"
      "\n"
      "carol HOLD held by mailrelay_exporter respond since=2026-11-23T09:00:00Z "
      "alert=MailRelayLocalrelayHigh by=webhook\n"
      "  a continuation line of carol's\n"
      "Bob@Example.com HOLD held by mailrelay_exporter respond since=2026-11-23T10:00:00Z\n";
  HoldListText list = HoldListText::Parse(text);
  EXPECT_EQ(text, list.Serialize());
  std::vector<HoldEntry> entries = list.Entries();
  ASSERT_EQ(3u, entries.size());
  EXPECT_EQ("vip@example.com", entries[0].account);
  EXPECT_EQ(0, entries[0].since);
  EXPECT_EQ("carol", entries[1].account);
  EXPECT_EQ(ParseUtc("2026-11-23T09:00:00Z"), entries[1].since);
  EXPECT_EQ("MailRelayLocalrelayHigh", entries[1].alert);
  EXPECT_EQ("webhook", entries[1].by);
  ASSERT_TRUE(list.Find("bob@example.com"));  // case-insensitive, like lsearch and postmap
  EXPECT_EQ("Bob@Example.com", list.Find("BOB@example.com")->account);
  EXPECT_FALSE(list.Find("bob"));

  EXPECT_FALSE(list.Add({"BOB@EXAMPLE.COM", 1, "", ""}));
  EXPECT_TRUE(list.Add({"dave", 1795428000, "MailRelayAuthrelayHigh", "webhook"}));
  EXPECT_TRUE(list.Remove("CAROL"));  // with its continuation line
  EXPECT_FALSE(list.Remove("carol"));
  EXPECT_EQ(
      "# the admin's comment\n"
      "vip@example.com HOLD by hand\n"
      "\n"
      "Bob@Example.com HOLD held by mailrelay_exporter respond since=2026-11-23T10:00:00Z\n"
      "dave HOLD held by mailrelay_exporter respond since=2026-11-23T10:00:00Z "
      "alert=MailRelayAuthrelayHigh by=webhook\n",
      list.Serialize());
}

TEST(RespondHoldList, ReleaseComments) {
  HoldListText list = HoldListText::Parse("bob HOLD x\n#released Carol 2026-11-23T09:00:00Z\n");
  EXPECT_EQ(ParseUtc("2026-11-23T09:00:00Z"), list.ReleasedAt("carol"));
  EXPECT_EQ(0, list.ReleasedAt("bob"));
  EXPECT_EQ(1u, list.Entries().size());  // a comment to the MTAs
  list.Remove("bob");
  list.MarkReleased("bob", ParseUtc("2026-11-23T10:00:00Z"));
  list.MarkReleased("carol", ParseUtc("2026-11-23T11:00:00Z"));  // replaces the older one
  EXPECT_EQ(
      "#released bob 2026-11-23T10:00:00Z\n"
      "#released carol 2026-11-23T11:00:00Z\n",
      list.Serialize());
  list.ClearReleased("BOB");
  EXPECT_EQ(0, list.ReleasedAt("bob"));
  EXPECT_EQ("#released carol 2026-11-23T11:00:00Z\n", list.Serialize());
  EXPECT_TRUE(list.Entries().empty());
}

TEST(RespondHoldList, NewListStartsWithItsHeader) {
  HoldListText list;
  EXPECT_TRUE(list.Entries().empty());
  ASSERT_TRUE(list.Add({"bob", 1795428000, "", "cli"}));
  std::string text = list.Serialize();
  EXPECT_EQ(0u, text.find("# mailrelay_exporter respond: accounts whose mail is held"));
  EXPECT_NE(std::string::npos, text.find("\nbob HOLD held by mailrelay_exporter respond "
                                         "since=2026-11-23T10:00:00Z by=cli\n"));
  ASSERT_EQ(1u, HoldListText::Parse(text).Entries().size());
  ASSERT_TRUE(list.Remove("bob"));
  EXPECT_TRUE(HoldListText::Parse(list.Serialize()).Entries().empty());
}

class RespondHoldListFile : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/respond_hold_list_test.XXXXXX";
    ASSERT_NE(nullptr, mkdtemp(tmpl));
    dir_ = tmpl;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string dir_;
};

TEST_F(RespondHoldListFile, MissingIsEmptyAndWritesAreAtomic) {
  HoldListFile file(dir_ + "/hold-list");
  StatusOr<HoldListText> list = file.Read();
  ASSERT_TRUE(IsOk(list));
  EXPECT_TRUE(list->Entries().empty());
  ASSERT_TRUE(list->Add({"bob", 1795428000, "", "webhook"}));
  ::umask(077);  // the MTA must read it whatever respond's umask
  ASSERT_TRUE(IsOk(file.Write(*list)));
  ::umask(022);
  struct stat st {};
  ASSERT_EQ(0, ::stat(file.path().c_str(), &st));
  EXPECT_EQ(0644u, st.st_mode & 0777);
  EXPECT_FALSE(std::filesystem::exists(file.path() + ".tmp"));
  StatusOr<HoldListText> again = file.Read();
  ASSERT_TRUE(IsOk(again));
  EXPECT_TRUE(again->Find("bob"));
  // A directory where the list should be: an error naming it, never a crash.
  HoldListFile bad(dir_);
  EXPECT_FALSE(bad.Read().ok());
  EXPECT_FALSE(bad.Write(*list).ok());
}

TEST_F(RespondHoldListFile, ConcurrentEditsLoseNothing) {
  const std::string path = dir_ + "/hold-list";
  constexpr int kThreads = 8;
  constexpr int kPerThread = 25;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&path, t] {
      HoldListFile file(path);  // its own lock file descriptor, as another process has
      for (int i = 0; i < kPerThread; ++i) {
        auto lock = file.Acquire();
        ASSERT_TRUE(IsOk(lock));
        StatusOr<HoldListText> list = file.Read();
        ASSERT_TRUE(IsOk(list));
        std::string account = "user" + std::to_string(t) + "-" + std::to_string(i);
        ASSERT_TRUE(list->Add({account, 1795428000 + i, "", "webhook"}));
        // Every other one is released again by the same thread later.
        if (i % 2 == 1) {
          ASSERT_TRUE(list->Remove("user" + std::to_string(t) + "-" + std::to_string(i - 1)));
        }
        ASSERT_TRUE(IsOk(file.Write(*list)));
      }
    });
  }
  for (auto& th : threads) th.join();
  StatusOr<HoldListText> list = HoldListFile(path).Read();
  ASSERT_TRUE(IsOk(list));
  std::size_t expected = 0;
  for (int t = 0; t < kThreads; ++t) {
    for (int i = 0; i < kPerThread; ++i) {
      std::string account = "user" + std::to_string(t) + "-" + std::to_string(i);
      const bool kept = i % 2 == 1 || i == kPerThread - 1;
      expected += kept ? 1 : 0;
      EXPECT_EQ(kept, list->Find(account).has_value()) << account;
    }
  }
  EXPECT_EQ(expected, list->Entries().size());
}

}  // namespace
}  // namespace mailrelay::respond
