// libFuzzer target: rules files (--rules.file) through ParseRules; every file that is accepted
// is swapped into one long-lived RuleCounters (as a SIGHUP reload would), which then matches
// the input's own lines and a few fixed log lines against it, flushes and expires.
#include <cstddef>
#include <cstdint>
#include <memory>

#include <prometheus/registry.h>

#include "fuzz_util.h"
#include "rules/rule_counters.h"
#include "rules/rule_set.h"

namespace {

struct State {
  prometheus::Registry registry;
  prometheus::Family<prometheus::Counter>& overflow =
      prometheus::BuildCounter().Name("mailrelay_label_overflow_total").Register(registry);
  mailrelay::RuleCounters counters{registry, overflow};
  std::int64_t now = 1700000000;
};

constexpr std::string_view kLines[] = {
    "2026-11-23 09:00:01 cwd=/home/acme12/public_html 3 args: /usr/sbin/sendmail -t -i",
    "2026-11-23 09:00:01 1xV63t-0004DL-0K <= a@b.example H=(x) [192.0.2.1]:5 P=esmtpsa "
    "A=dovecot_login:a@b.example S=4 T=\"s\" for c@d.example",
    "Nov 23 09:00:01 mx1 postfix/cleanup[1]: 4B2C: milter-reject: END-OF-MESSAGE from "
    "x[192.0.2.1]: 5.7.1 Spam; from=<a@b> to=<c@d>",
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static State* s = new State();
  const std::string_view text = mailrelay::fuzz::AsText(data, size);
  mailrelay::RulesOptions options;
  options.mtas = {"exim", "postfix"};
  options.limits.max_series = 20;  // reach the overflow paths quickly
  auto rules = mailrelay::ParseRules(text, options, "fuzz.yml");
  if (!rules.ok()) return 0;
  if (!s->counters.SetRules(*rules).ok()) __builtin_trap();  // validated names must register
  for (std::string_view mta : {"exim", "postfix", "other"}) {
    for (auto line : kLines) {
      s->counters.OnLine(mta, line, s->now);
      s->counters.MapReject(line, mta);
    }
    mailrelay::fuzz::ForEachLine(text, [&](std::string_view line) {
      s->counters.OnLine(mta, line, s->now);
      s->counters.MapReject(line, mta);
    });
  }
  s->counters.Flush();
  s->now += 3600;
  s->counters.Expire(s->now);
  return 0;
}
