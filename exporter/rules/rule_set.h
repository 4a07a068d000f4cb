// User rules (--rules.file, docs/rules.md): a YAML file of
//   - reject_reasons: an operator's own reject texts (Exim ACL `message =`, Postfix reply texts)
//     mapped to the fixed reject-reason vocabulary of mailrelay_rejects_total{reason};
//   - counters: extra counter families from log lines, one per rule, a pattern whose named
//     captures are the label values (mailrelay_rule_<name>_total{<capture>...}).
//
// Patterns are RE2 (linear-time: no input line can make a match super-linear), compiled once
// when the file is loaded; a RuleSet is immutable and may be shared by threads. A rule sees only
// the texts of the MTAs it names (names chosen by the caller's MTA registry; nothing here knows
// any MTA), and only when its optional literal `prefilter` occurs in the text, tested with a
// plain literal search (rules/literal_search.h) before the pattern runs. A rule without a
// prefilter gets an automatic one when its pattern requires a literal of 3 bytes or more
// (RE2's FilteredRE2 finds them): the longest such literal, searched ignoring ASCII case. The
// built-in parsers stay hand-written; rules run beside them.
//
//   StatusOr<std::shared_ptr<const RuleSet>> rules = LoadRules(path, options);
//   if (!rules.ok()) { Log(kError, rules.status().message()); return 2; }
//   if (auto reason = (*rules)->MapReject(ev.reject_text, "exim")) ev.reject_reason = *reason;
//
// Counting lines into Prometheus families is RuleCounters' job (rules/rule_counters.h), for the
// report RuleTally's (rules/rule_tally.h); both use MatchCounter() below.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "events/event.h"
#include "metrics/bounded_counters.h"

namespace mailrelay {

// Limits of one rules file (a rules file is configuration, but a large one costs every line).
inline constexpr std::size_t kMaxRules = 128;               // reject rules + counter rules
inline constexpr std::size_t kMaxRuleLabels = 8;            // named captures of a counter rule
inline constexpr std::size_t kMaxPatternBytes = 4096;       // one pattern's source text
inline constexpr std::size_t kMaxRulesFileBytes = 1 << 20;  // the whole file
inline constexpr std::size_t kMaxRuleSeries = 100000;       // a counter rule's max_series

// The prefix of every counter rule's family: mailrelay_rule_<name>_total.
inline constexpr std::string_view kRuleFamilyPrefix = "mailrelay_rule_";

struct RulesOptions {
  // The MTA names a rule's `mta:` may list (the caller's MTA registry, e.g. {"exim",
  // "postfix"}); a name outside it is refused. Empty: any name is accepted.
  std::vector<std::string> mtas;
  // Defaults of a counter rule's `max_series`, `idle_timeout` and the label value length
  // (--metrics.max-series-per-family, --metrics.series-idle-timeout).
  BoundedLimits limits;
};

struct RejectRule {
  std::string name;
  std::vector<std::string> mtas;  // empty: every MTA
  std::string prefilter;          // empty: none
  std::string pattern;
  RejectReason reason = RejectReason::kOther;
  // Without `prefilter`: a literal every match contains (lower-case; matched ignoring ASCII
  // case), derived from the pattern; empty when it requires none.
  std::string auto_prefilter;
};

struct CounterRule {
  std::string name;
  std::string family;  // mailrelay_rule_<name>_total
  std::string help;
  std::vector<std::string> mtas;  // empty: every MTA
  std::string prefilter;          // empty: none
  std::string pattern;
  std::vector<std::string> labels;  // the pattern's named captures, in pattern order
  BoundedLimits limits;
  std::string auto_prefilter;  // as RejectRule::auto_prefilter
};

class RuleSet {
 public:
  ~RuleSet();
  RuleSet(const RuleSet&) = delete;
  RuleSet& operator=(const RuleSet&) = delete;

  const std::vector<RejectRule>& reject_rules() const { return reject_rules_; }
  const std::vector<CounterRule>& counter_rules() const { return counter_rules_; }
  bool empty() const { return reject_rules_.empty() && counter_rules_.empty(); }

  // The first reject rule (file order) that applies to `mta` and whose pattern matches
  // somewhere in `reject_text` (the text the built-in classifier reads, Event::reject_text):
  // its index in reject_rules(), or nullopt. Thread-safe.
  std::optional<std::size_t> MatchReject(std::string_view reject_text, std::string_view mta) const;
  // The reason of MatchReject's rule, or nullopt (keep the built-in classification).
  std::optional<RejectReason> MapReject(std::string_view reject_text, std::string_view mta) const;

  // Indices into counter_rules() of the rules that see lines of `mta`, in file order (rules
  // that name no MTA see every MTA's lines).
  std::span<const std::uint32_t> CountersFor(std::string_view mta) const;
  bool HasCountersFor(std::string_view mta) const { return !CountersFor(mta).empty(); }

  // Counter rule `rule` against one log line (without its newline): false when its prefilter
  // does not occur in the line or its pattern does not match it. On a match, labels[k] is the
  // text of the rule's k-th label capture (empty when that group took no part in the match);
  // `labels` must have counter_rules()[rule].labels.size() elements. The views point into
  // `line`. Thread-safe; allocates nothing.
  bool MatchCounter(std::size_t rule, std::string_view line,
                    std::span<std::string_view> labels) const;

 private:
  friend StatusOr<std::shared_ptr<const RuleSet>> ParseRules(std::string_view yaml_text,
                                                             const RulesOptions& options,
                                                             std::string_view source_name);
  RuleSet();

  struct Compiled;  // the RE2 objects (kept out of this header)
  struct MtaIndex {
    std::string mta;
    std::vector<std::uint32_t> rejects;
    std::vector<std::uint32_t> counters;
  };
  const MtaIndex& IndexFor(std::string_view mta) const;

  std::vector<RejectRule> reject_rules_;
  std::vector<CounterRule> counter_rules_;
  std::vector<MtaIndex> by_mta_;  // one per MTA named by some rule
  MtaIndex any_mta_;              // for other MTAs: the rules that name none
  std::unique_ptr<Compiled> compiled_;
};

// Parses and compiles a rules file's text. Any error (YAML syntax, unknown key, invalid or
// duplicate name, a reason outside the vocabulary, an unknown MTA, a pattern RE2 refuses, a
// limit exceeded) refuses the whole file with one message naming `source_name`, the line and
// column, the rule and the problem, e.g.
//   rules.yml:7:14: counters[0] "php_scripts": pattern: missing ): at offset 9 ("(?P<user>...")
StatusOr<std::shared_ptr<const RuleSet>> ParseRules(std::string_view yaml_text,
                                                    const RulesOptions& options,
                                                    std::string_view source_name = "rules");
// Reads `path` (at most kMaxRulesFileBytes) and parses it.
StatusOr<std::shared_ptr<const RuleSet>> LoadRules(const std::string& path,
                                                   const RulesOptions& options);

// Reject reason from its label value ("relay_denied", ...); nullopt when not in the vocabulary.
std::optional<RejectReason> RejectReasonFromName(std::string_view name);

}  // namespace mailrelay
