// LineProcessor: the one path from a log line to the sinks, shared by the live pipeline and the
// report: the MTA module's LineDecoder turns lines into Events, DispatchEvent classifies
// arrivals and hands every Event to the sink (MailMetrics, or the report's aggregator).
#pragma once

#include <cstdint>
#include <memory>
#include <string_view>

#include "classify/event_sink.h"
#include "classify/relay_classifier.h"
#include "events/line_decoder.h"
#include "events/line_rules.h"

namespace mailrelay {

class LineProcessor {
 public:
  // `sink` null: lines are decoded (timestamps, the decoder's own state and self-metrics) but
  // their events are not counted (Exim's reject log repeats the main log's rejections).
  // `rules` (--rules.file; null: none) maps rejection texts before the sink sees them and sees
  // every line; it must outlive the processor.
  LineProcessor(std::unique_ptr<LineDecoder> decoder, RelayClassifier& classifier, EventSink* sink,
                LineRules* rules = nullptr);
  LineProcessor(const LineProcessor&) = delete;
  LineProcessor& operator=(const LineProcessor&) = delete;

  // One line without its newline; *timestamp gets the time written in it (0: none).
  ParseStatus Process(std::string_view line, std::int64_t* timestamp) {
    ParseStatus status = decoder_->Decode(line, timestamp, emit_);
    if (rules_ != nullptr) rules_->OnLine(line, *timestamp);
    return status;
  }
  LineDecoder& decoder() { return *decoder_; }

 private:
  std::unique_ptr<LineDecoder> decoder_;
  LineRules* rules_;
  LineDecoder::EventFn emit_;  // built once, not per line
};

}  // namespace mailrelay
