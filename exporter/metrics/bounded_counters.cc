#include "metrics/bounded_counters.h"

#include <algorithm>
#include <stdexcept>
#include <utility>

#include "common/text.h"

namespace mailrelay {

ExposureTracker::ExposureTracker(std::shared_ptr<prometheus::Collectable> inner)
    : inner_(std::move(inner)) {}

std::vector<prometheus::MetricFamily> ExposureTracker::Collect() const {
  std::lock_guard<std::mutex> render(collect_mutex_);
  // A series created before this increment (BoundedCounters reads renders_started() after
  // adding it to its family) is in the families collected below, at 0.
  started_.fetch_add(1);
  std::vector<prometheus::MetricFamily> families = inner_->Collect();
  const std::uint64_t finished = finished_.fetch_add(1) + 1;
  std::lock_guard<std::mutex> lock(attached_mutex_);
  for (BoundedCounters* c : attached_) c->ReleaseExposed(finished);
  return families;
}

void ExposureTracker::Attach(BoundedCounters* counters) {
  std::lock_guard<std::mutex> lock(attached_mutex_);
  attached_.push_back(counters);
}

void ExposureTracker::Detach(BoundedCounters* counters) {
  std::lock_guard<std::mutex> lock(attached_mutex_);
  attached_.erase(std::remove(attached_.begin(), attached_.end(), counters), attached_.end());
}

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
  if (limits_.exposure != nullptr) limits_.exposure->Attach(this);
}

BoundedCounters::~BoundedCounters() {
  if (limits_.exposure != nullptr) limits_.exposure->Detach(this);
}

BoundedCounters::Entry& BoundedCounters::At(std::uint32_t code) {
  return (code & kOverflowBit) != 0 ? overflow_entries_.value(code & ~kOverflowBit)
                                    : entries_.value(code);
}

void BoundedCounters::MakeEntry(const std::vector<std::string_view>& values, Entry* e) {
  prometheus::Labels labels;
  for (std::size_t i = 0; i < labels_.size(); ++i) {
    labels.emplace(labels_[i].name, std::string(values[i]));
  }
  for (std::size_t k = 0; k < families_.size(); ++k) e->counters[k] = &families_[k]->Add(labels);
  // After the Add: a render that starts later than this read shows the series (at 0).
  if (limits_.exposure != nullptr) e->hold_until = limits_.exposure->renders_started() + 1;
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
  // Past the cap most updates of a family go to the same overflow series (the unbounded labels,
  // like `class`, repeat): the last one found is taken again without hashing and probing.
  if (index_of_last_overflow_ != KeyTable<Entry>::kNone && scratch_key_ == last_overflow_key_) {
    index = index_of_last_overflow_;
  } else {
    hash = KeyTable<Entry>::Hash(scratch_key_);
    index = overflow_entries_.Find(scratch_key_, hash);
    if (index == KeyTable<Entry>::kNone) {
      index = overflow_entries_.Insert(scratch_key_, hash);
      MakeEntry(scratch_views_, &overflow_entries_.value(index));
    }
    last_overflow_key_ = scratch_key_;
    index_of_last_overflow_ = index;
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

void BoundedCounters::Apply(Entry* e) {
  for (std::size_t k = 0; k < families_.size(); ++k) {
    if (e->pending[k] != 0) {
      e->counters[k]->Increment(e->pending[k]);
      e->pending[k] = 0;
    }
  }
}

void BoundedCounters::Flush() {
  // The mutex is taken only while first increments are held (new keys since the last render).
  std::unique_lock<std::mutex> lock(held_mutex_, std::defer_lock);
  if (!held_.empty()) {
    lock.lock();
    // Series whose staged increments a render has applied are ordinary series again.
    auto released = std::partition(held_.begin(), held_.end(),
                                   [](const std::unique_ptr<Held>& h) { return !h->released; });
    for (auto it = released; it != held_.end(); ++it) {
      Entry& e = At((*it)->entry);
      e.hold_until = 0;
      e.held = nullptr;
    }
    held_.erase(released, held_.end());
  }
  for (std::uint32_t d : dirty_) {
    Entry& e = At(d);
    e.dirty = false;
    if (e.hold_until != 0 && e.held == nullptr &&
        limits_.exposure->renders_finished() >= e.hold_until) {
      e.hold_until = 0;  // a render has shown the 0 already
    }
    if (e.hold_until == 0) {
      Apply(&e);
      continue;
    }
    if (!lock.owns_lock()) lock.lock();  // e.held is null here: nothing to release yet
    if (e.held == nullptr) {
      auto h = std::make_unique<Held>();
      h->counters = e.counters;
      h->render = e.hold_until;
      h->entry = d;
      e.held = h.get();
      held_.push_back(std::move(h));
    }
    for (std::size_t k = 0; k < families_.size(); ++k) {
      e.held->staged[k] += e.pending[k];
      e.pending[k] = 0;
    }
  }
  dirty_.clear();
  if (overflow_pending_ != 0) {
    for (auto* c : overflow_counters_) c->Increment(overflow_pending_);
    overflow_pending_ = 0;
  }
}

void BoundedCounters::ReleaseExposed(std::uint64_t finished) {
  std::lock_guard<std::mutex> lock(held_mutex_);
  for (auto& h : held_) {
    if (h->released || h->render > finished) continue;
    for (std::size_t k = 0; k < families_.size(); ++k) {
      if (h->staged[k] != 0) h->counters[k]->Increment(h->staged[k]);
      h->staged[k] = 0;
    }
    h->released = true;
  }
}

std::size_t BoundedCounters::held_keys() const {
  std::size_t n = 0;
  std::lock_guard<std::mutex> lock(held_mutex_);
  for (const auto& h : held_) {
    if (!h->released) ++n;
  }
  return n;
}

std::size_t BoundedCounters::Sweep(KeyTable<Entry>* table, std::int64_t now) {
  return table->EraseIf([&](const Entry& e) {
    if (now - e.last_used <= limits_.idle_timeout_seconds) return false;
    if (e.hold_until != 0) return false;  // its counters are in held_: wait for the render
    for (std::size_t k = 0; k < families_.size(); ++k) families_[k]->Remove(e.counters[k]);
    return true;
  });
}

std::size_t BoundedCounters::Expire(std::int64_t now) {
  Flush();  // no pending amount may point at an entry that goes
  index_of_last_overflow_ = KeyTable<Entry>::kNone;  // a sweep may move or drop entries
  return Sweep(&entries_, now) + Sweep(&overflow_entries_, now);
}

}  // namespace mailrelay
