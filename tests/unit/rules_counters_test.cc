// RuleCounters (the rule families in a prometheus::Registry: caps, overflow, expiry, swaps,
// self-metrics) and RuleTally (the report's per-label totals).
#include "rules/rule_counters.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <string>
#include <thread>

#include <prometheus/registry.h>

#include "rules/rule_tally.h"

namespace mailrelay {
namespace {

// Every series of the registry as "family{l=v,...}" -> value (counter or gauge), read through
// Collect() as a scrape reads it.
std::map<std::string, double> Scrape(prometheus::Registry& registry) {
  std::map<std::string, double> out;
  for (const auto& family : registry.Collect()) {
    for (const auto& m : family.metric) {
      std::string key = family.name + "{";
      for (const auto& l : m.label) key += l.name + "=" + l.value + ",";
      key += "}";
      out[key] = family.type == prometheus::MetricType::Gauge ? m.gauge.value : m.counter.value;
    }
  }
  return out;
}

std::shared_ptr<const RuleSet> Rules(const std::string& yaml) {
  RulesOptions options;
  options.mtas = {"exim", "postfix"};
  options.limits.max_series = 3;
  options.limits.idle_timeout_seconds = 100;
  auto r = ParseRules(yaml, options);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? *r : nullptr;
}

const char kPhp[] = R"(
counters:
  - name: php_scripts
    mta: exim
    prefilter: " cwd=/home/"
    pattern: ' cwd=/home/(?P<user>[^/ ]+)'
)";

const char kPhpAndMilter[] = R"(
reject_reasons:
  - name: dictionary
    mta: exim
    pattern: '(?i)dictionary attack'
    reason: ratelimit
counters:
  - name: php_scripts
    mta: exim
    prefilter: " cwd=/home/"
    pattern: ' cwd=/home/(?P<user>[^/ ]+)'
  - name: milter_rejects
    mta: postfix
    pattern: 'milter-reject: (?P<stage>[A-Z-]+) '
)";

std::string Cwd(const std::string& user) {
  return "2026-11-23 09:00:01 cwd=/home/" + user + "/public_html 3 args: /usr/sbin/sendmail -t";
}

class RuleCountersTest : public ::testing::Test {
 protected:
  prometheus::Registry registry_;
  prometheus::Family<prometheus::Counter>& overflow_ = prometheus::BuildCounter()
                                                           .Name("mailrelay_label_overflow_total")
                                                           .Help("h")
                                                           .Register(registry_);
  RuleCounters counters_{registry_, overflow_};
};

TEST_F(RuleCountersTest, SelfMetricsExistBeforeAnyRule) {
  auto s = Scrape(registry_);
  EXPECT_EQ(0, s.at("mailrelay_rules_loaded{kind=reject,}"));
  EXPECT_EQ(0, s.at("mailrelay_rules_loaded{kind=counter,}"));
  counters_.OnLine("exim", Cwd("acme"), 0);  // no rules: nothing happens
  counters_.Flush();
  EXPECT_EQ(s, Scrape(registry_));
}

TEST_F(RuleCountersTest, CountsLinesOfTheNamedMtaByCapture) {
  ASSERT_TRUE(counters_.SetRules(Rules(kPhpAndMilter)).ok());
  auto s = Scrape(registry_);
  EXPECT_EQ(1, s.at("mailrelay_rules_loaded{kind=reject,}"));
  EXPECT_EQ(2, s.at("mailrelay_rules_loaded{kind=counter,}"));
  EXPECT_EQ(0, s.at("mailrelay_rules_matches_total{rule=php_scripts,}"));
  counters_.OnLine("exim", Cwd("acme"), 10);
  counters_.OnLine("exim", Cwd("acme"), 10);
  counters_.OnLine("exim", Cwd("globex"), 10);
  counters_.OnLine("postfix", Cwd("acme"), 10);  // not a postfix rule
  counters_.OnLine("exim", "2026-11-23 09:00:01 cwd=/tmp 3 args: x", 10);
  counters_.OnLine("postfix",
                   "Nov 23 09:00:01 mx1 postfix/cleanup[1]: 4B2C: milter-reject: END-OF-MESSAGE "
                   "from x[192.0.2.1]: 5.7.1 Spam",
                   10);
  counters_.OnLine("exim", "Nov 23 09:00:01 milter-reject: DATA ", 10);  // not an exim rule
  counters_.Flush();
  s = Scrape(registry_);
  EXPECT_EQ(2, s.at("mailrelay_rule_php_scripts_total{user=acme,}"));
  EXPECT_EQ(1, s.at("mailrelay_rule_php_scripts_total{user=globex,}"));
  EXPECT_EQ(1, s.at("mailrelay_rule_milter_rejects_total{stage=END-OF-MESSAGE,}"));
  EXPECT_EQ(3, s.at("mailrelay_rules_matches_total{rule=php_scripts,}"));
  EXPECT_EQ(1, s.at("mailrelay_rules_matches_total{rule=milter_rejects,}"));
  EXPECT_EQ(0, s.at("mailrelay_label_overflow_total{metric=mailrelay_rule_php_scripts_total,}"));
}

TEST_F(RuleCountersTest, AmountsWaitForFlush) {
  ASSERT_TRUE(counters_.SetRules(Rules(kPhp)).ok());
  counters_.OnLine("exim", Cwd("acme"), 10);
  EXPECT_EQ(0, Scrape(registry_).at("mailrelay_rules_matches_total{rule=php_scripts,}"));
  counters_.Flush();
  EXPECT_EQ(1, Scrape(registry_).at("mailrelay_rules_matches_total{rule=php_scripts,}"));
}

TEST_F(RuleCountersTest, MapRejectCountsTheDecidingRule) {
  ASSERT_TRUE(counters_.SetRules(Rules(kPhpAndMilter)).ok());
  EXPECT_EQ(RejectReason::kRatelimit, counters_.MapReject("Dictionary attack detected", "exim"));
  EXPECT_FALSE(counters_.MapReject("Dictionary attack detected", "postfix"));
  EXPECT_FALSE(counters_.MapReject("relay not permitted", "exim"));
  counters_.Flush();
  EXPECT_EQ(1, Scrape(registry_).at("mailrelay_rules_matches_total{rule=dictionary,}"));
}

TEST_F(RuleCountersTest, CapsLabelSetsWithOverflow) {
  ASSERT_TRUE(counters_.SetRules(Rules(kPhp)).ok());  // max_series 3 (the options' default)
  for (const char* user : {"a", "b", "c", "d", "e", "a", "__overflow__"}) {
    counters_.OnLine("exim", Cwd(user), 10);
  }
  counters_.Flush();
  auto s = Scrape(registry_);
  EXPECT_EQ(2, s.at("mailrelay_rule_php_scripts_total{user=a,}"));
  EXPECT_EQ(3, s.at("mailrelay_rule_php_scripts_total{user=__overflow__,}"));
  EXPECT_EQ(0, s.count("mailrelay_rule_php_scripts_total{user=d,}"));
  EXPECT_EQ(3, s.at("mailrelay_label_overflow_total{metric=mailrelay_rule_php_scripts_total,}"));
}

TEST_F(RuleCountersTest, ExpiresIdleLabelSets) {
  ASSERT_TRUE(counters_.SetRules(Rules(kPhp)).ok());  // idle_timeout 100 s
  counters_.OnLine("exim", Cwd("old"), 10);
  counters_.OnLine("exim", Cwd("new"), 150);
  counters_.Flush();
  EXPECT_EQ(1u, counters_.Expire(200));
  auto s = Scrape(registry_);
  EXPECT_EQ(0, s.count("mailrelay_rule_php_scripts_total{user=old,}"));
  EXPECT_EQ(1, s.at("mailrelay_rule_php_scripts_total{user=new,}"));
}

TEST_F(RuleCountersTest, SwapKeepsUnchangedFamiliesAndRemovesTheOthers) {
  ASSERT_TRUE(counters_.SetRules(Rules(kPhpAndMilter)).ok());
  counters_.OnLine("exim", Cwd("acme"), 10);
  counters_.OnLine("postfix", "x milter-reject: DATA y", 10);
  counters_.Flush();
  // php_scripts: same family, labels and limits, another prefilter and pattern: kept.
  // milter_rejects and dictionary: gone. spam_words: new.
  ASSERT_TRUE(counters_
                  .SetRules(Rules(R"(
counters:
  - name: php_scripts
    mta: exim
    pattern: 'cwd=/home/(?P<user>[a-z0-9]+)'
  - name: spam_words
    pattern: 'viagra'
)"))
                  .ok());
  counters_.OnLine("exim", Cwd("acme"), 20);
  counters_.OnLine("postfix", "viagra", 20);
  counters_.Flush();
  auto s = Scrape(registry_);
  EXPECT_EQ(2, s.at("mailrelay_rule_php_scripts_total{user=acme,}"));
  EXPECT_EQ(1, s.at("mailrelay_rule_spam_words_total{}"));
  EXPECT_EQ(2, s.at("mailrelay_rules_matches_total{rule=php_scripts,}"));
  EXPECT_EQ(0, s.count("mailrelay_rules_matches_total{rule=milter_rejects,}"));
  EXPECT_EQ(0, s.count("mailrelay_rules_matches_total{rule=dictionary,}"));
  EXPECT_EQ(0,
            s.count("mailrelay_label_overflow_total{metric=mailrelay_rule_milter_rejects_total,}"));
  for (const auto& [key, value] : s)
    EXPECT_THAT(key, ::testing::Not(::testing::HasSubstr("milter")));
  EXPECT_EQ(0, s.at("mailrelay_rules_loaded{kind=reject,}"));
  EXPECT_EQ(2, s.at("mailrelay_rules_loaded{kind=counter,}"));
}

TEST_F(RuleCountersTest, ChangedLabelsStartAFreshFamilyUnderTheSameName) {
  ASSERT_TRUE(counters_.SetRules(Rules(kPhp)).ok());
  counters_.OnLine("exim", Cwd("acme"), 10);
  counters_.Flush();
  ASSERT_TRUE(counters_
                  .SetRules(Rules(R"(
counters:
  - name: php_scripts
    pattern: 'cwd=/home/(?P<account>[^/ ]+)/(?P<dir>[^ ]+)'
)"))
                  .ok());
  counters_.OnLine("exim", Cwd("acme"), 20);
  counters_.Flush();
  auto s = Scrape(registry_);
  EXPECT_EQ(0, s.count("mailrelay_rule_php_scripts_total{user=acme,}"));
  EXPECT_EQ(1, s.at("mailrelay_rule_php_scripts_total{account=acme,dir=public_html,}"));
  // The match counter follows the rule's name, not its family.
  EXPECT_EQ(2, s.at("mailrelay_rules_matches_total{rule=php_scripts,}"));
}

TEST_F(RuleCountersTest, RequestedRulesApplyAtTheNextFlush) {
  ASSERT_TRUE(counters_.SetRules(Rules(kPhp)).ok());
  std::thread reloader([&] { counters_.RequestRules(nullptr); });
  reloader.join();
  counters_.OnLine("exim", Cwd("acme"), 10);  // still the old rules
  counters_.Flush();                          // counts, then swaps
  EXPECT_EQ(nullptr, counters_.rules());
  auto s = Scrape(registry_);
  EXPECT_EQ(0, s.count("mailrelay_rule_php_scripts_total{user=acme,}"));
  EXPECT_EQ(0, s.at("mailrelay_rules_loaded{kind=counter,}"));
  counters_.RequestRules(Rules(kPhp));
  counters_.Flush();
  counters_.OnLine("exim", Cwd("acme"), 10);
  counters_.Flush();
  EXPECT_EQ(1, Scrape(registry_).at("mailrelay_rule_php_scripts_total{user=acme,}"));
}

TEST(RuleTallyTest, CountsLabelSetsSanitisedAndCapped) {
  auto rules = Rules(kPhpAndMilter);
  ASSERT_NE(nullptr, rules);
  RuleTally tally(rules, /*max_keys=*/3);
  for (const char* user : {"a", "b", "b", "c", "d", "e", "b", "__overflow__"}) {
    tally.OnLine("exim", Cwd(user));
  }
  tally.OnLine("exim", Cwd(std::string("b\x01")));  // sanitised: "b?", a fourth key: overflow
  tally.OnLine("postfix", Cwd("a"));                // php_scripts is an exim rule
  tally.OnLine("postfix", "milter-reject: DATA from");
  auto totals = tally.Totals(/*top=*/2);
  ASSERT_EQ(2u, totals.size());
  const auto& php = totals[0];
  EXPECT_EQ("php_scripts", php.rule);
  EXPECT_EQ("mailrelay_rule_php_scripts_total", php.family);
  EXPECT_EQ(std::vector<std::string>{"user"}, php.labels);
  EXPECT_EQ(9u, php.total);
  EXPECT_EQ(4u, php.overflow);  // d, e, __overflow__, b?
  EXPECT_EQ(4u, php.distinct);  // a, b, c, __overflow__
  ASSERT_EQ(2u, php.rows.size());
  EXPECT_EQ(std::vector<std::string>{"__overflow__"}, php.rows[0].values);
  EXPECT_EQ(4u, php.rows[0].count);
  EXPECT_EQ(std::vector<std::string>{"b"}, php.rows[1].values);
  EXPECT_EQ(3u, php.rows[1].count);
  EXPECT_EQ(1u, totals[1].total);
  EXPECT_EQ((std::vector<std::string>{"DATA"}), totals[1].rows.at(0).values);
  EXPECT_EQ(4u, tally.Totals(0)[0].rows.size());
}

TEST(RuleTallyTest, NoRulesNoTables) {
  RuleTally tally(nullptr);
  tally.OnLine("exim", Cwd("a"));
  EXPECT_TRUE(tally.Totals(10).empty());
}

}  // namespace
}  // namespace mailrelay
