#include "rules/rule_tally.h"

#include <algorithm>
#include <span>
#include <utility>

#include "common/text.h"
#include "metrics/bounded_counters.h"

namespace mailrelay {

RuleTally::RuleTally(std::shared_ptr<const RuleSet> rules, std::size_t max_keys)
    : rules_(std::move(rules)), max_keys_(max_keys == 0 ? 1 : max_keys) {
  if (rules_) per_rule_.resize(rules_->counter_rules().size());
}

void RuleTally::OnLine(std::string_view mta, std::string_view line) {
  if (!rules_) return;
  for (std::uint32_t i : rules_->CountersFor(mta)) {
    const CounterRule& rule = rules_->counter_rules()[i];
    const std::size_t n = rule.labels.size();
    if (!rules_->MatchCounter(i, line, std::span<std::string_view>(labels_.data(), n))) {
      continue;
    }
    PerRule& r = per_rule_[i];
    ++r.total;
    key_.clear();
    bool overflow_value = false;
    for (std::size_t k = 0; k < n; ++k) {
      std::string_view v =
          SanitizeLabelValueTo(labels_[k], rule.limits.max_label_bytes, &sanitized_);
      // As in the exporter: a value reading __overflow__ cannot have a row of its own.
      overflow_value = overflow_value || v == kOverflowValue;
      key_ += v;
      key_ += '\0';
    }
    auto it = overflow_value ? r.counts.end() : r.counts.find(key_);
    if (it == r.counts.end() && !overflow_value && r.counts.size() < max_keys_) {
      it = r.counts.emplace(key_, 0).first;
    }
    if (it == r.counts.end()) {
      ++r.overflow;
      continue;
    }
    ++it->second;
  }
}

std::vector<RuleTally::Table> RuleTally::Totals(std::size_t top) const {
  std::vector<Table> out;
  if (!rules_) return out;
  for (std::size_t i = 0; i < per_rule_.size(); ++i) {
    const CounterRule& rule = rules_->counter_rules()[i];
    const PerRule& r = per_rule_[i];
    Table t;
    t.rule = rule.name;
    t.family = rule.family;
    t.labels = rule.labels;
    t.total = r.total;
    t.overflow = r.overflow;
    t.distinct = r.counts.size() + (r.overflow != 0 ? 1 : 0);
    for (const auto& [key, count] : r.counts) {
      Row row;
      row.count = count;
      std::size_t start = 0;
      for (std::size_t k = 0; k < rule.labels.size(); ++k) {
        std::size_t end = key.find('\0', start);
        row.values.push_back(key.substr(start, end - start));
        start = end + 1;
      }
      t.rows.push_back(std::move(row));
    }
    if (r.overflow != 0) {
      t.rows.push_back(
          {std::vector<std::string>(rule.labels.size(), std::string(kOverflowValue)), r.overflow});
    }
    std::sort(t.rows.begin(), t.rows.end(), [](const Row& a, const Row& b) {
      if (a.count != b.count) return a.count > b.count;
      return a.values < b.values;
    });
    if (top != 0 && t.rows.size() > top) t.rows.resize(top);
    out.push_back(std::move(t));
  }
  return out;
}

}  // namespace mailrelay
