// NameForUidInPasswd: uid -> name from passwd(5) text, as the static build resolves Postfix's
// uid= without NSS; the reverse (UidForNameInPasswd, for respond's held local users);
// LookupUidName and LookupUserUid on this machine's /etc/passwd.
#include "common/passwd.h"

#include <gtest/gtest.h>

namespace mailrelay {
namespace {

TEST(Passwd, NameOfTheFirstEntryWithTheUid) {
  const char* passwd =
      "root:x:0:0:root:/root:/bin/bash\n"
      "# a comment:x:5:5\n"
      "+nisuser:x:7:7::/:\n"
      "garbage line\n"
      "short:x\n"
      "www-data:x:33:33:www-data:/var/www:/usr/sbin/nologin\n"
      "alias:x:33:33::/:\n"
      "bob:x:1000:1000:Bob,,,:/home/bob:/bin/bash";  // no final newline
  EXPECT_EQ("root", NameForUidInPasswd(passwd, 0));
  EXPECT_EQ("www-data", NameForUidInPasswd(passwd, 33));
  EXPECT_EQ("bob", NameForUidInPasswd(passwd, 1000));
  EXPECT_EQ("", NameForUidInPasswd(passwd, 5));  // only in a comment
  EXPECT_EQ("", NameForUidInPasswd(passwd, 7));  // NIS include line
  EXPECT_EQ("", NameForUidInPasswd(passwd, 4242));
  EXPECT_EQ("", NameForUidInPasswd("", 0));
  EXPECT_EQ("", NameForUidInPasswd("x:y:notanumber:0\n:x:0:0\n", 0));
}

TEST(Passwd, UidOfTheFirstEntryWithTheName) {
  const char* passwd =
      "root:x:0:0:root:/root:/bin/bash\n"
      "#hidden:x:5:5\n"
      "+nisuser:x:7:7::/:\n"
      "www-data:x:33:33:www-data:/var/www:/usr/sbin/nologin\n"
      "www-data:x:34:34::/:\n"
      "big:x:4294967296:0::/:\n"
      "bob:x:1000:1000:Bob,,,:/home/bob:/bin/bash";
  EXPECT_EQ(0u, UidForNameInPasswd(passwd, "root"));
  EXPECT_EQ(33u, UidForNameInPasswd(passwd, "www-data"));
  EXPECT_EQ(1000u, UidForNameInPasswd(passwd, "bob"));
  EXPECT_FALSE(UidForNameInPasswd(passwd, "#hidden").has_value());
  EXPECT_FALSE(UidForNameInPasswd(passwd, "nisuser").has_value());
  EXPECT_FALSE(UidForNameInPasswd(passwd, "big").has_value());  // not a 32-bit uid
  EXPECT_FALSE(UidForNameInPasswd(passwd, "bo").has_value());
  EXPECT_FALSE(UidForNameInPasswd("", "root").has_value());
}

TEST(Passwd, LookupOnThisMachine) {
  EXPECT_EQ("root", LookupUidName(0));
  EXPECT_EQ("", LookupUidName(4000000000u));
  EXPECT_EQ(0u, LookupUserUid("root"));
  EXPECT_FALSE(LookupUserUid("no-such-user-mailrelay").has_value());
}

}  // namespace
}  // namespace mailrelay
