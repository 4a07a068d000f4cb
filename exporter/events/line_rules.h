// LineRules: what --rules.file adds to the one path from a line to the sinks
// (pipeline/line_processor.h): the reason of a rejection mapped from its text before the sinks
// see it, and every line offered to the counter rules. The exporter's implementation counts into
// Prometheus families (rules/rule_counters.h), the report's into tables (rules/rule_tally.h).
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "events/event.h"

namespace mailrelay {

class LineRules {
 public:
  virtual ~LineRules() = default;
  // A reason for this rejection text, when a rule maps it (it then wins over the built-in one).
  virtual std::optional<RejectReason> MapReject(std::string_view reject_text) = 0;
  // Every line after it was decoded, with the time written in it (0: none).
  virtual void OnLine(std::string_view line, std::int64_t timestamp) = 0;
};

}  // namespace mailrelay
