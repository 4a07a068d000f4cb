#include "metrics/bounded_counters.h"

#include <stdexcept>
#include <utility>

#include "common/text.h"

namespace mailrelay {

BoundedCounters::BoundedCounters(prometheus::Registry& registry,
                                 std::vector<std::pair<std::string, std::string>> families,
                                 std::vector<LabelSpec> labels, BoundedLimits limits,
                                 prometheus::Family<prometheus::Counter>& overflow_family)
    : labels_(std::move(labels)), limits_(limits) {
  if (families.size() > kMaxFamilies) {
    throw std::invalid_argument("BoundedCounters: too many families");
  }
  for (const auto& [name, help] : families) {
    families_.push_back(&prometheus::BuildCounter().Name(name).Help(help).Register(registry));
    overflow_counters_.push_back(&overflow_family.Add({{"metric", name}}));
  }
  scratch_values_.resize(labels_.size());
  scratch_views_.resize(labels_.size());
}

void BoundedCounters::MakeEntry(const std::vector<std::string_view>& values, Entry* e) {
  prometheus::Labels labels;
  for (std::size_t i = 0; i < labels_.size(); ++i) {
    labels.emplace(labels_[i].name, std::string(values[i]));
  }
  for (std::size_t k = 0; k < families_.size(); ++k) e->counters[k] = &families_[k]->Add(labels);
}

BoundedCounters::Entry& BoundedCounters::Lookup(std::initializer_list<std::string_view> values,
                                                std::int64_t now) {
  // Key: the (sanitised) values joined by NULs, built in a reused buffer.
  scratch_key_.clear();
  std::size_t i = 0;
  // A value that itself reads "__overflow__" would share the overflow series' labels (and its
  // prometheus-cpp counter object: expiring one would free the other's): count it there.
  bool overflow_value = false;
  for (auto v : values) {
    if (i >= labels_.size()) break;
    std::string_view value = v;
    if (labels_[i].bounded) {
      value = SanitizeLabelValueTo(v, limits_.max_label_bytes, &scratch_values_[i]);
      overflow_value = overflow_value || value == kOverflowValue;
    }
    scratch_views_[i] = value;
    scratch_key_ += value;
    scratch_key_ += '\0';
    ++i;
  }
  for (; i < labels_.size(); ++i) {
    scratch_views_[i] = {};
    scratch_key_ += '\0';
  }
  std::uint64_t hash = KeyTable<Entry>::Hash(scratch_key_);
  std::uint32_t index = overflow_value ? KeyTable<Entry>::kNone : entries_.Find(scratch_key_, hash);
  if (index == KeyTable<Entry>::kNone && !overflow_value && entries_.size() < limits_.max_series) {
    index = entries_.Insert(scratch_key_, hash);
    MakeEntry(scratch_views_, &entries_.value(index));
  }
  if (index != KeyTable<Entry>::kNone) {
    Entry& e = entries_.value(index);
    e.last_used = now;
    if (!e.dirty) {
      e.dirty = true;
      dirty_.push_back(index);
    }
    return e;
  }
  // Overflow: same unbounded labels, bounded ones replaced.
  scratch_key_.clear();
  for (std::size_t k = 0; k < labels_.size(); ++k) {
    if (labels_[k].bounded) scratch_views_[k] = kOverflowValue;
    scratch_key_ += scratch_views_[k];
    scratch_key_ += '\0';
  }
  overflow_pending_ += 1;
  hash = KeyTable<Entry>::Hash(scratch_key_);
  index = overflow_entries_.Find(scratch_key_, hash);
  if (index == KeyTable<Entry>::kNone) {
    index = overflow_entries_.Insert(scratch_key_, hash);
    MakeEntry(scratch_views_, &overflow_entries_.value(index));
  }
  Entry& e = overflow_entries_.value(index);
  e.last_used = now;
  if (!e.dirty) {
    e.dirty = true;
    dirty_.push_back(index | kOverflowBit);
  }
  return e;
}

void BoundedCounters::Add(std::initializer_list<std::string_view> values,
                          std::initializer_list<double> amounts, std::int64_t now) {
  Entry& e = Lookup(values, now);
  std::size_t k = 0;
  for (double a : amounts) {
    if (k >= families_.size()) break;
    if (a > 0) e.pending[k] += a;
    ++k;
  }
}

void BoundedCounters::Flush() {
  for (std::uint32_t d : dirty_) {
    Entry& e =
        (d & kOverflowBit) != 0 ? overflow_entries_.value(d & ~kOverflowBit) : entries_.value(d);
    for (std::size_t k = 0; k < families_.size(); ++k) {
      if (e.pending[k] != 0) {
        e.counters[k]->Increment(e.pending[k]);
        e.pending[k] = 0;
      }
    }
    e.dirty = false;
  }
  dirty_.clear();
  if (overflow_pending_ != 0) {
    for (auto* c : overflow_counters_) c->Increment(overflow_pending_);
    overflow_pending_ = 0;
  }
}

std::size_t BoundedCounters::Sweep(KeyTable<Entry>* table, std::int64_t now) {
  return table->EraseIf([&](const Entry& e) {
    if (now - e.last_used <= limits_.idle_timeout_seconds) return false;
    for (std::size_t k = 0; k < families_.size(); ++k) families_[k]->Remove(e.counters[k]);
    return true;
  });
}

std::size_t BoundedCounters::Expire(std::int64_t now) {
  Flush();  // no pending amount may point at an entry that goes
  return Sweep(&entries_, now) + Sweep(&overflow_entries_, now);
}

}  // namespace mailrelay
