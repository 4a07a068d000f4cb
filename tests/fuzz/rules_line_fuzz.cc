// libFuzzer target: log lines against a fixed rule set: each line through RuleCounters::OnLine
// for both MTAs, and the reject text the Exim and Postfix parsers extract through MapReject, as
// the pipeline does with --rules.file. The rules have captures (optional ones too), prefilters,
// patterns with nested repetition and small caps, so that the overflow and expiry paths run.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>

#include <prometheus/registry.h>

#include "fuzz_util.h"
#include "mta/exim/log_parser.h"
#include "mta/postfix/log_parser.h"
#include "rules/rule_counters.h"
#include "rules/rule_set.h"

namespace {

constexpr char kRules[] = R"(
reject_reasons:
  - name: dictionary
    mta: exim
    prefilter: "ictionary"
    pattern: '(?i)dictionary attack'
    reason: ratelimit
  - name: policy
    pattern: 'Access denied by (?:local )?policy'
    reason: relay_denied
counters:
  - name: php_scripts
    mta: exim
    prefilter: " cwd=/home/"
    pattern: ' cwd=/home/(?P<user>[^/ ]+)(?P<dir>/[^ ]*)? \d+ args: '
    max_series: 10
  - name: auth_domain
    mta: exim
    pattern: ' A=(?P<mech>\w+):[^@ ]*@(?P<domain>\S+)'
    max_series: 10
    idle_timeout: 1h
  - name: milter
    mta: postfix
    prefilter: "milter-reject: "
    pattern: 'milter-reject: (?P<stage>[A-Z-]+) from (?P<client>[^:]*): (?P<reply>.*?)(?:; |$)'
    max_series: 10
  - name: nested
    pattern: '(?P<run>(x+x+)+y)|(?P<word>(\w+\s?)*\.)'
    max_series: 5
  - name: any
    pattern: '(?i)(?P<anything>rejected|deferred|bounced)'
)";

struct State {
  State() {
    mailrelay::RulesOptions options;
    options.mtas = {"exim", "postfix"};
    auto rules = mailrelay::ParseRules(kRules, options, "fuzz");
    if (!rules.ok() || !counters.SetRules(*rules).ok()) std::abort();
    exim.SetReferenceTime(now);
    postfix.SetReferenceTime(now);
  }
  prometheus::Registry registry;
  prometheus::Family<prometheus::Counter>& overflow =
      prometheus::BuildCounter().Name("mailrelay_label_overflow_total").Register(registry);
  mailrelay::RuleCounters counters{registry, overflow};
  mailrelay::EximLogParser exim;
  mailrelay::PostfixLogParser postfix;
  std::int64_t now = 1700000000;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static State* s = new State();
  mailrelay::fuzz::ForEachLine(mailrelay::fuzz::AsText(data, size), [](std::string_view line) {
    s->counters.OnLine("exim", line, s->now);
    s->counters.OnLine("postfix", line, s->now);
    mailrelay::Event ev;
    if (s->exim.Parse(line, &ev) == mailrelay::ParseStatus::kOk &&
        ev.type == mailrelay::EventType::kReject) {
      s->counters.MapReject(ev.reject_text, "exim");
    }
    mailrelay::PostfixRecord record;
    if (s->postfix.Parse(line, &record) == mailrelay::ParseStatus::kOk &&
        record.kind == mailrelay::PostfixKind::kReject) {
      s->counters.MapReject(record.reject_text, "postfix");
    }
  });
  s->counters.Flush();
  s->now += 600;
  if (s->now % 36000 == 0) s->counters.Expire(s->now);
  return 0;
}
