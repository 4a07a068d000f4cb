#include "metrics/bounded_counters.h"

#include <utility>

#include "common/text.h"

namespace mailrelay {

BoundedCounters::BoundedCounters(prometheus::Registry& registry,
                                 std::vector<std::pair<std::string, std::string>> families,
                                 std::vector<LabelSpec> labels, BoundedLimits limits,
                                 prometheus::Family<prometheus::Counter>& overflow_family)
    : labels_(std::move(labels)), limits_(limits) {
  for (const auto& [name, help] : families) {
    families_.push_back(&prometheus::BuildCounter().Name(name).Help(help).Register(registry));
    overflow_counters_.push_back(&overflow_family.Add({{"metric", name}}));
  }
  scratch_values_.resize(labels_.size());
}

BoundedCounters::Entry BoundedCounters::MakeEntry(const std::vector<std::string>& values) {
  prometheus::Labels labels;
  for (std::size_t i = 0; i < labels_.size(); ++i) labels.emplace(labels_[i].name, values[i]);
  Entry e;
  for (auto* family : families_) e.counters.push_back(&family->Add(labels));
  return e;
}

BoundedCounters::Entry& BoundedCounters::Lookup(std::initializer_list<std::string_view> values,
                                                std::int64_t now) {
  scratch_key_.clear();
  std::size_t i = 0;
  for (auto v : values) {
    if (i >= labels_.size()) break;
    std::string& out = scratch_values_[i];
    if (labels_[i].bounded) {
      out = SanitizeLabelValue(v, limits_.max_label_bytes);
    } else {
      out.assign(v);
    }
    scratch_key_ += out;
    scratch_key_ += '\0';
    ++i;
  }
  auto it = entries_.find(scratch_key_);
  if (it != entries_.end()) {
    it->second.last_used = now;
    return it->second;
  }
  if (entries_.size() < limits_.max_series) {
    auto [ins, ok] = entries_.emplace(scratch_key_, MakeEntry(scratch_values_));
    ins->second.last_used = now;
    return ins->second;
  }
  // Overflow: same unbounded labels, bounded ones replaced.
  std::string okey;
  for (std::size_t k = 0; k < labels_.size(); ++k) {
    if (labels_[k].bounded) scratch_values_[k] = std::string(kOverflowValue);
    okey += scratch_values_[k];
    okey += '\0';
  }
  for (auto* c : overflow_counters_) c->Increment();
  auto oit = overflow_entries_.find(okey);
  if (oit == overflow_entries_.end()) {
    oit = overflow_entries_.emplace(okey, MakeEntry(scratch_values_)).first;
  }
  oit->second.last_used = now;
  return oit->second;
}

void BoundedCounters::Add(std::initializer_list<std::string_view> values,
                          std::initializer_list<double> amounts, std::int64_t now) {
  Entry& e = Lookup(values, now);
  std::size_t k = 0;
  for (double a : amounts) {
    if (k >= e.counters.size()) break;
    if (a > 0) e.counters[k]->Increment(a);
    ++k;
  }
}

std::size_t BoundedCounters::Expire(std::int64_t now) {
  std::size_t removed = 0;
  auto sweep = [&](std::unordered_map<std::string, Entry>& map) {
    for (auto it = map.begin(); it != map.end();) {
      if (now - it->second.last_used > limits_.idle_timeout_seconds) {
        for (std::size_t k = 0; k < families_.size(); ++k) {
          families_[k]->Remove(it->second.counters[k]);
        }
        it = map.erase(it);
        ++removed;
      } else {
        ++it;
      }
    }
  };
  sweep(entries_);
  sweep(overflow_entries_);
  return removed;
}

}  // namespace mailrelay
