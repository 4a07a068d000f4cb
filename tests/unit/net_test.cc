#include "common/net.h"

#include <gtest/gtest.h>

namespace mailrelay {
namespace {

TEST(Net, ParseIp) {
  EXPECT_TRUE(ParseIp("192.0.2.1").has_value());
  EXPECT_TRUE(ParseIp("[2001:db8::1]").has_value());
  EXPECT_TRUE(ParseIp("fe80::1%eth0").has_value());
  EXPECT_FALSE(ParseIp("V4NET.11.12.13").has_value());
  EXPECT_FALSE(ParseIp("").has_value());
  EXPECT_FALSE(ParseIp("1.2.3.4.5").has_value());
  auto mapped = ParseIp("::ffff:192.0.2.7");
  ASSERT_TRUE(mapped.has_value());
  EXPECT_FALSE(mapped->v6);
  EXPECT_EQ("192.0.2.7", mapped->ToString());
}

TEST(Net, CidrSet) {
  CidrSet set;
  EXPECT_TRUE(set.Add("127.0.0.0/8"));
  EXPECT_TRUE(set.Add("::1/128"));
  EXPECT_TRUE(set.Add("10.1.2.0/23"));
  EXPECT_TRUE(set.Add("192.0.2.5"));
  EXPECT_FALSE(set.Add("10.0.0.0/33"));
  EXPECT_FALSE(set.Add("nonsense/8"));
  EXPECT_FALSE(set.Add("10.0.0.0/x"));
  EXPECT_TRUE(set.Contains(*ParseIp("127.255.0.1")));
  EXPECT_TRUE(set.Contains(*ParseIp("::1")));
  EXPECT_TRUE(set.Contains(*ParseIp("10.1.3.255")));
  EXPECT_FALSE(set.Contains(*ParseIp("10.1.4.0")));
  EXPECT_TRUE(set.Contains(*ParseIp("192.0.2.5")));
  EXPECT_FALSE(set.Contains(*ParseIp("192.0.2.6")));
  EXPECT_FALSE(set.Contains(*ParseIp("::2")));
  EXPECT_TRUE(set.Contains(*ParseIp("::ffff:127.0.0.1")));
}

TEST(Net, LocalInterfacesIncludeLoopback) {
  bool found = false;
  for (const auto& ip : LocalInterfaceAddresses()) found = found || ip.ToString() == "127.0.0.1";
  EXPECT_TRUE(found);
}

}  // namespace
}  // namespace mailrelay
