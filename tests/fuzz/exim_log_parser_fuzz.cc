// libFuzzer target: Exim log lines through the parser, the relay classifier and the metrics
// (label sanitising, bounded families), as LogSource does for every line read.
#include <cstddef>
#include <cstdint>
#include <memory>

#include <prometheus/registry.h>

#include "classify/event_sink.h"
#include "classify/relay_classifier.h"
#include "fuzz_util.h"
#include "metrics/mail_metrics.h"
#include "mta/exim/log_parser.h"

namespace {

struct Pipeline {
  Pipeline() : classifier(MakePolicy()), metrics(registry, Limits(), {"fuzz", "fuzz"}) {
    parser.SetReferenceTime(1700000000);
  }
  static mailrelay::RelayPolicy MakePolicy() {
    mailrelay::RelayPolicy p;
    p.local_networks.Add("127.0.0.0/8");
    p.local_networks.Add("::1/128");
    p.ignore_users = {"mailnull", "Debian-exim"};
    return p;
  }
  static mailrelay::BoundedLimits Limits() {
    mailrelay::BoundedLimits l;
    l.max_series = 50;  // reach the overflow paths quickly
    return l;
  }
  std::shared_ptr<prometheus::Registry> registry = std::make_shared<prometheus::Registry>();
  mailrelay::RelayClassifier classifier;
  mailrelay::MailMetrics metrics;
  mailrelay::EximLogParser parser;
  std::int64_t now = 1700000000;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static Pipeline* p = new Pipeline();
  mailrelay::fuzz::ForEachLine(mailrelay::fuzz::AsText(data, size), [](std::string_view line) {
    mailrelay::Event ev;
    if (p->parser.Parse(line, &ev) == mailrelay::ParseStatus::kUnparsed) return;
    mailrelay::DispatchEvent(ev, p->classifier, p->metrics);
  });
  p->now += 600;
  p->metrics.SetNow(p->now);  // let idle series expire now and then
  if (p->now % 36000 == 0) p->metrics.Expire(p->now);
  return 0;
}
