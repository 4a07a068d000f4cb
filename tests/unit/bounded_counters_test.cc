#include "metrics/bounded_counters.h"

#include <gtest/gtest.h>

#include <map>
#include <string>

#include <prometheus/registry.h>

namespace mailrelay {
namespace {

// name{labels} -> value for one family, read through Collect() like a scrape.
std::map<std::string, double> Series(prometheus::Registry& registry, const std::string& family) {
  std::map<std::string, double> out;
  for (const auto& f : registry.Collect()) {
    if (f.name != family) continue;
    for (const auto& m : f.metric) {
      std::string key;
      for (const auto& l : m.label) key += l.name + "=" + l.value + ",";
      out[key] = m.counter.value;
    }
  }
  return out;
}

class BoundedCountersTest : public ::testing::Test {
 protected:
  prometheus::Registry registry_;
  prometheus::Family<prometheus::Counter>& overflow_ =
      prometheus::BuildCounter().Name("overflow_total").Help("h").Register(registry_);
};

TEST_F(BoundedCountersTest, CapsSeriesAndCountsOverflow) {
  BoundedLimits limits;
  limits.max_series = 2;
  BoundedCounters c(registry_, {{"msgs_total", "h"}, {"rcpts_total", "h"}},
                    {{"class", false}, {"ip", true}}, limits, overflow_);
  c.Add({"relay", "192.0.2.1"}, {1, 3}, 0);
  c.Add({"relay", "192.0.2.2"}, {1, 1}, 0);
  c.Add({"relay", "192.0.2.3"}, {1, 2}, 0);      // over the cap
  c.Add({"authrelay", "192.0.2.4"}, {1, 5}, 0);  // over the cap, class kept
  c.Add({"relay", "192.0.2.1"}, {1, 1}, 0);      // existing key still counts
  c.Flush();
  auto msgs = Series(registry_, "msgs_total");
  EXPECT_EQ(4u, msgs.size());
  EXPECT_EQ(2, msgs["class=relay,ip=192.0.2.1,"]);
  EXPECT_EQ(1, msgs["class=relay,ip=__overflow__,"]);
  EXPECT_EQ(1, msgs["class=authrelay,ip=__overflow__,"]);
  auto rcpts = Series(registry_, "rcpts_total");
  EXPECT_EQ(4, rcpts["class=relay,ip=192.0.2.1,"]);
  EXPECT_EQ(5, rcpts["class=authrelay,ip=__overflow__,"]);
  auto overflow = Series(registry_, "overflow_total");
  EXPECT_EQ(2, overflow["metric=msgs_total,"]);
  EXPECT_EQ(2, overflow["metric=rcpts_total,"]);
}

TEST_F(BoundedCountersTest, ExpiresIdleSeriesAndFreesSlots) {
  BoundedLimits limits;
  limits.max_series = 1;
  limits.idle_timeout_seconds = 100;
  BoundedCounters c(registry_, {{"u_total", "h"}}, {{"user", true}}, limits, overflow_);
  c.Add({"alice"}, {1}, 1000);
  c.Add({"bob"}, {1}, 1050);  // overflow
  EXPECT_EQ(0u, c.Expire(1100));
  EXPECT_EQ(2u, c.Expire(1200));  // alice and the overflow series are idle
  EXPECT_TRUE(Series(registry_, "u_total").empty());
  c.Add({"bob"}, {1}, 1201);
  c.Flush();
  auto s = Series(registry_, "u_total");
  ASSERT_EQ(1u, s.size());
  EXPECT_EQ(1, s["user=bob,"]);
}

TEST_F(BoundedCountersTest, SanitisesHostileValuesIntoOneSeries) {
  BoundedLimits limits;
  limits.max_label_bytes = 8;
  BoundedCounters c(registry_, {{"u_total", "h"}}, {{"user", true}}, limits, overflow_);
  c.Add({std::string_view("ab\x01\xff", 4)}, {1}, 0);
  c.Add({std::string_view("ab\x02\xfe", 4)}, {1}, 0);  // sanitises to the same value
  c.Add({"0123456789abcdef"}, {1}, 0);
  c.Flush();
  auto s = Series(registry_, "u_total");
  EXPECT_EQ(2, s["user=ab??,"]);
  EXPECT_EQ(1, s["user=01234567,"]);
  EXPECT_EQ(2u, c.live_keys());
  // Expiring must not leave a dangling series behind (both raw values shared one key).
  EXPECT_EQ(2u, c.Expire(1000000));
}

TEST_F(BoundedCountersTest, BatchesAmountsUntilFlush) {
  BoundedLimits limits;
  limits.max_series = 1;
  BoundedCounters c(registry_, {{"u_total", "h"}}, {{"user", true}}, limits, overflow_);
  c.Add({"alice"}, {1}, 0);
  c.Add({"bob"}, {1}, 0);  // overflow
  auto before = Series(registry_, "u_total");
  EXPECT_EQ(0, before["user=alice,"]);  // the series exists at once, at 0
  EXPECT_EQ(0, Series(registry_, "overflow_total")["metric=u_total,"]);
  for (int i = 0; i < 1000; ++i) c.Add({"alice"}, {2}, 0);
  c.Flush();
  c.Flush();  // nothing pending: no change
  auto s = Series(registry_, "u_total");
  EXPECT_EQ(2001, s["user=alice,"]);
  EXPECT_EQ(1, s["user=__overflow__,"]);
  EXPECT_EQ(1, Series(registry_, "overflow_total")["metric=u_total,"]);
}

// A user named "__overflow__" shares the overflow series instead of a series with the same
// labels (both would hold one prometheus-cpp counter; expiring one freed the other's).
TEST_F(BoundedCountersTest, ValueNamedOverflowCountsInTheOverflowSeries) {
  BoundedLimits limits;
  limits.max_series = 10;
  limits.idle_timeout_seconds = 100;
  BoundedCounters c(registry_, {{"u_total", "h"}}, {{"user", true}}, limits, overflow_);
  c.Add({"__overflow__"}, {1}, 0);
  c.Add({"alice"}, {1}, 0);
  c.Add({"__overflow__"}, {2}, 50);
  c.Flush();
  auto s = Series(registry_, "u_total");
  EXPECT_EQ(2u, s.size());
  EXPECT_EQ(3, s["user=__overflow__,"]);
  EXPECT_EQ(2, Series(registry_, "overflow_total")["metric=u_total,"]);
  EXPECT_EQ(1u, c.live_keys());
  EXPECT_EQ(1u, c.Expire(120));  // alice only
  c.Add({"__overflow__"}, {1}, 121);
  c.Flush();
  EXPECT_EQ(4, Series(registry_, "u_total")["user=__overflow__,"]);
}

}  // namespace
}  // namespace mailrelay
