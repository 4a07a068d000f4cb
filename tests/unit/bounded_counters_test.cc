#include "metrics/bounded_counters.h"

#include <gtest/gtest.h>

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <prometheus/registry.h>

namespace mailrelay {
namespace {

// name{labels} -> value for one family, read through Collect() like a scrape.
std::map<std::string, double> Series(const std::vector<prometheus::MetricFamily>& families,
                                     const std::string& family) {
  std::map<std::string, double> out;
  for (const auto& f : families) {
    if (f.name != family) continue;
    for (const auto& m : f.metric) {
      std::string key;
      for (const auto& l : m.label) key += l.name + "=" + l.value + ",";
      out[key] = m.counter.value;
    }
  }
  return out;
}

std::map<std::string, double> Series(const prometheus::Collectable& c, const std::string& family) {
  return Series(c.Collect(), family);
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

// First count of a new series (live mode): exposed at 0, its increments held until a render
// through the ExposureTracker has shown that 0, then applied by that render as it ends.
class FirstCountTest : public ::testing::Test {
 protected:
  std::shared_ptr<prometheus::Registry> registry_ = std::make_shared<prometheus::Registry>();
  prometheus::Family<prometheus::Counter>& overflow_ =
      prometheus::BuildCounter().Name("overflow_total").Help("h").Register(*registry_);
  ExposureTracker tracker_{registry_};
  BoundedLimits Limits() {
    BoundedLimits limits;
    limits.exposure = &tracker_;
    return limits;
  }
};

TEST_F(FirstCountTest, NewSeriesShowsZeroInOneRenderThenItsCount) {
  BoundedCounters c(*registry_, {{"m_total", "h"}, {"r_total", "h"}}, {{"user", true}}, Limits(),
                    overflow_);
  c.Add({"alice"}, {1, 500}, 0);
  c.Flush();
  EXPECT_EQ(0, Series(*registry_, "r_total")["user=alice,"]);  // held: not applied by Flush
  EXPECT_EQ(1u, c.held_keys());
  auto first = tracker_.Collect();  // the scrape that sees the 0 ...
  EXPECT_EQ(0, Series(first, "r_total")["user=alice,"]);
  EXPECT_EQ(0, Series(first, "m_total")["user=alice,"]);
  auto second = tracker_.Collect();  // ... applied the count as it ended: no Flush needed
  EXPECT_EQ(500, Series(second, "r_total")["user=alice,"]);
  EXPECT_EQ(1, Series(second, "m_total")["user=alice,"]);
  c.Flush();
  EXPECT_EQ(0u, c.held_keys());
  c.Add({"alice"}, {1, 2}, 1);  // an existing series counts at the next Flush, as before
  c.Flush();
  EXPECT_EQ(502, Series(*registry_, "r_total")["user=alice,"]);
}

TEST_F(FirstCountTest, AmountsOfSeveralFlushesWaitTogether) {
  BoundedCounters c(*registry_, {{"u_total", "h"}}, {{"user", true}}, Limits(), overflow_);
  c.Add({"alice"}, {3}, 0);
  c.Flush();
  c.Add({"alice"}, {4}, 0);
  c.Add({"bob"}, {1}, 0);
  c.Flush();
  auto first = Series(tracker_, "u_total");
  EXPECT_EQ(0, first["user=alice,"]);
  EXPECT_EQ(0, first["user=bob,"]);
  c.Add({"alice"}, {5}, 0);  // after the render, before the Flush that forgets the hold
  c.Flush();
  auto s = Series(tracker_, "u_total");
  EXPECT_EQ(12, s["user=alice,"]);
  EXPECT_EQ(1, s["user=bob,"]);
}

TEST_F(FirstCountTest, RenderBeforeTheFirstFlushReleasesAtThatFlush) {
  BoundedCounters c(*registry_, {{"u_total", "h"}}, {{"user", true}}, Limits(), overflow_);
  c.Add({"alice"}, {7}, 0);  // the series exists (at 0) from here
  EXPECT_EQ(0, Series(tracker_, "u_total")["user=alice,"]);
  c.Flush();
  EXPECT_EQ(7, Series(*registry_, "u_total")["user=alice,"]);
  EXPECT_EQ(0u, c.held_keys());
}

// A render that had already collected the families when the series was created did not show
// it: the next render must, before the count is applied.
TEST_F(FirstCountTest, SeriesCreatedDuringARenderWaitsForTheNextRender) {
  struct Hooked : prometheus::Collectable {
    std::shared_ptr<prometheus::Registry> registry;
    std::function<void()> after;
    std::vector<prometheus::MetricFamily> Collect() const override {
      auto f = registry->Collect();
      if (after) after();
      return f;
    }
  };
  auto hooked = std::make_shared<Hooked>();
  hooked->registry = registry_;
  ExposureTracker tracker(hooked);
  BoundedLimits limits;
  limits.exposure = &tracker;
  BoundedCounters c(*registry_, {{"u_total", "h"}}, {{"user", true}}, limits, overflow_);
  hooked->after = [&c] {
    c.Add({"bob"}, {9}, 0);
    c.Flush();
  };
  auto first = Series(tracker, "u_total");
  EXPECT_EQ(0u, first.count("user=bob,"));  // collected before bob existed
  hooked->after = nullptr;
  EXPECT_EQ(0, Series(*registry_, "u_total")["user=bob,"]);  // that render did not release it
  EXPECT_EQ(0, Series(tracker, "u_total")["user=bob,"]);     // this one shows the 0 ...
  EXPECT_EQ(9, Series(tracker, "u_total")["user=bob,"]);     // ... and applies the count
}

TEST_F(FirstCountTest, OverflowSeriesIsHeldButTheOverflowCounterIsNot) {
  BoundedLimits limits = Limits();
  limits.max_series = 1;
  BoundedCounters c(*registry_, {{"u_total", "h"}}, {{"user", true}}, limits, overflow_);
  c.Add({"alice"}, {1}, 0);
  c.Add({"bob"}, {2}, 0);  // over the cap
  c.Flush();
  EXPECT_EQ(0, Series(*registry_, "u_total")["user=__overflow__,"]);
  EXPECT_EQ(1, Series(*registry_, "overflow_total")["metric=u_total,"]);  // exported from start
  Series(tracker_, "u_total");
  EXPECT_EQ(2, Series(*registry_, "u_total")["user=__overflow__,"]);
}

TEST_F(FirstCountTest, ExpiryKeepsAHeldSeriesAndARecreatedSeriesStartsAtZeroAgain) {
  BoundedLimits limits = Limits();
  limits.idle_timeout_seconds = 100;
  BoundedCounters c(*registry_, {{"u_total", "h"}}, {{"user", true}}, limits, overflow_);
  c.Add({"alice"}, {1}, 0);
  EXPECT_EQ(0u, c.Expire(1000));  // idle, but its first count was never shown: kept
  Series(tracker_, "u_total");
  EXPECT_EQ(1, Series(*registry_, "u_total")["user=alice,"]);
  EXPECT_EQ(1u, c.Expire(1000));
  EXPECT_TRUE(Series(*registry_, "u_total").empty());
  // The dormant account comes back with one message to 500 recipients.
  c.Add({"alice"}, {500}, 1001);
  c.Flush();
  EXPECT_EQ(0, Series(tracker_, "u_total")["user=alice,"]);
  EXPECT_EQ(500, Series(tracker_, "u_total")["user=alice,"]);
}

TEST_F(FirstCountTest, CountersDestroyedBeforeTheTrackerAreForgotten) {
  {
    BoundedCounters c(*registry_, {{"u_total", "h"}}, {{"user", true}}, Limits(), overflow_);
    c.Add({"alice"}, {1}, 0);
    c.Flush();
  }
  tracker_.Collect();  // must not call into the destroyed counters
  EXPECT_EQ(1u, tracker_.renders_finished());
}

// A render thread scraping in a loop while keys are created and counted: every series is first
// seen at 0, and every count arrives exactly.
TEST_F(FirstCountTest, ConcurrentRendersSeeEveryNewSeriesAtZeroFirst) {
  constexpr int kKeys = 3000;
  BoundedLimits limits = Limits();
  limits.max_series = kKeys;
  BoundedCounters c(*registry_, {{"u_total", "h"}}, {{"user", true}}, limits, overflow_);
  std::atomic<bool> done{false};
  std::map<std::string, double> first_seen;
  std::thread renderer([&] {
    while (!done.load()) {
      for (const auto& [key, value] : Series(tracker_, "u_total")) first_seen.emplace(key, value);
    }
  });
  for (int i = 0; i < kKeys; ++i) {
    const std::string user = "user" + std::to_string(i);
    c.Add({user}, {static_cast<double>(i % 7 + 1)}, 0);
    if (i % 3 == 0) c.Add({"user" + std::to_string(i / 2)}, {1}, 0);
    if (i % 10 == 0) c.Flush();
  }
  c.Flush();
  done = true;
  renderer.join();
  for (const auto& [key, value] : Series(tracker_, "u_total")) first_seen.emplace(key, value);
  Series(tracker_, "u_total");
  c.Flush();
  auto final_values = Series(*registry_, "u_total");
  ASSERT_EQ(static_cast<std::size_t>(kKeys), final_values.size());
  std::map<std::string, double> want;
  for (int i = 0; i < kKeys; ++i) {
    want["user=user" + std::to_string(i) + ","] += i % 7 + 1;
    if (i % 3 == 0) want["user=user" + std::to_string(i / 2) + ","] += 1;
  }
  for (const auto& [key, value] : want) {
    EXPECT_EQ(value, final_values[key]) << key;
    ASSERT_EQ(1u, first_seen.count(key)) << key;
    EXPECT_EQ(0, first_seen[key]) << key;
  }
  EXPECT_EQ(0u, c.held_keys());
}

}  // namespace
}  // namespace mailrelay
