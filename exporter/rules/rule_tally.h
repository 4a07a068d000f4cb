// RuleTally: the report's side of the counter rules (rules/rule_set.h). For each counter rule it
// counts the label sets of the lines it is given (the report passes the lines of its time
// window), with the values sanitised as the exporter's families sanitise them, so the report
// and /metrics show the same label values. Nothing expires (a report is one pass), but each
// rule keeps at most `max_keys` distinct label sets: matches past that are counted in a row
// whose values read __overflow__ (and in `overflow`), so a hostile log cannot exhaust memory.
// Pure: no I/O, no clock, no Prometheus. Not thread-safe.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "events/line_rules.h"
#include "rules/rule_set.h"

namespace mailrelay {

class RuleTally {
 public:
  static constexpr std::size_t kDefaultMaxKeys = 100000;
  explicit RuleTally(std::shared_ptr<const RuleSet> rules, std::size_t max_keys = kDefaultMaxKeys);

  // One log line of `mta` (without its newline).
  void OnLine(std::string_view mta, std::string_view line);

  struct Row {
    std::vector<std::string> values;  // one per label of the rule
    std::uint64_t count = 0;
  };
  struct Table {
    std::string rule;
    std::string family;               // its metric name, mailrelay_rule_<name>_total
    std::vector<std::string> labels;  // label names
    std::uint64_t total = 0;          // lines matched
    std::uint64_t distinct = 0;       // label sets counted (the overflow row included)
    std::uint64_t overflow = 0;       // matches counted under __overflow__
    std::vector<Row> rows;            // the top label sets: count descending, then values
  };
  // One table per counter rule, in file order, with at most `top` rows each (0: all).
  std::vector<Table> Totals(std::size_t top) const;

 private:
  struct PerRule {
    std::unordered_map<std::string, std::uint64_t> counts;  // values joined by '\0'
    std::uint64_t total = 0;
    std::uint64_t overflow = 0;
  };
  std::shared_ptr<const RuleSet> rules_;
  std::size_t max_keys_;
  std::vector<PerRule> per_rule_;
  std::array<std::string_view, kMaxRuleLabels> labels_{};
  std::string key_;
  std::string sanitized_;
};

// The LineRules of the report: rejection texts mapped by the rules (not counted), and the lines
// whose time lies in [since, until) counted into `tally` for `mta`.
class TallyRules : public LineRules {
 public:
  TallyRules(RuleTally& tally, std::shared_ptr<const RuleSet> rules, std::string mta,
             std::int64_t since, std::int64_t until)
      : tally_(tally),
        rules_(std::move(rules)),
        mta_(std::move(mta)),
        since_(since),
        until_(until) {}
  std::optional<RejectReason> MapReject(std::string_view reject_text) override {
    return rules_->MapReject(reject_text, mta_);
  }
  void OnLine(std::string_view line, std::int64_t timestamp) override {
    if (timestamp >= since_ && timestamp < until_) tally_.OnLine(mta_, line);
  }

 private:
  RuleTally& tally_;
  std::shared_ptr<const RuleSet> rules_;
  std::string mta_;
  std::int64_t since_;
  std::int64_t until_;
};

}  // namespace mailrelay
