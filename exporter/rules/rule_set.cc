#include "rules/rule_set.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <map>
#include <set>
#include <utility>

#include <re2/filtered_re2.h>
#include <re2/re2.h>
#include <yaml-cpp/yaml.h>

#include "common/file_io.h"
#include "common/text.h"
#include "common/unique_fd.h"
#include "rules/literal_search.h"

namespace mailrelay {

namespace {

// Most capturing groups a pattern may have (named or not): submatches live in a stack array.
constexpr int kMaxGroups = 16;
// RE2's memory budget per pattern (program + DFA cache; past it the DFA falls back to the
// slower NFA, never to a wrong answer). RE2's default is 8 MiB; kMaxRules patterns at most
// 128 x 2 MiB.
constexpr std::int64_t kPatternMaxMem = 2 << 20;
constexpr std::size_t kMaxNameBytes = 64;

// Label names a capture may not take: Prometheus' target labels (they would be renamed to
// exported_*) and the histogram/summary ones.
const std::set<std::string, std::less<>> kReservedLabels = {"instance", "job", "le", "quantile"};

RE2::Options PatternOptions() {
  RE2::Options options;
  options.set_log_errors(false);
  options.set_max_mem(kPatternMaxMem);
  return options;
}

bool IsLower(char c) { return c >= 'a' && c <= 'z'; }
bool IsDigitChar(char c) { return c >= '0' && c <= '9'; }
bool IsAlpha(char c) { return IsLower(c) || (c >= 'A' && c <= 'Z'); }

// A rule name: lower-case snake_case, so that mailrelay_rule_<name>_total is a conventional
// metric name.
std::string CheckRuleName(std::string_view name) {
  if (name.empty()) return "must not be empty";
  if (name.size() > kMaxNameBytes) return "longer than 64 bytes";
  if (!IsLower(name[0])) return "must start with a lower-case letter";
  for (char c : name) {
    if (!IsLower(c) && !IsDigitChar(c) && c != '_') {
      return "only a-z, 0-9 and _ are allowed";
    }
  }
  if (name.size() >= 6 && name.substr(name.size() - 6) == "_total") {
    return "must not end in _total (the family name adds it)";
  }
  return {};
}

std::string CheckLabelName(std::string_view name) {
  if (name.empty() || !(IsAlpha(name[0]) || name[0] == '_')) {
    return "must start with a letter or _";
  }
  for (char c : name) {
    if (!IsAlpha(c) && !IsDigitChar(c) && c != '_') return "only A-Z, a-z, 0-9 and _ are allowed";
  }
  if (name.substr(0, 2) == "__") return "names starting with __ are reserved by Prometheus";
  if (kReservedLabels.count(name) != 0) return "is reserved (instance, job, le, quantile)";
  return {};
}

// The error of a rules file: "<source>:<line>:<column>: <message>".
class ParseError {
 public:
  explicit ParseError(std::string_view source) : source_(source) {}
  Status At(const YAML::Mark& mark, const std::string& message) const {
    std::string where(source_);
    if (!mark.is_null()) {
      where += ':' + std::to_string(mark.line + 1) + ':' + std::to_string(mark.column + 1);
    }
    return InvalidArgument(where + ": " + message);
  }

 private:
  std::string_view source_;
};

// Where the parenthesis error of `pattern` is (RE2 names the whole pattern for these): the
// last '(' left open, or the first ')' with none open. Escapes, \Q...\E and [...] classes
// are skipped as RE2's parser skips them.
std::optional<std::size_t> ParenErrorOffset(std::string_view p, bool want_unclosed) {
  std::vector<std::size_t> open;
  for (std::size_t i = 0; i < p.size(); ++i) {
    const char c = p[i];
    if (c == '\\') {
      if (i + 1 < p.size() && p[i + 1] == 'Q') {
        auto end = p.find("\\E", i + 2);
        if (end == std::string_view::npos) break;
        i = end + 1;
      } else {
        ++i;
      }
    } else if (c == '[') {
      std::size_t j = i + 1;
      if (j < p.size() && p[j] == '^') ++j;
      if (j < p.size() && p[j] == ']') ++j;  // a leading ] is a literal
      while (j < p.size() && p[j] != ']') {
        if (p[j] == '\\') {
          ++j;
        } else if (p[j] == '[' && j + 1 < p.size() && p[j + 1] == ':') {
          auto end = p.find(":]", j + 2);
          if (end != std::string_view::npos) j = end + 1;
        }
        ++j;
      }
      i = j;
    } else if (c == '(') {
      open.push_back(i);
    } else if (c == ')') {
      if (open.empty()) {
        if (!want_unclosed) return i;
      } else {
        open.pop_back();
      }
    }
  }
  if (want_unclosed && !open.empty()) return open.back();
  return std::nullopt;
}

// A pattern compiled with the project's RE2 options, or the error text with its position:
//   missing ) at offset 10 ("(?P<user>[^/ ]+")
StatusOr<std::unique_ptr<re2::RE2>> CompilePattern(const std::string& pattern) {
  auto re = std::make_unique<re2::RE2>(pattern, PatternOptions());
  if (!re->ok()) {
    std::string error = re->error();
    const std::string& arg = re->error_arg();
    // RE2's error() is "<what>: <error_arg>"; keep <what>, then where the argument starts.
    if (!arg.empty() && error.size() > arg.size() + 2 &&
        error.compare(error.size() - arg.size(), arg.size(), arg) == 0) {
      error.resize(error.size() - arg.size() - 2);
    }
    std::optional<std::size_t> at;
    std::string shown = arg;
    if (re->error_code() == RE2::ErrorMissingParen ||
        re->error_code() == RE2::ErrorUnexpectedParen) {
      at = ParenErrorOffset(pattern, re->error_code() == RE2::ErrorMissingParen);
    } else if (re->error_code() == RE2::ErrorTrailingBackslash) {
      at = pattern.size() - 1;
    } else if (!arg.empty() && pattern.find(arg) != std::string::npos) {
      at = pattern.find(arg);
    }
    if (at) {
      if (shown.empty() || shown == pattern) shown = pattern.substr(*at);
      if (shown.size() > 40) shown = shown.substr(0, 40) + "...";
      error += " at offset " + std::to_string(*at) + " (\"" + shown + "\")";
    }
    return InvalidArgument(error);
  }
  if (re->NumberOfCapturingGroups() > kMaxGroups) {
    return InvalidArgument("more than " + std::to_string(kMaxGroups) +
                           " capturing groups (use (?:...) for groups that are not labels)");
  }
  return re;
}

// The longest literal (lower-case, at least 3 bytes) that every match of `pattern` contains, or
// "" when there is none. FilteredRE2 reduces a pattern to a boolean formula over such literals
// ("atoms"); an atom is required when the formula fails with every other atom present.
std::string RequiredLiteral(const std::string& pattern, const RE2::Options& options) {
  re2::FilteredRE2 filter(3);
  int id = 0;
  if (filter.Add(pattern, options, &id) != RE2::NoError) return {};
  std::vector<std::string> atoms;
  filter.Compile(&atoms);
  std::string best;
  std::vector<int> others;
  std::vector<int> potential;
  for (std::size_t i = 0; i < atoms.size(); ++i) {
    if (atoms[i].size() <= best.size()) continue;
    others.clear();
    for (std::size_t j = 0; j < atoms.size(); ++j) {
      if (j != i) others.push_back(static_cast<int>(j));
    }
    potential.clear();
    filter.AllPotentials(others, &potential);
    if (potential.empty()) best = atoms[i];
  }
  return best;
}

StatusOr<std::string> ScalarOf(const YAML::Node& node, const ParseError& err,
                               const std::string& what) {
  if (!node.IsScalar()) return err.At(node.Mark(), what + ": want a string");
  return node.Scalar();
}

}  // namespace

struct RuleSet::Compiled {
  std::vector<std::unique_ptr<re2::RE2>> rejects;
  std::vector<std::unique_ptr<re2::RE2>> counters;
  // Per counter rule: the group index of each label, and how many submatches to ask RE2 for
  // (1 + the largest of them; 0 when the rule has no labels: RE2 then only runs its DFA).
  std::vector<std::vector<int>> label_groups;
  std::vector<int> submatches;
  // Per rule: its prefilter, else its automatic one (folding case), else none.
  std::vector<LiteralSearcher> reject_filters;
  std::vector<LiteralSearcher> counter_filters;
};

namespace {

LiteralSearcher Prefilter(const std::string& prefilter, const std::string& auto_prefilter) {
  if (!prefilter.empty()) return LiteralSearcher(prefilter, /*fold=*/false);
  return LiteralSearcher(auto_prefilter, /*fold=*/true);
}

}  // namespace

RuleSet::RuleSet() : compiled_(std::make_unique<Compiled>()) {}
RuleSet::~RuleSet() = default;

const RuleSet::MtaIndex& RuleSet::IndexFor(std::string_view mta) const {
  for (const auto& index : by_mta_) {
    if (index.mta == mta) return index;
  }
  return any_mta_;
}

std::optional<std::size_t> RuleSet::MatchReject(std::string_view reject_text,
                                                std::string_view mta) const {
  const re2::StringPiece text(reject_text.data(), reject_text.size());
  for (std::uint32_t i : IndexFor(mta).rejects) {
    if (!compiled_->reject_filters[i].Find(reject_text)) continue;
    if (compiled_->rejects[i]->Match(text, 0, text.size(), RE2::UNANCHORED, nullptr, 0)) {
      return i;
    }
  }
  return std::nullopt;
}

std::optional<RejectReason> RuleSet::MapReject(std::string_view reject_text,
                                               std::string_view mta) const {
  auto i = MatchReject(reject_text, mta);
  if (!i) return std::nullopt;
  return reject_rules_[*i].reason;
}

std::span<const std::uint32_t> RuleSet::CountersFor(std::string_view mta) const {
  return IndexFor(mta).counters;
}

bool RuleSet::MatchCounter(std::size_t rule, std::string_view line,
                           std::span<std::string_view> labels) const {
  if (!compiled_->counter_filters[rule].Find(line)) return false;
  const re2::StringPiece text(line.data(), line.size());
  std::array<re2::StringPiece, kMaxGroups + 1> sub;
  const int n = compiled_->submatches[rule];
  if (!compiled_->counters[rule]->Match(text, 0, text.size(), RE2::UNANCHORED, sub.data(), n)) {
    return false;
  }
  const auto& groups = compiled_->label_groups[rule];
  for (std::size_t k = 0; k < groups.size() && k < labels.size(); ++k) {
    const re2::StringPiece& g = sub[static_cast<std::size_t>(groups[k])];
    labels[k] = g.data() == nullptr ? std::string_view() : std::string_view(g.data(), g.size());
  }
  return true;
}

std::optional<RejectReason> RejectReasonFromName(std::string_view name) {
  for (int i = 0; i < kRejectReasonCount; ++i) {
    auto r = static_cast<RejectReason>(i);
    if (RejectReasonName(r) == name) return r;
  }
  return std::nullopt;
}

namespace {

// What a rule of either kind has in common.
struct RuleBase {
  std::string name;
  std::vector<std::string> mtas;
  std::string prefilter;
  std::string pattern;
  YAML::Mark pattern_mark;
};

// Reads the keys common to both kinds; `extra` receives the others (validated by the caller).
Status ParseRuleBase(const YAML::Node& node, const std::string& where, const ParseError& err,
                     const RulesOptions& options, const std::set<std::string>& allowed,
                     RuleBase* out, std::string* label) {
  if (!node.IsMap()) return err.At(node.Mark(), where + ": want a mapping (name:, pattern:, ...)");
  const YAML::Node name = node["name"];
  if (!name) return err.At(node.Mark(), where + ": missing name");
  auto n = ScalarOf(name, err, where + ": name");
  if (!n.ok()) return n.status();
  out->name = *n;
  *label = where + " \"" + out->name + "\"";
  if (std::string why = CheckRuleName(out->name); !why.empty()) {
    return err.At(name.Mark(), *label + ": name " + why);
  }
  for (const auto& kv : node) {
    const std::string key = kv.first.IsScalar() ? kv.first.Scalar() : std::string();
    if (allowed.count(key) == 0) {
      return err.At(kv.first.Mark(), *label + ": unknown key '" + key + "'");
    }
  }
  if (const YAML::Node mta = node["mta"]) {
    std::vector<YAML::Node> items;
    if (mta.IsSequence()) {
      for (const auto& m : mta) items.push_back(m);
    } else {
      items.push_back(mta);
    }
    if (items.empty()) return err.At(mta.Mark(), *label + ": mta: empty list");
    for (const auto& m : items) {
      auto v = ScalarOf(m, err, *label + ": mta");
      if (!v.ok()) return v.status();
      if (v->empty()) return err.At(m.Mark(), *label + ": mta: empty name");
      if (!options.mtas.empty() &&
          std::find(options.mtas.begin(), options.mtas.end(), *v) == options.mtas.end()) {
        std::string known;
        for (const auto& k : options.mtas) known += (known.empty() ? "" : ", ") + k;
        return err.At(m.Mark(), *label + ": mta: unknown MTA '" + *v + "' (" + known + ")");
      }
      if (std::find(out->mtas.begin(), out->mtas.end(), *v) == out->mtas.end()) {
        out->mtas.push_back(*v);
      }
    }
  }
  if (const YAML::Node pre = node["prefilter"]) {
    auto v = ScalarOf(pre, err, *label + ": prefilter");
    if (!v.ok()) return v.status();
    if (v->empty()) return err.At(pre.Mark(), *label + ": prefilter: empty (leave it out)");
    out->prefilter = *v;
  }
  const YAML::Node pattern = node["pattern"];
  if (!pattern) return err.At(node.Mark(), *label + ": missing pattern");
  auto p = ScalarOf(pattern, err, *label + ": pattern");
  if (!p.ok()) return p.status();
  if (p->empty()) return err.At(pattern.Mark(), *label + ": pattern: empty");
  if (p->size() > kMaxPatternBytes) {
    return err.At(pattern.Mark(),
                  *label + ": pattern: longer than " + std::to_string(kMaxPatternBytes) + " bytes");
  }
  out->pattern = *p;
  out->pattern_mark = pattern.Mark();
  return Status::Ok();
}

StatusOr<std::size_t> ParseMaxSeries(const YAML::Node& node, const ParseError& err,
                                     const std::string& label) {
  auto v = ScalarOf(node, err, label + ": max_series");
  if (!v.ok()) return v.status();
  std::uint64_t n = 0;
  if (!ParseUint64(*v, &n) || n == 0 || n > kMaxRuleSeries) {
    return err.At(node.Mark(), label + ": max_series: want a whole number from 1 to " +
                                   std::to_string(kMaxRuleSeries));
  }
  return static_cast<std::size_t>(n);
}

StatusOr<std::int64_t> ParseIdleTimeout(const YAML::Node& node, const ParseError& err,
                                        const std::string& label) {
  auto v = ScalarOf(node, err, label + ": idle_timeout");
  if (!v.ok()) return v.status();
  double seconds = 0;
  if (!ParseDurationSeconds(*v, &seconds) || seconds < 1 || seconds > 366.0 * 86400) {
    return err.At(node.Mark(),
                  label + ": idle_timeout: want a duration from 1s to 366d, e.g. 30m, 2h");
  }
  return static_cast<std::int64_t>(seconds);
}

}  // namespace

StatusOr<std::shared_ptr<const RuleSet>> ParseRules(std::string_view yaml_text,
                                                    const RulesOptions& options,
                                                    std::string_view source_name) {
  const ParseError err(source_name);
  if (yaml_text.size() > kMaxRulesFileBytes) {
    return InvalidArgument(std::string(source_name) + ": larger than " +
                           std::to_string(kMaxRulesFileBytes) + " bytes");
  }
  std::shared_ptr<RuleSet> set(new RuleSet());
  try {
    const YAML::Node root = YAML::Load(std::string(yaml_text));
    if (root.IsNull()) return std::shared_ptr<const RuleSet>(set);  // an empty file: no rules
    if (!root.IsMap()) {
      return err.At(root.Mark(), "want a mapping with reject_reasons: and/or counters:");
    }
    for (const auto& kv : root) {
      const std::string key = kv.first.IsScalar() ? kv.first.Scalar() : std::string();
      if (key != "reject_reasons" && key != "counters") {
        return err.At(kv.first.Mark(),
                      "unknown key '" + key + "' (want reject_reasons: and/or counters:)");
      }
      if (!kv.second.IsNull() && !kv.second.IsSequence()) {
        return err.At(kv.second.Mark(), key + ": want a list of rules");
      }
    }
    std::set<std::string> names;
    auto& compiled = *set->compiled_;

    static const std::set<std::string> kRejectKeys = {"name", "mta", "prefilter", "pattern",
                                                      "reason"};
    const YAML::Node rejects = root["reject_reasons"];
    std::size_t i = 0;
    for (const auto& node : rejects) {
      RuleBase base;
      std::string label;
      Status s = ParseRuleBase(node, "reject_reasons[" + std::to_string(i++) + "]", err, options,
                               kRejectKeys, &base, &label);
      if (!s.ok()) return s;
      if (!names.insert(base.name).second) {
        return err.At(node["name"].Mark(), label + ": duplicate rule name");
      }
      RejectRule rule;
      const YAML::Node reason = node["reason"];
      if (!reason) return err.At(node.Mark(), label + ": missing reason");
      auto r = ScalarOf(reason, err, label + ": reason");
      if (!r.ok()) return r.status();
      auto parsed = RejectReasonFromName(*r);
      if (!parsed) {
        std::string vocabulary;
        for (int k = 0; k < kRejectReasonCount; ++k) {
          vocabulary += (k == 0 ? "" : ", ");
          vocabulary += RejectReasonName(static_cast<RejectReason>(k));
        }
        return err.At(reason.Mark(), label + ": reason: '" + *r + "' is not one of " + vocabulary);
      }
      rule.reason = *parsed;
      auto re = CompilePattern(base.pattern);
      if (!re.ok()) return err.At(base.pattern_mark, label + ": pattern: " + re.status().message());
      if (base.prefilter.empty())
        rule.auto_prefilter = RequiredLiteral(base.pattern, PatternOptions());
      rule.name = std::move(base.name);
      rule.mtas = std::move(base.mtas);
      rule.prefilter = std::move(base.prefilter);
      rule.pattern = std::move(base.pattern);
      compiled.reject_filters.push_back(Prefilter(rule.prefilter, rule.auto_prefilter));
      set->reject_rules_.push_back(std::move(rule));
      compiled.rejects.push_back(std::move(*re));
    }

    static const std::set<std::string> kCounterKeys = {
        "name", "help", "mta", "prefilter", "pattern", "max_series", "idle_timeout"};
    const YAML::Node counters = root["counters"];
    i = 0;
    for (const auto& node : counters) {
      RuleBase base;
      std::string label;
      Status s = ParseRuleBase(node, "counters[" + std::to_string(i++) + "]", err, options,
                               kCounterKeys, &base, &label);
      if (!s.ok()) return s;
      if (!names.insert(base.name).second) {
        return err.At(node["name"].Mark(), label + ": duplicate rule name");
      }
      CounterRule rule;
      rule.family = std::string(kRuleFamilyPrefix) + base.name + "_total";
      rule.limits = options.limits;
      if (const YAML::Node help = node["help"]) {
        auto h = ScalarOf(help, err, label + ": help");
        if (!h.ok()) return h.status();
        rule.help = *h;
      }
      if (rule.help.empty()) rule.help = "Log lines matched by the counter rule " + base.name + ".";
      if (const YAML::Node max = node["max_series"]) {
        auto m = ParseMaxSeries(max, err, label);
        if (!m.ok()) return m.status();
        rule.limits.max_series = *m;
      }
      if (const YAML::Node idle = node["idle_timeout"]) {
        auto t = ParseIdleTimeout(idle, err, label);
        if (!t.ok()) return t.status();
        rule.limits.idle_timeout_seconds = *t;
      }
      auto re = CompilePattern(base.pattern);
      if (!re.ok()) return err.At(base.pattern_mark, label + ": pattern: " + re.status().message());
      if (base.prefilter.empty())
        rule.auto_prefilter = RequiredLiteral(base.pattern, PatternOptions());
      std::vector<int> groups;
      std::set<std::string, std::less<>> seen;
      for (const auto& [index, name] : (*re)->CapturingGroupNames()) {  // by group index
        if (std::string why = CheckLabelName(name); !why.empty()) {
          return err.At(base.pattern_mark, label + ": pattern: capture name '" + name + "' " + why);
        }
        if (!seen.insert(name).second) {
          return err.At(base.pattern_mark,
                        label + ": pattern: capture name '" + name + "' used twice");
        }
        rule.labels.push_back(name);
        groups.push_back(index);
      }
      if (rule.labels.size() > kMaxRuleLabels) {
        return err.At(base.pattern_mark, label + ": pattern: more than " +
                                             std::to_string(kMaxRuleLabels) + " named captures");
      }
      rule.name = std::move(base.name);
      rule.mtas = std::move(base.mtas);
      rule.prefilter = std::move(base.prefilter);
      rule.pattern = std::move(base.pattern);
      compiled.counter_filters.push_back(Prefilter(rule.prefilter, rule.auto_prefilter));
      set->counter_rules_.push_back(std::move(rule));
      compiled.counters.push_back(std::move(*re));
      compiled.submatches.push_back(
          groups.empty() ? 0 : 1 + *std::max_element(groups.begin(), groups.end()));
      compiled.label_groups.push_back(std::move(groups));
    }
    if (set->reject_rules_.size() + set->counter_rules_.size() > kMaxRules) {
      return err.At(root.Mark(), "more than " + std::to_string(kMaxRules) + " rules");
    }
  } catch (const YAML::Exception& e) {
    return err.At(e.mark, e.msg);
  } catch (const std::exception& e) {
    return InternalError(std::string(source_name) + ": " + e.what());
  }

  // Which rules see which MTA: every MTA named by some rule gets its own lists (its rules and
  // the rules that name none, in file order); other MTAs see only the latter.
  std::set<std::string> mtas;
  for (const auto& r : set->reject_rules_) mtas.insert(r.mtas.begin(), r.mtas.end());
  for (const auto& r : set->counter_rules_) mtas.insert(r.mtas.begin(), r.mtas.end());
  auto applies = [](const std::vector<std::string>& rule_mtas, const std::string* mta) {
    if (rule_mtas.empty()) return true;
    return mta != nullptr && std::find(rule_mtas.begin(), rule_mtas.end(), *mta) != rule_mtas.end();
  };
  auto fill = [&](const std::string* mta, RuleSet::MtaIndex* index) {
    for (std::uint32_t k = 0; k < set->reject_rules_.size(); ++k) {
      if (applies(set->reject_rules_[k].mtas, mta)) index->rejects.push_back(k);
    }
    for (std::uint32_t k = 0; k < set->counter_rules_.size(); ++k) {
      if (applies(set->counter_rules_[k].mtas, mta)) index->counters.push_back(k);
    }
  };
  for (const auto& mta : mtas) {
    RuleSet::MtaIndex index;
    index.mta = mta;
    fill(&mta, &index);
    set->by_mta_.push_back(std::move(index));
  }
  fill(nullptr, &set->any_mta_);
  return std::shared_ptr<const RuleSet>(std::move(set));
}

StatusOr<std::shared_ptr<const RuleSet>> LoadRules(const std::string& path,
                                                   const RulesOptions& options) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK));
  if (fd.get() < 0) return ErrnoStatus(errno, "cannot open rules file " + path);
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return ErrnoStatus(errno, "cannot stat rules file " + path);
  if (!S_ISREG(st.st_mode)) return InvalidArgument("rules file " + path + ": not a regular file");
  if (static_cast<std::uint64_t>(st.st_size) > kMaxRulesFileBytes) {
    return InvalidArgument("rules file " + path + ": larger than " +
                           std::to_string(kMaxRulesFileBytes) + " bytes");
  }
  std::string text;
  int err = ReadFd(fd.get(), kMaxRulesFileBytes, &text);
  if (err == EFBIG) {
    return InvalidArgument("rules file " + path + ": larger than " +
                           std::to_string(kMaxRulesFileBytes) + " bytes");
  }
  if (err != 0) return ErrnoStatus(err, "cannot read rules file " + path);
  return ParseRules(text, options, path);
}

}  // namespace mailrelay
