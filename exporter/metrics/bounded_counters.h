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
// Not thread-safe: one thread updates and expires. Scrapes read the families through
// prometheus-cpp, which locks them.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/registry.h>

#include "metrics/key_table.h"

namespace mailrelay {

inline constexpr std::string_view kOverflowValue = "__overflow__";

struct BoundedLimits {
  std::size_t max_series = 2000;
  std::int64_t idle_timeout_seconds = 7200;
  std::size_t max_label_bytes = 128;
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

  // Adds `amounts[k]` to family k for the series with these label values (one per LabelSpec).
  // A new series appears at once (at 0); the amounts are batched in the entry and applied to
  // the Prometheus counters by Flush(), so that a key hit many times between two flushes costs
  // one atomic update per family, not one per event.
  void Add(std::initializer_list<std::string_view> values, std::initializer_list<double> amounts,
           std::int64_t now);
  // Applies the batched amounts (MailMetrics::Flush, after every read chunk).
  void Flush();

  // Removes series idle for longer than the timeout (after a Flush()). Returns how many keys
  // were removed.
  std::size_t Expire(std::int64_t now);

  std::size_t live_keys() const { return entries_.size(); }

  // Most families one BoundedCounters may own.
  static constexpr std::size_t kMaxFamilies = 4;

 private:
  struct Entry {
    std::array<prometheus::Counter*, kMaxFamilies> counters{};
    std::array<double, kMaxFamilies> pending{};  // not applied yet (integers: exact)
    std::int64_t last_used = 0;
    bool dirty = false;  // listed in dirty_
  };
  Entry& Lookup(std::initializer_list<std::string_view> values, std::int64_t now);
  void MakeEntry(const std::vector<std::string_view>& values, Entry* e);
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
  // Per-call scratch, reused so that an update of an existing series allocates nothing.
  std::string scratch_key_;
  std::vector<std::string> scratch_values_;      // sanitised copies of values that needed it
  std::vector<std::string_view> scratch_views_;  // the label values used
};

}  // namespace mailrelay
