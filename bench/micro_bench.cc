// Micro-benchmarks of the log hot path and the scrape (Google Benchmark). Input lines come from
// mail_loggen (run once at startup, 100k lines per MTA), so they have the same mix as the
// whole-process benchmark of bench/log_bench.sh.
//
//   micro_bench [--benchmark_filter=REGEX] [--benchmark_repetitions=3 ...]
//
//   BM_EximParse              EximLogParser::Parse per line
//   BM_EximParseClassify      + RelayClassifier::Classify of every arrival
//   BM_EximLineToMetrics      + MailMetrics (what the exporter does per line)
//   BM_PostfixParseClassify   PostfixLogParser + PostfixCorrelator + classify
//   BM_PostfixLineToMetrics   + MailMetrics
//   BM_MetricUpdate/N         BoundedCounters::Add with N live keys (Zipf-like access); N past
//                             the cap measures the __overflow__ path
//   BM_ClassCounter           one class-total increment (a pre-resolved counter)
//   BM_Exposition10k          HttpServer::RenderMetrics() with 10k per-user series
//   BM_Exposition10kCollect   its parts: prometheus-cpp's Registry::Collect(),
//   BM_Exposition10kSort        + SortForExposition,
//   BM_Exposition10kWrite       the text writer alone (AppendTextExposition), and the
//   BM_Exposition10kTextSerializer  baseline: prometheus-cpp's TextSerializer (through an
//                             ostringstream) in place of the writer, as /metrics used to be
//   BM_SpoolHeaderParse       ParseEximSpoolHeader of a typical -H file
//   BM_CpanelLineToMetrics    BM_EximLineToMetrics on the cPanel workload (mail_loggen
//                             --profile=cpanel: extended log_selector, high cardinality)
//   BM_CpanelRules20          the 20 rules of bench/rules/cpanel-20.yml alone: every line
//                             through RuleCounters::OnLine, every reject text through MapReject
//   BM_CpanelRules20NoPrefilter  the same rules with their prefilters removed
//   BM_CpanelLineToMetricsRules20  BM_CpanelLineToMetrics + the 20 rules: the per-line path of
//                             an exporter run with --rules.file
//   BM_RuleShape/K            one counter rule on the cPanel lines, written K = 0: with a `.*`
//                             before the label's end is known (' [=-]> [^@ ]+@(?P<domain>\S+)
//                             .*R=dkim_lookuphost'), 1: with tight fields instead of `.*`, 2: as
//                             0 without the capture (what the captures cost)
//   BM_Re2Pathological/N      a counter rule '(?P<x>(x+x+)+y)' against a line of N 'x' (no
//                             match): bytes/s stays flat as N grows (RE2 is linear)
//   BM_StdRegexPathological/N the same pattern with std::regex (backtracking): the time per
//                             byte explodes with N (kept to N <= 16)
#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include "classify/relay_classifier.h"
#include "http/http_server.h"
#include "http/text_exposition.h"
#include "metrics/bounded_counters.h"
#include "metrics/mail_metrics.h"
#include "mta/exim/exim_module.h"
#include "mta/exim/log_parser.h"
#include "mta/exim/spool_header.h"
#include "mta/postfix/postfix_module.h"
#include "pipeline/line_processor.h"
#include "rules/rule_counters.h"
#include "rules/rule_set.h"

namespace mailrelay {
namespace {

struct Lines {
  std::string text;
  std::vector<std::string_view> lines;
  std::size_t bytes = 0;
};

// Runs mail_loggen and keeps its output in memory. `workload`: exim, postfix, or cpanel (Exim
// with --profile=cpanel).
const Lines& LoadLines(const char* workload) {
  static Lines exim;
  static Lines postfix;
  static Lines cpanel;
  const std::string_view w = workload;
  Lines& l = w == "exim" ? exim : w == "postfix" ? postfix : cpanel;
  if (!l.lines.empty()) return l;
  std::string cmd =
      std::string(MAILRELAY_LOGGEN) +
      (w == "cpanel" ? std::string(" --mta=exim --profile=cpanel") : " --mta=" + std::string(w)) +
      " --lines=100000 --seed=3";
  FILE* p = ::popen(cmd.c_str(), "r");
  if (p == nullptr) std::abort();
  char buf[1 << 16];
  std::size_t n = 0;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) l.text.append(buf, n);
  if (::pclose(p) != 0 || l.text.empty()) {
    std::fprintf(stderr, "micro_bench: %s failed\n", cmd.c_str());
    std::abort();
  }
  std::string_view all = l.text;
  while (!all.empty()) {
    auto nl = all.find('\n');
    std::string_view line = all.substr(0, nl);
    l.lines.push_back(line);
    if (nl == std::string_view::npos) break;
    all.remove_prefix(nl + 1);
  }
  l.bytes = l.text.size();
  return l;
}

RelayPolicy Policy() {
  RelayPolicy p;
  p.local_networks.Add("127.0.0.0/8");
  p.local_networks.Add("::1/128");
  p.ignore_users = {"mailnull", "Debian-exim", "exim"};
  return p;
}

void SetCounters(benchmark::State& state, const Lines& l) {
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()) *
                          static_cast<std::int64_t>(l.lines.size()));
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) *
                          static_cast<std::int64_t>(l.bytes));
}

void BM_EximParse(benchmark::State& state) {
  const Lines& l = LoadLines("exim");
  EximLogParser parser;
  Event ev;
  for (auto _ : state) {
    for (auto line : l.lines) {
      benchmark::DoNotOptimize(parser.Parse(line, &ev));
      benchmark::DoNotOptimize(ev);
    }
  }
  SetCounters(state, l);
}
BENCHMARK(BM_EximParse);

void BM_EximParseClassify(benchmark::State& state) {
  const Lines& l = LoadLines("exim");
  EximLogParser parser;
  RelayClassifier classifier(Policy());
  Event ev;
  for (auto _ : state) {
    for (auto line : l.lines) {
      parser.Parse(line, &ev);
      if (ev.type == EventType::kArrival) {
        Classification c = classifier.Classify(ev);
        benchmark::DoNotOptimize(c);
      }
    }
  }
  SetCounters(state, l);
}
BENCHMARK(BM_EximParseClassify);

std::unique_ptr<MtaModule> Module(std::string_view mta) {
  return mta == "exim" ? MakeEximModule() : MakePostfixModule();
}

// The per-line work of LogSource::OnLine: decoder -> classifier -> metrics; with `rule_set`,
// also what --rules.file adds: every line to RuleCounters, every reject's text to MapReject.
void LineToMetrics(benchmark::State& state, const char* workload,
                   std::shared_ptr<const RuleSet> rule_set = nullptr) {
  const Lines& l = LoadLines(workload);
  const char* mta = std::string_view(workload) == "postfix" ? "postfix" : "exim";
  auto registry = std::make_shared<prometheus::Registry>();
  MailMetrics metrics(registry, BoundedLimits{}, BuildInfo{"bench", "bench"});
  RelayClassifier classifier(Policy());
  DecoderContext ctx;
  ctx.registry = registry.get();
  std::unique_ptr<RuleCounters> rules;
  std::unique_ptr<CountingRules> line_rules;
  if (rule_set) {
    rules = std::make_unique<RuleCounters>(*registry, metrics.overflow_family());
    if (!rules->SetRules(rule_set).ok()) std::abort();
    line_rules = std::make_unique<CountingRules>(*rules, mta);
  }
  LineProcessor processor(Module(mta)->MakeDecoder(LogSpec{}, ctx), classifier, &metrics,
                          line_rules.get());
  LogMetrics& log = metrics.ForLog("bench");
  std::int64_t ts = 0;
  for (auto _ : state) {
    for (auto line : l.lines) {
      log.lines->Increment();
      processor.Process(line, &ts);
    }
    metrics.Flush();
    if (rules) rules->Flush();
  }
  SetCounters(state, l);
}

void BM_EximLineToMetrics(benchmark::State& state) { LineToMetrics(state, "exim"); }
BENCHMARK(BM_EximLineToMetrics);

void BM_PostfixParseClassify(benchmark::State& state) {
  const Lines& l = LoadLines("postfix");
  std::unique_ptr<LineDecoder> decoder = MakePostfixModule()->MakeDecoder(LogSpec{}, {});
  RelayClassifier classifier(Policy());
  std::int64_t ts = 0;
  for (auto _ : state) {
    for (auto line : l.lines) {
      decoder->Decode(line, &ts, [&](const Event& ev) {
        if (ev.type == EventType::kArrival) {
          Classification c = classifier.Classify(ev);
          benchmark::DoNotOptimize(c);
        }
      });
    }
  }
  SetCounters(state, l);
}
BENCHMARK(BM_PostfixParseClassify);

void BM_PostfixLineToMetrics(benchmark::State& state) { LineToMetrics(state, "postfix"); }
BENCHMARK(BM_PostfixLineToMetrics);

// Keys "userN@example.com"; accesses skewed towards low N like real traffic.
void BM_MetricUpdate(benchmark::State& state) {
  const auto keys = static_cast<std::size_t>(state.range(0));
  prometheus::Registry registry;
  auto& overflow = prometheus::BuildCounter().Name("overflow_total").Help("h").Register(registry);
  BoundedLimits limits;
  limits.max_series = 10000;
  BoundedCounters counters(registry, {{"user_messages_total", "h"}, {"user_recipients_total", "h"}},
                           {{"user", true}}, limits, overflow);
  std::vector<std::string> names;
  for (std::size_t i = 0; i < keys; ++i)
    names.push_back("user" + std::to_string(i) + "@example.com");
  std::vector<std::size_t> order;
  std::uint64_t x = 88172645463325252ULL;
  for (int i = 0; i < 4096; ++i) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    // Square of a uniform: low indices are drawn more often.
    double u = static_cast<double>(x % 1000003) / 1000003.0;
    order.push_back(static_cast<std::size_t>(u * u * static_cast<double>(keys)) % keys);
  }
  for (const auto& n : names) counters.Add({n}, {1, 1}, 0);  // every key live (or overflowed)
  counters.Flush();
  std::size_t i = 0;
  for (auto _ : state) {
    counters.Add({names[order[i & 4095]]}, {1, 2}, 0);
    if ((++i & 1023) == 0) counters.Flush();  // as MailMetrics does after each read chunk
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}
BENCHMARK(BM_MetricUpdate)->Arg(1)->Arg(1000)->Arg(10000)->Arg(100000);

void BM_ClassCounter(benchmark::State& state) {
  prometheus::Registry registry;
  auto& c = prometheus::BuildCounter().Name("c_total").Help("h").Register(registry).Add({});
  for (auto _ : state) c.Increment();
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}
BENCHMARK(BM_ClassCounter);

// 5000 authenticated users: auth_user_{messages,recipients}_total, 2 series per user, and the
// rest of MailMetrics' families (about 10.1k series).
std::shared_ptr<prometheus::Registry> Registry10k() {
  auto registry = std::make_shared<prometheus::Registry>();
  BoundedLimits limits;
  limits.max_series = 5000;
  // MailMetrics registers its families in `registry`, which outlives it.
  MailMetrics metrics(registry, limits, BuildInfo{"bench", "bench"});
  Event ev;
  ev.type = EventType::kArrival;
  ev.recipients = 2;
  Classification c;
  c.relay_class = RelayClass::kAuthRelay;
  for (int i = 0; i < 5000; ++i) {
    std::string user = "user" + std::to_string(i) + "@example.com";
    ev.auth_id = user;
    metrics.OnArrival(ev, c);
  }
  metrics.Flush();
  return registry;
}

void BM_Exposition10k(benchmark::State& state) {
  auto registry = Registry10k();
  HttpServer http(HttpServer::Options{}, nullptr);
  http.AddCollectable(registry);
  std::size_t bytes = 0;
  for (auto _ : state) {
    std::string body = http.RenderMetrics();
    bytes = body.size();
    benchmark::DoNotOptimize(body);
  }
  state.counters["body_bytes"] = static_cast<double>(bytes);
}
BENCHMARK(BM_Exposition10k)->Unit(benchmark::kMillisecond);

void BM_Exposition10kCollect(benchmark::State& state) {
  auto registry = Registry10k();
  for (auto _ : state) {
    auto families = registry->Collect();
    benchmark::DoNotOptimize(families);
  }
}
BENCHMARK(BM_Exposition10kCollect)->Unit(benchmark::kMillisecond);

void BM_Exposition10kSort(benchmark::State& state) {
  auto registry = Registry10k();
  for (auto _ : state) {
    auto families = registry->Collect();
    SortForExposition(&families);
    benchmark::DoNotOptimize(families);
  }
}
BENCHMARK(BM_Exposition10kSort)->Unit(benchmark::kMillisecond);

void BM_Exposition10kWrite(benchmark::State& state) {
  auto families = Registry10k()->Collect();
  SortForExposition(&families);
  for (auto _ : state) {
    std::string body;
    AppendTextExposition(families, &body);
    benchmark::DoNotOptimize(body);
  }
}
BENCHMARK(BM_Exposition10kWrite)->Unit(benchmark::kMillisecond);

void BM_Exposition10kTextSerializer(benchmark::State& state) {
  auto registry = Registry10k();
  for (auto _ : state) {
    auto families = registry->Collect();
    SortForExposition(&families);
    std::ostringstream out;
    prometheus::TextSerializer().Serialize(out, families);
    std::string body = out.str();
    benchmark::DoNotOptimize(body);
  }
}
BENCHMARK(BM_Exposition10kTextSerializer)->Unit(benchmark::kMillisecond);

// A -H file as Exim 4.96 writes it for an authenticated submission (values are synthetic).
std::string SpoolHeaderText() {
  std::string h;
  h += "1xV63t-0004DL-0K-H\n";
  h += "mailnull 47 12\n";
  h += "<alice@example.com>\n";
  h += "1795424401 0\n";
  h += "-received_time_usec .512345\n";
  h += "-received_time_complete 1795424401.612345\n";
  h += "-auth_id alice@example.com\n";
  h += "-auth_sender alice@example.com\n";
  h += "-helo_name [192.168.1.20]\n";
  h += "-host_address 198.18.3.7.52144\n";
  h += "-interface_address 192.0.2.10.587\n";
  h += "-received_protocol esmtpsa\n";
  h += "-aclm 0 22\n";
  h += "dovecot_login:alice@ex\n";
  h += "-body_linecount 42\n";
  h += "-max_received_linelength 998\n";
  h += "-deliver_firsttime\n";
  h += "-host_auth dovecot_login\n";
  h += "-host_auth_pubname LOGIN\n";
  h += "-tls_cipher TLS1.3:TLS_AES_256_GCM_SHA384:256\n";
  h += "-tls_ver TLS1.3\n";
  h += "XX\n";
  h += "3\n";
  h += "bob@example.org\n";
  h += "carol@example.net\n";
  h += "dave@example.com\n";
  h += "\n";
  auto header = [&](char flag, const std::string& text) {
    char len[8];
    std::snprintf(len, sizeof len, "%03zu", text.size());
    h += len;
    h += flag;
    h += ' ';
    h += text;
  };
  header('P',
         "Received: from [198.18.3.7] (port=52144 helo=[192.168.1.20])\n\tby server.example.net "
         "with esmtpsa (TLS1.3) tls TLS_AES_256_GCM_SHA384\n\t(Exim 4.96)\n\t(envelope-from "
         "<alice@example.com>)\n\tid 1xV63t-0004DL-0K;\n\tMon, 23 Nov 2026 09:00:01 +0000\n");
  header('I', "Message-ID: <20261123090001.1234@example.com>\n");
  header('F', "From: Alice <alice@example.com>\n");
  header('T', "To: bob@example.org, carol@example.net, dave@example.com\n");
  header(' ', "Subject: Quarterly report\n");
  header(' ', "Date: Mon, 23 Nov 2026 09:00:00 +0000\n");
  header(' ', "MIME-Version: 1.0\n");
  header(' ', "Content-Type: text/plain; charset=utf-8\n");
  return h;
}

void BM_SpoolHeaderParse(benchmark::State& state) {
  std::string text = SpoolHeaderText();
  EximSpoolHeader header;
  Status parsed = ParseEximSpoolHeader(text, "1xV63t-0004DL-0K", &header);
  if (!parsed.ok() || !header.headers_valid) {
    state.SkipWithError(
        ("bad synthetic -H file: " + parsed.message() + std::string(header.header_problem))
            .c_str());
    return;
  }
  for (auto _ : state) {
    EximSpoolHeader h;
    benchmark::DoNotOptimize(ParseEximSpoolHeader(text, "1xV63t-0004DL-0K", &h).ok());
    benchmark::DoNotOptimize(h);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) *
                          static_cast<std::int64_t>(text.size()));
}
BENCHMARK(BM_SpoolHeaderParse);

// ---- cPanel workload and --rules.file ------------------------------------------------------

std::shared_ptr<const RuleSet> BenchRules(bool keep_prefilters) {
  std::ifstream in(MAILRELAY_BENCH_RULES);
  std::stringstream text;
  std::string line;
  while (std::getline(in, line)) {
    if (!keep_prefilters && line.find("prefilter:") != std::string::npos) continue;
    text << line << "\n";
  }
  RulesOptions options;
  options.mtas = {"exim", "postfix"};
  auto rules = ParseRules(text.str(), options, MAILRELAY_BENCH_RULES);
  if (!rules.ok()) {
    std::fprintf(stderr, "micro_bench: %s\n", rules.status().ToString().c_str());
    std::abort();
  }
  return *rules;
}

void BM_CpanelLineToMetrics(benchmark::State& state) { LineToMetrics(state, "cpanel"); }
BENCHMARK(BM_CpanelLineToMetrics);

void BM_CpanelLineToMetricsRules20(benchmark::State& state) {
  LineToMetrics(state, "cpanel", BenchRules(true));
}
BENCHMARK(BM_CpanelLineToMetricsRules20);

void CpanelRules(benchmark::State& state, bool keep_prefilters) {
  const Lines& l = LoadLines("cpanel");
  prometheus::Registry registry;
  RuleCounters rules(
      registry,
      prometheus::BuildCounter().Name("mailrelay_label_overflow_total").Register(registry));
  if (!rules.SetRules(BenchRules(keep_prefilters)).ok()) std::abort();
  // The reject texts, as the parser gives them (the views point into the loaded lines).
  std::vector<std::string_view> rejects;
  EximLogParser parser;
  Event ev;
  for (auto line : l.lines) {
    if (parser.Parse(line, &ev) == ParseStatus::kOk && ev.type == EventType::kReject) {
      rejects.push_back(ev.reject_text);
    }
  }
  for (auto _ : state) {
    for (auto line : l.lines) rules.OnLine("exim", line, 0);
    for (auto text : rejects) benchmark::DoNotOptimize(rules.MapReject(text, "exim"));
    rules.Flush();
  }
  SetCounters(state, l);
}
void BM_CpanelRules20(benchmark::State& state) { CpanelRules(state, true); }
BENCHMARK(BM_CpanelRules20);
void BM_CpanelRules20NoPrefilter(benchmark::State& state) { CpanelRules(state, false); }
BENCHMARK(BM_CpanelRules20NoPrefilter);

// One rule, three ways of writing it (see the header comment).
void BM_RuleShape(benchmark::State& state) {
  static constexpr const char* kPatterns[] = {
      R"( [=-]> [^@ ]+@(?P<domain>\S+) .*R=dkim_lookuphost T=dkim_remote_smtp)",
      R"( [=-]> [^@ ]+@(?P<domain>\S+) F=<[^>]*> R=dkim_lookuphost T=dkim_remote_smtp)",
      R"( [=-]> [^@ ]+@\S+ .*R=dkim_lookuphost T=dkim_remote_smtp)"};
  const Lines& l = LoadLines("cpanel");
  RulesOptions options;
  auto rules = ParseRules(std::string("counters:\n  - name: r\n    prefilter: 'R=dkim_lookuphost'\n"
                                      "    pattern: '") +
                              kPatterns[state.range(0)] + "'\n",
                          options);
  if (!rules.ok()) std::abort();
  std::string_view label;
  const std::size_t n = (*rules)->counter_rules()[0].labels.size();
  for (auto _ : state) {
    for (auto line : l.lines) {
      benchmark::DoNotOptimize(
          (*rules)->MatchCounter(0, line, std::span<std::string_view>(&label, n)));
    }
  }
  SetCounters(state, l);
}
BENCHMARK(BM_RuleShape)->Arg(0)->Arg(1)->Arg(2);

// A pattern that takes a backtracking engine exponential time on a line of x's without a y.
constexpr char kPathological[] = "(x+x+)+y";

void BM_Re2Pathological(benchmark::State& state) {
  RulesOptions options;
  auto rules = ParseRules(
      std::string("counters:\n  - name: p\n    pattern: '(?P<x>") + kPathological + ")'\n",
      options);
  if (!rules.ok()) std::abort();
  const std::string line(static_cast<std::size_t>(state.range(0)), 'x');
  std::string_view label;
  for (auto _ : state) {
    benchmark::DoNotOptimize(
        (*rules)->MatchCounter(0, line, std::span<std::string_view>(&label, 1)));
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * state.range(0));
}
BENCHMARK(BM_Re2Pathological)->Arg(16)->Arg(1 << 10)->Arg(1 << 16)->Arg(1 << 20);

void BM_StdRegexPathological(benchmark::State& state) {
  const std::regex re(kPathological);
  const std::string line(static_cast<std::size_t>(state.range(0)), 'x');
  for (auto _ : state) benchmark::DoNotOptimize(std::regex_search(line, re));
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * state.range(0));
}
BENCHMARK(BM_StdRegexPathological)->Arg(8)->Arg(12)->Arg(16);

}  // namespace
}  // namespace mailrelay

BENCHMARK_MAIN();
