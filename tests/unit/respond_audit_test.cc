// The audit log (respond/audit.h): every line is one valid JSON object (read back with the
// project's JSON reader), whatever bytes the alert carried, and concurrent appends never
// interleave.
#include "respond/audit.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>
#include <vector>

#include "common/json.h"
#include "status_matchers.h"

namespace mailrelay::respond {
namespace {

TEST(RespondAudit, JsonLineIsValidJsonForAnyBytes) {
  std::string nasty = "bob\n\"evil\\";
  nasty += '\xff';
  nasty += "\xc3(";
  nasty += '\x01';
  std::string line = JsonLine()
                         .Str("account", nasty)
                         .Str("plain", "bob@example.com")
                         .Int("n", -3)
                         .Num("seconds", 0.25)
                         .Bool("ok", true)
                         .StrArray("argv", {"/usr/sbin/exim4", "-Mf", nasty})
                         .Raw("steps", JsonLine().Str("status", "ok").Finish())
                         .Finish();
  JsonValue v;
  ASSERT_TRUE(IsOk(ParseJson(line, &v))) << line;
  EXPECT_EQ(std::string::npos, line.find('\n'));
  std::string plain, account, hex;
  ASSERT_TRUE(JsonGetString(v, "plain", &plain));
  EXPECT_EQ("bob@example.com", plain);
  EXPECT_EQ(nullptr, v.Member("plain_hex"));  // clean values get no hex copy
  ASSERT_TRUE(JsonGetString(v, "account", &account));
  EXPECT_EQ(
      "bob?\"evil\\?"
      "?(?",
      account);
  ASSERT_TRUE(JsonGetString(v, "account_hex", &hex));
  EXPECT_EQ("626f620a226576696c5cffc32801", hex);  // the raw bytes, for the record
  EXPECT_EQ(-3, v.Member("n")->integer);
  EXPECT_TRUE(v.Member("ok")->boolean);
  ASSERT_EQ(3u, v.Member("argv")->array.size());
  EXPECT_EQ("ok", v.Member("steps")->Member("status")->string);
  EXPECT_EQ("{}", JsonLine().Finish());
}

TEST(RespondAudit, AppendsWholeLinesFromManyThreads) {
  char tmpl[] = "/tmp/respond_audit_test.XXXXXX";
  ASSERT_NE(nullptr, mkdtemp(tmpl));
  const std::string path = std::string(tmpl) + "/audit.jsonl";
  {
    AuditLog log(path);
    ASSERT_TRUE(IsOk(log.Open()));
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
      threads.emplace_back([&log, t] {
        for (int i = 0; i < 200; ++i) {
          ASSERT_TRUE(IsOk(log.Append(JsonLine()
                                          .Int("thread", t)
                                          .Int("i", i)
                                          .Str("pad", std::string(3000, 'x'))
                                          .Finish())));
        }
      });
    }
    for (auto& th : threads) th.join();
  }
  {
    AuditLog again(path);  // reopened: appends, never truncates
    ASSERT_TRUE(IsOk(again.Open()));
    ASSERT_TRUE(IsOk(again.Append(JsonLine().Str("event", "last").Finish())));
  }
  struct stat st {};
  ASSERT_EQ(0, ::stat(path.c_str(), &st));
  EXPECT_EQ(0640u, st.st_mode & 0777);
  std::ifstream in(path);
  std::string line;
  int lines = 0;
  while (std::getline(in, line)) {
    JsonValue v;
    ASSERT_TRUE(IsOk(ParseJson(line, &v))) << "line " << lines;
    ++lines;
  }
  EXPECT_EQ(801, lines);
  AuditLog bad(std::string(tmpl) + "/no/such/dir/audit.jsonl");
  Status opened = bad.Open();
  EXPECT_FALSE(opened.ok());
  EXPECT_NE(std::string::npos, opened.message().find("audit log"));
  std::filesystem::remove_all(tmpl);
}

}  // namespace
}  // namespace mailrelay::respond
