#include "http/text_exposition.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/summary.h>
#include <prometheus/text_serializer.h>

namespace mailrelay {
namespace {

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;

std::string Reference(const std::vector<MetricFamily>& families) {
  std::ostringstream out;
  prometheus::TextSerializer().Serialize(out, families);
  return out.str();
}

std::string Ours(const std::vector<MetricFamily>& families) {
  std::string out;
  AppendTextExposition(families, &out);
  return out;
}

std::string Value(double v) {
  std::string out;
  AppendSampleValue(v, &out);
  return out;
}

TEST(TextExpositionTest, SampleValues) {
  EXPECT_EQ(Value(0), "0");
  EXPECT_EQ(Value(-0.0), "-0");
  EXPECT_EQ(Value(7), "7");
  EXPECT_EQ(Value(-7), "-7");
  EXPECT_EQ(Value(0.25), "0.25");
  EXPECT_EQ(Value(0.1 + 0.2), "0.3");  // 16 significant digits, as prometheus-cpp
  EXPECT_EQ(Value(123456789), "123456789");
  EXPECT_EQ(Value(9007199254740991.0), "9007199254740991");
  EXPECT_EQ(Value(1e16), "1e+16");
  EXPECT_EQ(Value(2e21), "2e+21");
  EXPECT_EQ(Value(1.5e-7), "1.5e-07");
  EXPECT_EQ(Value(1700000000.123), "1700000000.123");
  EXPECT_EQ(Value(std::nan("")), "Nan");
  EXPECT_EQ(Value(std::numeric_limits<double>::infinity()), "+Inf");
  EXPECT_EQ(Value(-std::numeric_limits<double>::infinity()), "-Inf");
}

// The same text as prometheus-cpp's TextSerializer for every kind of family and value it can
// collect, including label values that need escaping and timestamps.
TEST(TextExpositionTest, SameAsPrometheusCppSerializer) {
  std::mt19937_64 rng(20261123);
  const std::vector<double> specials = {0.0,
                                        -0.0,
                                        1.0,
                                        0.5,
                                        1e-300,
                                        4.9e-324,
                                        1e15,
                                        1e16,
                                        9007199254740992.0,
                                        9007199254740993.0,
                                        18446744073709551616.0,
                                        -1e22,
                                        std::numeric_limits<double>::max(),
                                        std::numeric_limits<double>::infinity(),
                                        -std::numeric_limits<double>::infinity(),
                                        std::nan("")};
  auto random_value = [&]() -> double {
    switch (rng() % 5) {
      case 0:
        return specials[rng() % specials.size()];
      case 1:
        return static_cast<double>(rng() % 100000);
      case 2:
        return static_cast<double>(rng() >> (rng() % 64));
      case 3: {
        std::uniform_real_distribution<double> d(-1e6, 1e6);
        return d(rng);
      }
      default: {
        std::uint64_t bits = rng();
        double d;
        static_assert(sizeof d == sizeof bits);
        std::memcpy(&d, &bits, sizeof d);
        return d;
      }
    }
  };
  const std::vector<std::string> values = {"",         "a",           "alice@example.com",
                                           "quote\"d", "back\\slash", "new\nline",
                                           "\\\"\n",   "ünï",         "\x01\x7f"};
  std::vector<MetricFamily> families;
  const MetricType types[] = {MetricType::Counter, MetricType::Gauge, MetricType::Untyped,
                              MetricType::Summary, MetricType::Histogram};
  for (int f = 0; f < 40; ++f) {
    MetricFamily family;
    family.name = "mailrelay_test_" + std::to_string(f);
    family.help = f % 7 == 0 ? "" : "Help text number " + std::to_string(f) + ".";
    family.type = types[f % 5];
    for (int s = 0; s < 25; ++s) {
      ClientMetric m;
      for (int l = 0; l < static_cast<int>(rng() % 3); ++l) {
        m.label.push_back({"l" + std::to_string(l), values[rng() % values.size()]});
      }
      m.counter.value = random_value();
      m.gauge.value = random_value();
      m.untyped.value = random_value();
      m.summary.sample_count = rng();
      m.summary.sample_sum = random_value();
      for (int q = 0; q < static_cast<int>(rng() % 4); ++q) {
        m.summary.quantile.push_back({random_value(), random_value()});
      }
      m.histogram.sample_count = rng();
      m.histogram.sample_sum = random_value();
      for (int b = 0; b < static_cast<int>(rng() % 5); ++b) {
        m.histogram.bucket.push_back(
            {rng(), b == 4 ? std::numeric_limits<double>::infinity() : random_value()});
      }
      if (rng() % 4 == 0) m.timestamp_ms = static_cast<std::int64_t>(rng() >> 1) * -1;
      if (rng() % 4 == 0) m.timestamp_ms = 1700000000000;
      family.metric.push_back(std::move(m));
    }
    families.push_back(std::move(family));
  }
  std::string expected = Reference(families);
  std::string got = Ours(families);
  ASSERT_GT(expected.size(), 10000u);
  EXPECT_EQ(got, expected);
}

// A registry as the exporter has them: the writer and TextSerializer agree after sorting.
TEST(TextExpositionTest, SameAsPrometheusCppForRegistry) {
  prometheus::Registry registry;
  auto& counters = prometheus::BuildCounter()
                       .Name("mailrelay_auth_user_messages_total")
                       .Help("Messages per auth user.")
                       .Register(registry);
  for (int i = 0; i < 500; ++i) {
    counters.Add({{"user", "user" + std::to_string(i) + "@example.com"}, {"class", "authrelay"}})
        .Increment(i * 3);
  }
  prometheus::BuildGauge().Name("mailrelay_up").Help("Up.").Register(registry).Add({}).Set(1);
  prometheus::BuildHistogram()
      .Name("mailrelay_test_seconds")
      .Help("H.")
      .Register(registry)
      .Add({{"a", "b"}}, prometheus::Histogram::BucketBoundaries{0.1, 1, 10})
      .Observe(0.5);
  prometheus::BuildSummary()
      .Name("mailrelay_test_summary")
      .Help("S.")
      .Register(registry)
      .Add({}, prometheus::Summary::Quantiles{{0.5, 0.05}, {0.99, 0.001}})
      .Observe(3);
  auto families = registry.Collect();
  SortForExposition(&families);
  EXPECT_EQ(Ours(families), Reference(families));
}

TEST(TextExpositionTest, HelpIsEscaped) {
  MetricFamily family;
  family.name = "m";
  family.help = "a\\b\nc \"d\"";
  family.type = MetricType::Gauge;
  family.metric.emplace_back();
  EXPECT_EQ(Ours({family}), "# HELP m a\\\\b\\nc \"d\"\n# TYPE m gauge\nm 0\n");
}

TEST(TextExpositionTest, SortsFamiliesLabelsAndSeries) {
  auto series = [](std::vector<ClientMetric::Label> labels) {
    ClientMetric m;
    m.label = std::move(labels);
    return m;
  };
  std::vector<MetricFamily> families(3);
  families[0].name = "b";
  families[1].name = "a";
  families[2].name = "b";  // same name: keeps its place after the first "b"
  families[2].help = "second";
  families[0].metric = {series({{"y", "2"}, {"x", "1"}}), series({{"x", "1"}, {"y", "1"}}),
                        series({{"x", "0"}, {"y", "9"}}), series({{"x", "1"}})};
  SortForExposition(&families);
  ASSERT_EQ(families.size(), 3u);
  EXPECT_EQ(families[0].name, "a");
  EXPECT_EQ(families[1].name, "b");
  EXPECT_EQ(families[1].help, "");
  EXPECT_EQ(families[2].help, "second");
  const auto& m = families[1].metric;
  ASSERT_EQ(m.size(), 4u);
  // Labels in name order; series by their label lists, a shorter prefix first.
  EXPECT_EQ(m[0].label, (std::vector<ClientMetric::Label>{{"x", "0"}, {"y", "9"}}));
  EXPECT_EQ(m[1].label, (std::vector<ClientMetric::Label>{{"x", "1"}}));
  EXPECT_EQ(m[2].label, (std::vector<ClientMetric::Label>{{"x", "1"}, {"y", "1"}}));
  EXPECT_EQ(m[3].label, (std::vector<ClientMetric::Label>{{"x", "1"}, {"y", "2"}}));
}

// Many series in random order, with values that share long prefixes, differ only past the
// 8th byte, are prefixes of one another, hold bytes above 0x7f or a NUL, and families whose
// series have different label names: the same order as a plain sort of the label lists.
TEST(TextExpositionTest, SortMatchesPlainSortOfLabelLists) {
  std::mt19937_64 rng(7);
  const std::vector<std::string> stems = {
      "",         "user", "user1234", "user1234@", "192.0.2.",
      "\xc3\xa9", "zz",   "\xff",     "nul",       std::string("nul\0", 4)};
  // Variant 0: the same label names, no NUL (the sort's joined keys); 1: with NULs and 2: with
  // different label names (both: the full comparison).
  for (int variant = 0; variant < 3; ++variant) {
    auto value = [&] {
      std::string v = stems[rng() % (stems.size() - (variant == 1 ? 0 : 1))];
      for (int i = static_cast<int>(rng() % 4); i > 0; --i) {
        v += static_cast<char>('0' + rng() % 3);
      }
      return v;
    };
    MetricFamily family;
    family.name = "f";
    std::set<std::vector<ClientMetric::Label>> seen;
    while (family.metric.size() < 3000) {
      ClientMetric m;
      m.label.push_back({"user", value()});
      m.label.push_back({"class", value()});
      if (variant == 2 && rng() % 3 == 0) m.label.push_back({"b", value()});
      if (variant == 2 && rng() % 5 == 0) m.label.erase(m.label.begin());
      auto sorted = m.label;
      std::sort(sorted.begin(), sorted.end());
      if (!seen.insert(sorted).second) continue;  // label sets are unique in a family
      m.counter.value = static_cast<double>(family.metric.size());
      family.metric.push_back(std::move(m));
    }
    std::vector<std::vector<ClientMetric::Label>> expected;
    for (const auto& m : family.metric) {
      auto labels = m.label;
      std::sort(labels.begin(), labels.end(),
                [](const auto& a, const auto& b) { return a.name < b.name; });
      expected.push_back(labels);
    }
    std::sort(expected.begin(), expected.end());
    std::vector<MetricFamily> families = {family};
    SortForExposition(&families);
    ASSERT_EQ(families[0].metric.size(), expected.size());
    for (std::size_t i = 0; i < expected.size(); ++i) {
      ASSERT_EQ(families[0].metric[i].label, expected[i]) << "series " << i;
    }
  }
}

}  // namespace
}  // namespace mailrelay
