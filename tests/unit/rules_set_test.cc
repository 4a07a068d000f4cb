// ParseRules / LoadRules (validation and its messages), MapReject, MatchCounter, and the seam
// with the parsers: Event::reject_text of real Exim and Postfix reject lines.
#include "rules/rule_set.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include <re2/re2.h>

#include "mta/exim/log_parser.h"
#include "mta/postfix/correlator.h"
#include "mta/postfix/log_parser.h"

namespace mailrelay {
namespace {

using ::testing::HasSubstr;

RulesOptions Options() {
  RulesOptions o;
  o.mtas = {"exim", "postfix"};
  o.limits.max_series = 300;
  o.limits.idle_timeout_seconds = 3600;
  return o;
}

std::shared_ptr<const RuleSet> Parse(const std::string& yaml) {
  auto r = ParseRules(yaml, Options(), "rules.yml");
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? *r : nullptr;
}

// The message of a refused file (and a failure when it was accepted).
std::string Error(const std::string& yaml) {
  auto r = ParseRules(yaml, Options(), "rules.yml");
  EXPECT_FALSE(r.ok()) << "accepted:\n" << yaml;
  if (r.ok()) return {};
  EXPECT_EQ(StatusCode::kInvalidArgument, r.status().code());
  return r.status().message();
}

const char kRules[] = R"(
reject_reasons:
  - name: cpanel_dictionary
    mta: exim
    prefilter: "dictionary attack"
    pattern: '(?i)dictionary attack'
    reason: ratelimit
  - name: custom_rbl
    pattern: 'Blocked by our reputation list'
    reason: rbl
counters:
  - name: php_scripts
    help: "Local submissions by the home directory of the sending script."
    mta: [exim]
    prefilter: " cwd=/home/"
    pattern: ' cwd=/home/(?P<user>[^/ ]+)(?:/(?P<dir>[^ ]*))? \d+ args:'
    max_series: 50
    idle_timeout: 30m
  - name: milter_rejects
    mta: postfix
    prefilter: "milter-reject: "
    pattern: 'milter-reject: (?P<stage>[A-Z-]+) from [^:]*: (?P<code>\d{3})'
  - name: any_lines
    pattern: 'needle'
)";

TEST(RulesParse, ReadsBothKindsWithTheirDefaults) {
  auto rules = Parse(kRules);
  ASSERT_NE(nullptr, rules);
  ASSERT_EQ(2u, rules->reject_rules().size());
  EXPECT_EQ("cpanel_dictionary", rules->reject_rules()[0].name);
  EXPECT_EQ(std::vector<std::string>{"exim"}, rules->reject_rules()[0].mtas);
  EXPECT_EQ(RejectReason::kRatelimit, rules->reject_rules()[0].reason);
  EXPECT_TRUE(rules->reject_rules()[1].mtas.empty());
  ASSERT_EQ(3u, rules->counter_rules().size());
  const CounterRule& php = rules->counter_rules()[0];
  EXPECT_EQ("mailrelay_rule_php_scripts_total", php.family);
  EXPECT_EQ((std::vector<std::string>{"user", "dir"}), php.labels);
  EXPECT_EQ(50u, php.limits.max_series);
  EXPECT_EQ(1800, php.limits.idle_timeout_seconds);
  const CounterRule& milter = rules->counter_rules()[1];
  EXPECT_EQ(300u, milter.limits.max_series);  // the defaults of the options
  EXPECT_EQ(3600, milter.limits.idle_timeout_seconds);
  EXPECT_EQ("Log lines matched by the counter rule milter_rejects.", milter.help);
  EXPECT_TRUE(rules->counter_rules()[2].labels.empty());
}

TEST(RulesParse, IndexesRulesByMta) {
  auto rules = Parse(kRules);
  ASSERT_NE(nullptr, rules);
  auto v = [](std::span<const std::uint32_t> s) {
    return std::vector<std::uint32_t>(s.begin(), s.end());
  };
  EXPECT_EQ((std::vector<std::uint32_t>{0, 2}), v(rules->CountersFor("exim")));
  EXPECT_EQ((std::vector<std::uint32_t>{1, 2}), v(rules->CountersFor("postfix")));
  // An MTA no rule names sees the rules that name none.
  EXPECT_EQ((std::vector<std::uint32_t>{2}), v(rules->CountersFor("opensmtpd")));
}

TEST(RulesParse, EmptyFileAndEmptyListsMeanNoRules) {
  for (const char* text : {"", "# only a comment\n", "reject_reasons:\ncounters:\n",
                           "reject_reasons: []\ncounters: []\n"}) {
    auto rules = Parse(text);
    ASSERT_NE(nullptr, rules) << text;
    EXPECT_TRUE(rules->empty());
    EXPECT_FALSE(rules->MapReject("relay not permitted", "exim"));
    EXPECT_FALSE(rules->HasCountersFor("exim"));
  }
}

TEST(RulesParse, BadPatternNamesTheRuleTheLineAndTheOffset) {
  std::string e = Error(
      "counters:\n"
      "  - name: php_scripts\n"
      "    pattern: 'cwd=/home/(?P<user>[^/ ]+'\n");
  EXPECT_THAT(e, HasSubstr("rules.yml:3:14: counters[0] \"php_scripts\": pattern: missing )"));
  EXPECT_THAT(e, HasSubstr("at offset 10 (\"(?P<user>[^/ ]+\")"));
  e = Error(
      "reject_reasons:\n"
      "  - name: ok_one\n"
      "    pattern: 'fine'\n"
      "    reason: spam\n"
      "  - name: broken\n"
      "    pattern: 'a**'\n"
      "    reason: spam\n");
  EXPECT_THAT(e, HasSubstr("rules.yml:6:14: reject_reasons[1] \"broken\": pattern: bad "
                           "repetition operator at offset 1 (\"**\")"));
  // RE2 2022-06 knows only the (?P<name>...) form of named groups.
  EXPECT_THAT(Error("counters:\n  - name: x\n    pattern: '(?<u>a)'\n"),
              HasSubstr("invalid perl operator at offset 0"));
  EXPECT_THAT(Error("counters:\n  - name: x\n    pattern: '[z-a]'\n"),
              HasSubstr("invalid character class range at offset 1 (\"z-a\")"));
  EXPECT_THAT(Error("counters:\n  - name: x\n    pattern: '(a)\\Q(\\E[(]b)c'\n"),
              HasSubstr("unexpected ) at offset 12 (\")c\")"));
  EXPECT_THAT(Error("counters:\n  - name: x\n    pattern: '(a(b)[)]'\n"),
              HasSubstr("missing ) at offset 0 (\"(a(b)[)]\")"));
  EXPECT_THAT(Error("counters:\n  - name: x\n    pattern: 'ab\\'\n"),
              HasSubstr("trailing \\ at offset 2"));
}

TEST(RulesParse, RefusesWhatWouldMakeABadFamilyOrLabel) {
  auto counter = [](const std::string& name, const std::string& pattern) {
    return "counters:\n  - name: " + name + "\n    pattern: '" + pattern + "'\n";
  };
  EXPECT_THAT(Error(counter("PhpScripts", "x")), HasSubstr("name must start with a lower-case"));
  EXPECT_THAT(Error(counter("php-scripts", "x")), HasSubstr("only a-z, 0-9 and _"));
  EXPECT_THAT(Error(counter("php_total", "x")), HasSubstr("must not end in _total"));
  EXPECT_THAT(Error(counter(std::string(65, 'a'), "x")), HasSubstr("longer than 64 bytes"));
  EXPECT_THAT(Error(counter("x", "(?P<instance>a)")), HasSubstr("'instance' is reserved"));
  EXPECT_THAT(Error(counter("x", "(?P<job>a)")), HasSubstr("'job' is reserved"));
  EXPECT_THAT(Error(counter("x", "(?P<__name__>a)")), HasSubstr("reserved by Prometheus"));
  EXPECT_THAT(Error(counter("x", "(?P<1a>a)")), HasSubstr("must start with a letter or _"));
  EXPECT_THAT(Error(counter("x", "(?P<a>b)(?P<a>c)")), HasSubstr("'a' used twice"));
  std::string nine;
  for (char c = 'a'; c < 'a' + 9; ++c) nine += std::string("(?P<") + c + ">x)";
  EXPECT_THAT(Error(counter("x", nine)), HasSubstr("more than 8 named captures"));
  std::string seventeen;
  for (int i = 0; i < 17; ++i) seventeen += "(a)";
  EXPECT_THAT(Error(counter("x", seventeen)), HasSubstr("more than 16 capturing groups"));
  EXPECT_THAT(Error(counter("x", std::string(4097, 'a'))), HasSubstr("longer than 4096 bytes"));
}

TEST(RulesParse, RefusesUnknownKeysReasonsMtasAndDuplicates) {
  EXPECT_THAT(Error("rejects:\n  - name: a\n"), HasSubstr("rules.yml:1:1: unknown key 'rejects'"));
  EXPECT_THAT(Error("counters:\n  - name: a\n    pattern: x\n    labels: [a]\n"),
              HasSubstr("rules.yml:4:5: counters[0] \"a\": unknown key 'labels'"));
  EXPECT_THAT(Error("reject_reasons:\n  - name: a\n    pattern: x\n    reason: spammy\n"),
              HasSubstr("reason: 'spammy' is not one of relay_denied, unrouteable, rbl, "
                        "sender_verify, ratelimit, spam, syntax, other"));
  EXPECT_THAT(Error("reject_reasons:\n  - name: a\n    pattern: x\n"), HasSubstr("missing reason"));
  EXPECT_THAT(Error("counters:\n  - name: a\n"), HasSubstr("counters[0] \"a\": missing pattern"));
  EXPECT_THAT(Error("counters:\n  - pattern: a\n"), HasSubstr("counters[0]: missing name"));
  EXPECT_THAT(
      Error("counters:\n  - name: a\n    mta: exm\n    pattern: x\n"),
      HasSubstr("rules.yml:3:10: counters[0] \"a\": mta: unknown MTA 'exm' (exim, postfix)"));
  EXPECT_THAT(Error("counters:\n  - name: a\n    pattern: x\n"
                    "reject_reasons:\n  - name: a\n    pattern: y\n    reason: spam\n"),
              HasSubstr("duplicate rule name"));
  EXPECT_THAT(Error("counters:\n  - name: a\n    pattern: x\n    prefilter: ''\n"),
              HasSubstr("prefilter: empty"));
  EXPECT_THAT(Error("counters:\n  - name: a\n    pattern: x\n    max_series: 0\n"),
              HasSubstr("max_series: want a whole number from 1 to 100000"));
  EXPECT_THAT(Error("counters:\n  - name: a\n    pattern: x\n    idle_timeout: soon\n"),
              HasSubstr("idle_timeout: want a duration"));
  EXPECT_THAT(Error("counters: {name: a}\n"), HasSubstr("counters: want a list of rules"));
  EXPECT_THAT(Error("- a\n- b\n"), HasSubstr("want a mapping with reject_reasons"));
  EXPECT_THAT(Error("counters:\n  - name: a\n    pattern: [x, y]\n"),
              HasSubstr("pattern: want a string"));
}

TEST(RulesParse, YamlSyntaxErrorsCarryTheirPosition) {
  EXPECT_THAT(Error("counters:\n  - name: a\n  pattern: x\n"),
              HasSubstr("rules.yml:3:3: end of map not found"));
  EXPECT_THAT(Error("counters: [\n"), HasSubstr("rules.yml:2:1: end of sequence flow not found"));
  // Deep nesting is refused by yaml-cpp's depth guard, not a stack overflow.
  EXPECT_THAT(Error("counters: " + std::string(5000, '[')), HasSubstr("rules.yml:"));
}

TEST(RulesParse, RefusesMoreRulesThanTheLimit) {
  std::string yaml = "counters:\n";
  for (std::size_t i = 0; i <= kMaxRules; ++i) {
    yaml += "  - name: r" + std::to_string(i) + "\n    pattern: x\n";
  }
  EXPECT_THAT(Error(yaml), HasSubstr("more than 128 rules"));
}

TEST(RulesMapReject, FirstMatchingRuleOfTheMtaWins) {
  auto rules = Parse(kRules);
  ASSERT_NE(nullptr, rules);
  EXPECT_EQ(RejectReason::kRatelimit,
            rules->MapReject("Possible dictionary attack: too many unknown users", "exim"));
  // The rule names exim only.
  EXPECT_FALSE(rules->MapReject("Possible dictionary attack", "postfix"));
  EXPECT_EQ(RejectReason::kRbl, rules->MapReject("550 Blocked by our reputation list", "postfix"));
  EXPECT_EQ(std::optional<std::size_t>(1),
            rules->MatchReject("550 Blocked by our reputation list", "exim"));
  EXPECT_FALSE(rules->MapReject("relay not permitted", "exim"));
}

TEST(RulesMapReject, PrefilterRunsBeforeThePattern) {
  // The pattern alone would match; the (case-sensitive) literal is absent, so the rule is not
  // tried.
  auto rules = Parse(
      "reject_reasons:\n  - name: a\n    prefilter: 'Dictionary'\n    pattern: '(?i)dictionary'\n"
      "    reason: spam\n");
  ASSERT_NE(nullptr, rules);
  EXPECT_FALSE(rules->MapReject("dictionary attack", "exim"));
  EXPECT_EQ(RejectReason::kSpam, rules->MapReject("Dictionary attack", "exim"));
}

TEST(RulesMatchCounter, CapturesBecomeLabelValues) {
  auto rules = Parse(kRules);
  ASSERT_NE(nullptr, rules);
  std::string_view labels[2];
  ASSERT_TRUE(rules->MatchCounter(
      0, "2026-11-23 09:00:01 cwd=/home/acme12/public_html/wp 3 args: /usr/sbin/sendmail -t -i",
      labels));
  EXPECT_EQ("acme12", labels[0]);
  EXPECT_EQ("public_html/wp", labels[1]);
  // The optional group took no part: empty.
  ASSERT_TRUE(rules->MatchCounter(0, "2026-11-23 09:00:01 cwd=/home/acme12 3 args: x", labels));
  EXPECT_EQ("acme12", labels[0]);
  EXPECT_EQ("", labels[1]);
  EXPECT_FALSE(rules->MatchCounter(0, "2026-11-23 09:00:01 cwd=/tmp 3 args: x", labels));
  std::string_view none[1];
  EXPECT_TRUE(rules->MatchCounter(2, "a needle in a line", std::span<std::string_view>(none, 0)));
}

TEST(RulesAutoPrefilter, IsTheLongestLiteralEveryMatchNeeds) {
  auto rules = Parse(R"(
counters:
  - name: greylisted
    pattern: ' == \S+ R=\S+ defer \(-44\) H=mx1\.(?P<domain>\S+) .*: 451 4\.7\.1 Greylisted'
  - name: dictionary
    pattern: '(?i)dictionary attack'
  - name: either
    pattern: 'relay denied|spam score'
  - name: digits
    pattern: '(?P<n>\d+)s'
  - name: given
    prefilter: 'cwd='
    pattern: 'cwd=(?P<dir>\S+)'
)");
  ASSERT_NE(nullptr, rules);
  const auto& c = rules->counter_rules();
  EXPECT_EQ(": 451 4.7.1 greylisted", c[0].auto_prefilter);
  EXPECT_EQ("dictionary attack", c[1].auto_prefilter);
  EXPECT_EQ("", c[2].auto_prefilter);  // either literal will do: none is required
  EXPECT_EQ("", c[3].auto_prefilter);
  EXPECT_EQ("", c[4].auto_prefilter);  // the user's prefilter is used instead
  std::span<std::string_view> none;
  EXPECT_TRUE(rules->MatchCounter(1, "Possible DICTIONARY ATTACK from 192.0.2.1", none));
  EXPECT_FALSE(rules->MatchCounter(1, "dictionary-attack", none));
}

// The automatic prefilter never hides a match: every pattern gives the answer RE2 gives alone,
// on real log lines and on copies with the case of their letters flipped at random.
TEST(RulesAutoPrefilter, NeverChangesTheResult) {
  const std::vector<std::string> patterns = {"(?:abc)?ABC",
                                             "[a]bc(?:ABC)?",
                                             "x(?i:Greylisted)",
                                             "Foo|foo bar",
                                             "(?i)ab(?-i)CD",
                                             "rejected RCPT",
                                             "(?i)REJECTED after",
                                             "R=\\S+ T=remote_smtp",
                                             "\\bfor\\b",
                                             "=> [^ ]+ R=",
                                             "(?:Completed|Frozen)",
                                             "H=\\([^)]*\\) \\[",
                                             "authenticator failed for",
                                             "P=e?smtps?a? ",
                                             "(?i)s=\\d+",
                                             "defer \\(-5[234]\\)"};
  std::string yaml = "counters:\n";
  for (std::size_t i = 0; i < patterns.size(); ++i) {
    yaml += "  - name: p" + std::to_string(i) + "\n    pattern: '" + patterns[i] + "'\n";
  }
  auto rules = Parse(yaml);
  ASSERT_NE(nullptr, rules);
  std::vector<std::unique_ptr<re2::RE2>> plain;
  int with_prefilter = 0;
  for (const auto& r : rules->counter_rules()) {
    plain.push_back(std::make_unique<re2::RE2>(r.pattern));
    ASSERT_TRUE(plain.back()->ok()) << r.pattern;
    with_prefilter += r.auto_prefilter.empty() ? 0 : 1;
  }
  EXPECT_GE(with_prefilter, 10);
  std::vector<std::string> lines;
  for (const char* file : {"/exim/cpanel_mainlog", "/exim/cpanel_rejectlog", "/exim/debian_mainlog",
                           "/exim/syslog_mainlog", "/postfix/mail.log"}) {
    std::ifstream in(std::string(MAILRELAY_TESTDATA_DIR) + file);
    ASSERT_TRUE(in) << MAILRELAY_TESTDATA_DIR << file;
    for (std::string line; std::getline(in, line);) lines.push_back(line);
  }
  lines.push_back("xABC");
  lines.push_back("abc");
  lines.push_back("x GREYLISTED");
  lines.push_back("abCD and ABcd");
  ASSERT_GT(lines.size(), 100u);
  std::uint64_t seed = 42;
  const std::size_t n = lines.size();
  for (std::size_t i = 0; i < n; ++i) {
    std::string flipped = lines[i];
    for (char& ch : flipped) {
      seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
      if ((seed >> 60) == 0 && ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z'))) ch ^= 0x20;
    }
    lines.push_back(flipped);
  }
  int matches = 0;
  std::array<std::string_view, kMaxRuleLabels> labels;
  for (const auto& line : lines) {
    for (std::size_t r = 0; r < plain.size(); ++r) {
      const bool want = re2::RE2::PartialMatch(line, *plain[r]);
      const bool got = rules->MatchCounter(
          r, line,
          std::span<std::string_view>(labels.data(), rules->counter_rules()[r].labels.size()));
      EXPECT_EQ(want, got) << "pattern " << patterns[r] << " line " << line;
      matches += got ? 1 : 0;
    }
  }
  EXPECT_GT(matches, 100);
}

// RE2 matches in time linear in the input: patterns that make a backtracking engine take
// exponential time on a non-matching line complete here (no timing asserted; bench/README.md
// shows the per-byte cost staying flat as the line grows).
TEST(RulesMatchCounter, PathologicalPatternsStayLinear) {
  auto rules = Parse(
      "counters:\n"
      "  - name: nested_plus\n"
      "    pattern: '^(?P<x>(a+)+)b$'\n"
      "  - name: overlapping\n"
      "    pattern: '(?P<x>(x+x+)+y)'\n"
      "  - name: alternation\n"
      "    pattern: '^(?P<x>(a|aa|aaa)*)c$'\n"
      "  - name: counted\n"
      "    pattern: '(?P<x>(.*a){12}z)'\n");
  ASSERT_NE(nullptr, rules);
  std::string_view labels[1];
  const std::string a(1 << 20, 'a');
  const std::string x(1 << 20, 'x');
  EXPECT_FALSE(rules->MatchCounter(0, a, labels));
  EXPECT_FALSE(rules->MatchCounter(1, x, labels));
  EXPECT_FALSE(rules->MatchCounter(2, a, labels));
  EXPECT_FALSE(rules->MatchCounter(3, a, labels));
  EXPECT_TRUE(rules->MatchCounter(0, a + "b", labels));
  EXPECT_EQ(a.size(), labels[0].size());
}

TEST(RulesLoad, ReadsAFileAndNamesItInErrors) {
  char dir_template[] = "/tmp/rules_test.XXXXXX";
  ASSERT_NE(nullptr, ::mkdtemp(dir_template));
  const std::string dir = dir_template;
  const std::string good = dir + "/good.yml";
  const std::string bad = dir + "/bad.yml";
  std::ofstream(good) << kRules;
  std::ofstream(bad) << "counters:\n  - name: x\n    pattern: '('\n";
  auto rules = LoadRules(good, Options());
  ASSERT_TRUE(rules.ok()) << rules.status().ToString();
  EXPECT_EQ(5u, (*rules)->reject_rules().size() + (*rules)->counter_rules().size());
  auto refused = LoadRules(bad, Options());
  ASSERT_FALSE(refused.ok());
  EXPECT_THAT(refused.status().message(), HasSubstr(bad + ":3:14: counters[0] \"x\": pattern:"));
  auto missing = LoadRules(dir + "/missing.yml", Options());
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(StatusCode::kNotFound, missing.status().code());
  EXPECT_THAT(missing.status().message(), HasSubstr(dir + "/missing.yml"));
  auto directory = LoadRules(dir, Options());
  ASSERT_FALSE(directory.ok());
  EXPECT_THAT(directory.status().message(), HasSubstr("not a regular file"));
  std::ofstream(good, std::ios::trunc) << std::string(kMaxRulesFileBytes + 1, '#');
  auto large = LoadRules(good, Options());
  ASSERT_FALSE(large.ok());
  EXPECT_THAT(large.status().message(), HasSubstr("larger than"));
  std::remove(good.c_str());
  std::remove(bad.c_str());
  ::rmdir(dir.c_str());
}

// The example of docs/rules.md and the rules of the benchmark are valid, and do what they say.
TEST(RulesExamples, DocsExampleAndBenchRulesParse) {
  auto example = LoadRules(MAILRELAY_DOCS_DIR "/rules.example.yml", Options());
  ASSERT_TRUE(example.ok()) << example.status().ToString();
  const RuleSet& rules = **example;
  EXPECT_EQ(RejectReason::kRbl, rules.MapReject("Mail from 192.0.2.7 is not welcome here", "exim"));
  EXPECT_EQ(RejectReason::kRelayDenied,
            rules.MapReject("554 5.7.1 <b@example.com>: Access denied by local policy", "postfix"));
  std::string_view labels[2];
  ASSERT_EQ("php_script_dirs", rules.counter_rules()[0].name);
  ASSERT_TRUE(rules.MatchCounter(
      0, "2026-11-23 09:00:01 cwd=/home/acme/public_html/wp-admin 3 args: /usr/sbin/sendmail -t",
      labels));
  EXPECT_EQ("acme", labels[0]);
  EXPECT_EQ("/public_html/wp-admin", labels[1]);
  ASSERT_EQ("milter_rejects", rules.counter_rules()[1].name);
  ASSERT_TRUE(rules.MatchCounter(1,
                                 "Nov 23 09:00:01 mx1 postfix/cleanup[7]: 4B2C: milter-reject: "
                                 "END-OF-MESSAGE from x[192.0.2.1]: 5.7.1 Spam; from=<a@b>",
                                 labels));
  EXPECT_EQ("END-OF-MESSAGE", labels[0]);
  EXPECT_EQ("5.7.1", labels[1]);
  ASSERT_EQ("greylisted", rules.counter_rules()[2].name);
  ASSERT_TRUE(rules.MatchCounter(
      2,
      "2026-11-23 09:00:00 1xV63t-0004DL-0K == tom@wayne.example R=dkim_lookuphost "
      "T=dkim_remote_smtp defer (-44) H=mx1.wayne.example [203.0.113.7]: SMTP error from remote "
      "mail server after RCPT TO:<tom@wayne.example>: 451 4.7.1 Greylisted, please try again",
      labels));
  EXPECT_EQ("wayne.example", labels[0]);

  auto bench = LoadRules(MAILRELAY_BENCH_DIR "/rules/cpanel-20.yml", Options());
  ASSERT_TRUE(bench.ok()) << bench.status().ToString();
  EXPECT_EQ(20u, (*bench)->reject_rules().size() + (*bench)->counter_rules().size());
}

// The seam with the parsers: the text a rule sees is the one the built-in classifier read.
TEST(RulesRejectText, EximAndPostfixParsersFillIt) {
  auto rules = Parse(
      "reject_reasons:\n"
      "  - name: cpanel_bad_sender\n"
      "    pattern: '^Sender has been blocked by the administrator'\n"
      "    reason: sender_verify\n"
      "  - name: local_policy\n"
      "    mta: postfix\n"
      "    pattern: 'Access denied by local policy'\n"
      "    reason: relay_denied\n");
  ASSERT_NE(nullptr, rules);
  EximLogParser exim;
  Event ev;
  ASSERT_EQ(ParseStatus::kOk,
            exim.Parse("2026-11-23 09:00:01 H=(helo) [192.0.2.7]:51515 I=[192.0.2.10]:25 "
                       "F=<a@example.net> rejected RCPT <b@example.com>: Sender has been blocked "
                       "by the administrator",
                       &ev));
  ASSERT_EQ(EventType::kReject, ev.type);
  EXPECT_EQ("Sender has been blocked by the administrator", ev.reject_text);
  EXPECT_EQ(RejectReason::kOther, ev.reject_reason);  // built-in
  EXPECT_EQ(RejectReason::kSenderVerify, rules->MapReject(ev.reject_text, "exim"));

  PostfixLogParser postfix;
  PostfixRecord record;
  ASSERT_EQ(ParseStatus::kOk,
            postfix.Parse("Nov 23 09:00:01 mx1 postfix/smtpd[123]: NOQUEUE: reject: RCPT from "
                          "unknown[192.0.2.8]: 554 5.7.1 <b@example.com>: Access denied by local "
                          "policy; from=<a@example.net> to=<b@example.com> proto=ESMTP helo=<x>",
                          &record));
  ASSERT_EQ(PostfixKind::kReject, record.kind);
  EXPECT_EQ("554 5.7.1 <b@example.com>: Access denied by local policy", record.reject_text);
  PostfixCorrelator correlator({}, [](std::uint32_t) { return std::string(); });
  int rejects = 0;
  correlator.Add(record, [&](const Event& e) {
    ++rejects;
    EXPECT_EQ(record.reject_text, e.reject_text);
    EXPECT_EQ(RejectReason::kRelayDenied, rules->MapReject(e.reject_text, "postfix"));
  });
  EXPECT_EQ(1, rejects);
}

}  // namespace
}  // namespace mailrelay
