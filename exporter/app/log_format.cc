#include "app/log_format.h"

#include <array>
#include <string>

#include <prometheus/counter.h>
#include <prometheus/gauge.h>

#include "mta/exim/log_parser.h"
#include "mta/postfix/log_parser.h"

namespace mailrelay {

namespace {

class EximFormat : public LogFormat {
 public:
  ParseStatus Parse(std::string_view line, std::int64_t* timestamp, const EventFn& emit) override {
    ParseStatus status = parser_.Parse(line, &ev_);  // resets ev_
    *timestamp = ev_.timestamp;
    if (status == ParseStatus::kOk && ev_.type != EventType::kNone) emit(ev_);
    return status;
  }

 private:
  EximLogParser parser_;
  Event ev_;  // reused: the parser resets it, no second initialisation per line
};

class PostfixFormat : public LogFormat {
 public:
  PostfixFormat(const PostfixFormatOptions& options, prometheus::Registry& registry)
      : correlator_(options.correlation, options.uid_resolver) {
    entries_ = &prometheus::BuildGauge()
                    .Name("mailrelay_postfix_correlation_entries")
                    .Help("Postfix queue ids held by the log correlator (messages in flight).")
                    .Register(registry)
                    .Add({});
    auto& dropped = prometheus::BuildCounter()
                        .Name("mailrelay_postfix_correlation_dropped_total")
                        .Help(
                            "Postfix queue ids the correlator gave up on: expired before "
                            "reaching the queue manager, pushed out by the size cap, or "
                            "queue-manager lines with no known source.")
                        .Register(registry);
    for (int i = 0; i < kCorrelationDropCount; ++i) {
      dropped_[static_cast<std::size_t>(i)] = &dropped.Add(
          {{"reason", std::string(CorrelationDropName(static_cast<CorrelationDrop>(i)))}});
    }
  }

  ParseStatus Parse(std::string_view line, std::int64_t* timestamp, const EventFn& emit) override {
    ParseStatus status = parser_.Parse(line, &record_);
    *timestamp = record_.timestamp;
    if (status == ParseStatus::kOk) correlator_.Add(record_, emit);
    return status;
  }

  void UpdateGauges() override {
    entries_->Set(static_cast<double>(correlator_.size()));
    for (int i = 0; i < kCorrelationDropCount; ++i) {
      auto idx = static_cast<std::size_t>(i);
      std::uint64_t now = correlator_.dropped(static_cast<CorrelationDrop>(i));
      if (now > reported_[idx]) {
        dropped_[idx]->Increment(static_cast<double>(now - reported_[idx]));
        reported_[idx] = now;
      }
    }
  }

 private:
  PostfixLogParser parser_;
  PostfixRecord record_;
  PostfixCorrelator correlator_;
  prometheus::Gauge* entries_ = nullptr;
  std::array<prometheus::Counter*, kCorrelationDropCount> dropped_{};
  std::array<std::uint64_t, kCorrelationDropCount> reported_{};
};

}  // namespace

std::unique_ptr<LogFormat> MakeEximFormat() { return std::make_unique<EximFormat>(); }

std::unique_ptr<LogFormat> MakePostfixFormat(const PostfixFormatOptions& options,
                                             prometheus::Registry& registry) {
  return std::make_unique<PostfixFormat>(options, registry);
}

}  // namespace mailrelay
