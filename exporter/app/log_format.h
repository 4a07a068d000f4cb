// LogFormat: how the lines of one log become MTA-neutral Events. A log source owns one:
//   Exim    - EximLogParser, one line -> at most one Event;
//   Postfix - PostfixLogParser + PostfixCorrelator (events complete across lines by queue id),
//             plus the correlation self-metrics mailrelay_postfix_correlation_*.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string_view>

#include <prometheus/registry.h>

#include "events/event.h"
#include "mta/postfix/correlator.h"

namespace mailrelay {

class LogFormat {
 public:
  using EventFn = std::function<void(const Event&)>;
  virtual ~LogFormat() = default;

  // Parses one line (without its newline); *timestamp gets the time written in it (0: none);
  // `emit` is called for every Event the line yields (kNone events are not emitted).
  virtual ParseStatus Parse(std::string_view line, std::int64_t* timestamp,
                            const EventFn& emit) = 0;
  // Refreshes gauges (called after each poll).
  virtual void UpdateGauges() {}
};

std::unique_ptr<LogFormat> MakeEximFormat();

struct PostfixFormatOptions {
  PostfixCorrelator::Options correlation;
  PostfixCorrelator::UidResolver uid_resolver = SystemUidName;
};

// Registers mailrelay_postfix_correlation_entries and _dropped_total in `registry`; only one
// Postfix format may exist per registry.
std::unique_ptr<LogFormat> MakePostfixFormat(const PostfixFormatOptions& options,
                                             prometheus::Registry& registry);

}  // namespace mailrelay
