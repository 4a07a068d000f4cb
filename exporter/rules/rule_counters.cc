#include "rules/rule_counters.h"

#include <algorithm>
#include <exception>
#include <span>
#include <utility>

#include "common/logging.h"

namespace mailrelay {

namespace {

// BoundedCounters::Add takes its label values as an initializer_list; a rule has 0 to
// kMaxRuleLabels of them, known only at run time.
void AddOne(BoundedCounters& c, const std::array<std::string_view, kMaxRuleLabels>& v,
            std::size_t n, std::int64_t now) {
  static_assert(kMaxRuleLabels == 8, "one case per label count");
  switch (n) {
    case 0:
      c.Add({}, {1}, now);
      break;
    case 1:
      c.Add({v[0]}, {1}, now);
      break;
    case 2:
      c.Add({v[0], v[1]}, {1}, now);
      break;
    case 3:
      c.Add({v[0], v[1], v[2]}, {1}, now);
      break;
    case 4:
      c.Add({v[0], v[1], v[2], v[3]}, {1}, now);
      break;
    case 5:
      c.Add({v[0], v[1], v[2], v[3], v[4]}, {1}, now);
      break;
    case 6:
      c.Add({v[0], v[1], v[2], v[3], v[4], v[5]}, {1}, now);
      break;
    case 7:
      c.Add({v[0], v[1], v[2], v[3], v[4], v[5], v[6]}, {1}, now);
      break;
    default:
      c.Add({v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7]}, {1}, now);
      break;
  }
}

}  // namespace

bool RuleCounters::Family::Same(const CounterRule& r) const {
  return name == r.family && help == r.help && labels == r.labels &&
         limits.max_series == r.limits.max_series &&
         limits.idle_timeout_seconds == r.limits.idle_timeout_seconds &&
         limits.max_label_bytes == r.limits.max_label_bytes;
}

RuleCounters::RuleCounters(prometheus::Registry& registry,
                           prometheus::Family<prometheus::Counter>& overflow_family)
    : registry_(registry),
      overflow_family_(overflow_family),
      matches_family_(prometheus::BuildCounter()
                          .Name("mailrelay_rules_matches_total")
                          .Help("Matches of each --rules.file rule: rejects whose reason it set "
                                "(reject_reasons), log lines it counted (counters).")
                          .Register(registry)),
      loaded_reject_(prometheus::BuildGauge()
                         .Name("mailrelay_rules_loaded")
                         .Help("Rules of --rules.file in force, by kind.")
                         .Register(registry)
                         .Add({{"kind", "reject"}})),
      loaded_counter_(prometheus::BuildGauge()
                          .Name("mailrelay_rules_loaded")
                          .Help("Rules of --rules.file in force, by kind.")
                          .Register(registry)
                          .Add({{"kind", "counter"}})) {}

RuleCounters::~RuleCounters() = default;

void RuleCounters::Unregister(Family* f) {
  f->counters.reset();
  if (f->family != nullptr) registry_.Remove(*f->family);
  f->family = nullptr;
  // BoundedCounters added mailrelay_label_overflow_total{metric=<family>}; Add returns it.
  overflow_family_.Remove(&overflow_family_.Add({{"metric", f->name}}));
}

Status RuleCounters::SetRules(std::shared_ptr<const RuleSet> rules) {
  ApplyPending();
  std::vector<Family> old = std::move(families_);
  families_.clear();
  std::vector<Pending> old_matches = std::move(reject_matches_);
  old_matches.insert(old_matches.end(), counter_matches_.begin(), counter_matches_.end());
  reject_matches_.clear();
  counter_matches_.clear();
  rules_ = std::move(rules);
  Status status;

  // Families that stay: moved over. The others go first, so that a rule that changed its
  // labels can register its family again under the same name.
  std::vector<bool> kept(old.size(), false);
  std::vector<Family> next;
  const std::size_t n = rules_ ? rules_->counter_rules().size() : 0;
  next.resize(n);
  for (std::size_t i = 0; i < n; ++i) {
    const CounterRule& r = rules_->counter_rules()[i];
    for (std::size_t j = 0; j < old.size(); ++j) {
      if (!kept[j] && old[j].counters && old[j].Same(r)) {
        next[i] = std::move(old[j]);
        kept[j] = true;
        break;
      }
    }
  }
  for (std::size_t j = 0; j < old.size(); ++j) {
    if (!kept[j]) Unregister(&old[j]);
  }
  for (std::size_t i = 0; i < n; ++i) {
    if (next[i].counters) continue;
    const CounterRule& r = rules_->counter_rules()[i];
    Family& f = next[i];
    f.name = r.family;
    f.help = r.help;
    f.labels = r.labels;
    f.limits = r.limits;
    std::vector<LabelSpec> specs;
    for (const auto& l : r.labels) specs.push_back({l, true});
    try {
      f.counters = std::make_unique<BoundedCounters>(
          registry_, std::vector<std::pair<std::string, std::string>>{{r.family, r.help}},
          std::move(specs), r.limits, overflow_family_);
      // The family BoundedCounters registered (Merge: the same object), to remove it later.
      f.family = &prometheus::BuildCounter().Name(r.family).Help(r.help).Register(registry_);
    } catch (const std::exception& e) {
      f.counters.reset();
      status = InternalError("rule " + r.name + ": cannot register " + r.family + ": " + e.what());
    }
  }
  families_ = std::move(next);

  // Self-metrics: a series per rule name (kept when the name stays), the others removed.
  auto match_counter = [&](const std::string& name) {
    return &matches_family_.Add({{"rule", name}});
  };
  std::vector<prometheus::Counter*> live;
  if (rules_) {
    for (const auto& r : rules_->reject_rules()) {
      reject_matches_.push_back({match_counter(r.name), 0});
      live.push_back(reject_matches_.back().counter);
    }
    for (const auto& r : rules_->counter_rules()) {
      counter_matches_.push_back({match_counter(r.name), 0});
      live.push_back(counter_matches_.back().counter);
    }
  }
  for (const auto& p : old_matches) {
    if (std::find(live.begin(), live.end(), p.counter) == live.end()) {
      matches_family_.Remove(p.counter);
    }
  }
  loaded_reject_.Set(rules_ ? static_cast<double>(rules_->reject_rules().size()) : 0);
  loaded_counter_.Set(static_cast<double>(n));
  return status;
}

void RuleCounters::RequestRules(std::shared_ptr<const RuleSet> rules) {
  std::lock_guard<std::mutex> lock(request_mutex_);
  requested_ = std::move(rules);
  request_pending_ = true;
}

std::optional<RejectReason> RuleCounters::MapReject(std::string_view reject_text,
                                                    std::string_view mta) {
  if (!rules_) return std::nullopt;
  auto i = rules_->MatchReject(reject_text, mta);
  if (!i) return std::nullopt;
  reject_matches_[*i].amount += 1;
  return rules_->reject_rules()[*i].reason;
}

void RuleCounters::OnLine(std::string_view mta, std::string_view line, std::int64_t now) {
  if (!rules_) return;
  for (std::uint32_t i : rules_->CountersFor(mta)) {
    const std::size_t n = rules_->counter_rules()[i].labels.size();
    if (!rules_->MatchCounter(i, line, std::span<std::string_view>(labels_.data(), n))) {
      continue;
    }
    counter_matches_[i].amount += 1;
    if (families_[i].counters) AddOne(*families_[i].counters, labels_, n, now);
  }
}

void RuleCounters::ApplyPending() {
  for (auto* group : {&reject_matches_, &counter_matches_}) {
    for (auto& p : *group) {
      if (p.amount != 0) {
        p.counter->Increment(p.amount);
        p.amount = 0;
      }
    }
  }
  for (auto& f : families_) {
    if (f.counters) f.counters->Flush();
  }
}

void RuleCounters::Flush() {
  ApplyPending();
  if (request_pending_.exchange(false)) {
    std::shared_ptr<const RuleSet> rules;
    {
      std::lock_guard<std::mutex> lock(request_mutex_);
      rules = std::move(requested_);
    }
    Status s = SetRules(std::move(rules));
    if (!s.ok()) Log(LogLevel::kError, "rules: swap incomplete", {{"err", s.message()}});
  }
}

std::size_t RuleCounters::Expire(std::int64_t now) {
  std::size_t removed = 0;
  for (auto& f : families_) {
    if (f.counters) removed += f.counters->Expire(now);
  }
  return removed;
}

}  // namespace mailrelay
