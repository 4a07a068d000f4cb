// BoundedCounters: counter families whose label values come from the outside world (auth users,
// client IPs, local users) with a hard cap on live series and an idle expiry.
//
// One BoundedCounters owns K prometheus-cpp counter families that share a key (e.g. messages and
// recipients per auth user), so a key costs one map entry and the K families overflow together.
//  - A new key past `max_series` goes to the overflow series, whose bounded labels read
//    "__overflow__" (other labels, such as class, are kept), and mailrelay_label_overflow_total
//    {metric=...} is incremented for each family. So does a key whose bounded value itself
//    reads "__overflow__" (it could not get a series of its own).
//  - Keys unused for `idle_timeout` are removed by Expire() (their series vanish from /metrics;
//    a key that comes back starts again from 0, which rate() handles as a counter reset).
//  - Label values are sanitised (valid UTF-8, no control bytes, length-capped) before they are
//    used as keys, so two raw values that sanitise alike share one series.
//  - First count of a new series (live mode, with an ExposureTracker): a new series is exposed
//    at 0 and its increments are held until a render of /metrics has shown that 0; the render
//    that did applies them as it ends, so the count is in the next scrape. increase() and
//    rate() ignore a series' first sample; without the 0, the first burst of a new key (a
//    dormant account that wakes up, a spammer's first scrape interval) would be lost to them.
//    Without a tracker (--oneshot, a single render at the end) amounts apply at Flush().
// One thread updates, flushes and expires (not thread-safe among those calls). Scrapes read the
// families through prometheus-cpp, which locks them; the tracker's render thread touches only
// the held increments, under their own mutex.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include <prometheus/collectable.h>
#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/registry.h>

#include "metrics/key_table.h"

namespace mailrelay {

inline constexpr std::string_view kOverflowValue = "__overflow__";

class BoundedCounters;

// ExposureTracker is the Collectable that renders of /metrics go through: it collects `inner`
// (the registry holding the bounded families), counting renders started and finished, and
// when a render ends it applies the held first increments of the series that render showed
// at 0. Renders through it are serialised (the registry serialises its Collect() anyway).
class ExposureTracker : public prometheus::Collectable {
 public:
  explicit ExposureTracker(std::shared_ptr<prometheus::Collectable> inner);
  ExposureTracker(const ExposureTracker&) = delete;
  ExposureTracker& operator=(const ExposureTracker&) = delete;

  std::vector<prometheus::MetricFamily> Collect() const override;

  std::uint64_t renders_started() const { return started_.load(); }
  std::uint64_t renders_finished() const { return finished_.load(); }

 private:
  friend class BoundedCounters;
  void Attach(BoundedCounters* counters);
  void Detach(BoundedCounters* counters);

  std::shared_ptr<prometheus::Collectable> inner_;
  mutable std::mutex collect_mutex_;  // one render at a time
  mutable std::atomic<std::uint64_t> started_{0};
  mutable std::atomic<std::uint64_t> finished_{0};
  mutable std::mutex attached_mutex_;
  std::vector<BoundedCounters*> attached_;
};

struct BoundedLimits {
  std::size_t max_series = 2000;
  std::int64_t idle_timeout_seconds = 7200;
  std::size_t max_label_bytes = 128;
  // Live mode: hold the first increments of every new series until a render through this
  // tracker has shown it at 0. Null (--oneshot, one render at the end): apply them at Flush().
  ExposureTracker* exposure = nullptr;
};

struct LabelSpec {
  std::string name;
  bool bounded;  // attacker-chosen value: sanitised, capped, replaced on overflow
};

class BoundedCounters {
 public:
  // `families` are {name, help} pairs; all share `labels`.
  BoundedCounters(prometheus::Registry& registry,
                  std::vector<std::pair<std::string, std::string>> families,
                  std::vector<LabelSpec> labels, BoundedLimits limits,
                  prometheus::Family<prometheus::Counter>& overflow_family);
  ~BoundedCounters();
  BoundedCounters(const BoundedCounters&) = delete;
  BoundedCounters& operator=(const BoundedCounters&) = delete;

  // Adds `amounts[k]` to family k for the series with these label values (one per LabelSpec).
  // A new series appears at once (at 0); the amounts are batched in the entry and applied to
  // the Prometheus counters by Flush(), so that a key hit many times between two flushes costs
  // one atomic update per family, not one per event.
  void Add(std::initializer_list<std::string_view> values, std::initializer_list<double> amounts,
           std::int64_t now);
  // Applies the batched amounts (MailMetrics::Flush, after every read chunk); those of a new
  // series not shown at 0 yet are staged for the tracker to apply (see ReleaseExposed).
  void Flush();

  // Removes series idle for longer than the timeout (after a Flush()). Returns how many keys
  // were removed. A series whose first increment is still held is kept until it is applied.
  std::size_t Expire(std::int64_t now);

  // Render thread (ExposureTracker, as render number `finished` ends): applies the staged
  // increments of the series that render showed at 0.
  void ReleaseExposed(std::uint64_t finished);

  std::size_t live_keys() const { return entries_.size(); }
  // New series whose first increments are still held (waiting for a render).
  std::size_t held_keys() const;

  // Most families one BoundedCounters may own.
  static constexpr std::size_t kMaxFamilies = 4;

 private:
  // The held increments of one new series, shared with the render thread (under held_mutex_).
  struct Held {
    std::array<prometheus::Counter*, kMaxFamilies> counters{};
    std::array<double, kMaxFamilies> staged{};
    std::uint64_t render = 0;  // applied when this render has finished
    std::uint32_t entry = 0;   // dirty_ code of the entry (index | kOverflowBit)
    bool released = false;     // applied by the render thread; the entry forgets it at Flush()
  };
  struct Entry {
    std::array<prometheus::Counter*, kMaxFamilies> counters{};
    std::array<double, kMaxFamilies> pending{};  // not applied yet (integers: exact)
    std::int64_t last_used = 0;
    // New series: its increments wait until render number `hold_until` has finished (0: not
    // held). `held` is its staged amounts once a Flush() came before that render.
    std::uint64_t hold_until = 0;
    Held* held = nullptr;
    bool dirty = false;  // listed in dirty_
  };
  Entry& Lookup(std::initializer_list<std::string_view> values, std::int64_t now);
  Entry& At(std::uint32_t code);
  void MakeEntry(const std::vector<std::string_view>& values, Entry* e);
  void Apply(Entry* e);
  std::size_t Sweep(KeyTable<Entry>* table, std::int64_t now);

  std::vector<prometheus::Family<prometheus::Counter>*> families_;
  std::vector<LabelSpec> labels_;
  BoundedLimits limits_;
  std::vector<prometheus::Counter*> overflow_counters_;  // one per family
  KeyTable<Entry> entries_;
  KeyTable<Entry> overflow_entries_;  // keyed by the unbounded labels
  // Entries with pending amounts: an index of entries_, or of overflow_entries_ | kOverflowBit.
  static constexpr std::uint32_t kOverflowBit = 0x80000000u;
  std::vector<std::uint32_t> dirty_;
  double overflow_pending_ = 0;  // updates sent to __overflow__ since the last Flush()
  // Staged first increments; the vector is changed by the updating thread only (under the
  // mutex), the nodes' staged/released also by the render thread (under the mutex).
  mutable std::mutex held_mutex_;
  std::vector<std::unique_ptr<Held>> held_;
  // Per-call scratch, reused so that an update of an existing series allocates nothing.
  std::string scratch_key_;
  std::vector<std::string> scratch_values_;      // sanitised copies of values that needed it
  std::vector<std::string_view> scratch_views_;  // the label values used
  // The overflow series the last over-cap update went to (kNone after an expiry sweep).
  std::string last_overflow_key_;
  std::uint32_t index_of_last_overflow_ = KeyTable<Entry>::kNone;
};

}  // namespace mailrelay
