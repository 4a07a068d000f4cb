// BoundedCounters: counter families whose label values come from the outside world (auth users,
// client IPs, local users) with a hard cap on live series and an idle expiry.
//
// One BoundedCounters owns K prometheus-cpp counter families that share a key (e.g. messages and
// recipients per auth user), so a key costs one map entry and the K families overflow together.
//  - A new key past `max_series` goes to the overflow series, whose bounded labels read
//    "__overflow__" (other labels, such as class, are kept), and mailrelay_label_overflow_total
//    {metric=...} is incremented for each family.
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
#include <unordered_map>
#include <vector>

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/registry.h>

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
  void Add(std::initializer_list<std::string_view> values, std::initializer_list<double> amounts,
           std::int64_t now);

  // Removes series idle for longer than the timeout. Returns how many keys were removed.
  std::size_t Expire(std::int64_t now);

  std::size_t live_keys() const { return entries_.size(); }

 private:
  struct Entry {
    std::vector<prometheus::Counter*> counters;
    std::int64_t last_used = 0;
  };
  Entry& Lookup(std::initializer_list<std::string_view> values, std::int64_t now);
  Entry MakeEntry(const std::vector<std::string>& values);

  std::vector<prometheus::Family<prometheus::Counter>*> families_;
  std::vector<LabelSpec> labels_;
  BoundedLimits limits_;
  std::vector<prometheus::Counter*> overflow_counters_;  // one per family
  std::unordered_map<std::string, Entry> entries_;
  std::unordered_map<std::string, Entry> overflow_entries_;  // keyed by the unbounded labels
  std::string scratch_key_;
  std::vector<std::string> scratch_values_;
};

}  // namespace mailrelay
