// Reads one MTA log (the live file and its rotated, possibly gzip'd predecessors) once, through
// the same LineProcessor as the exporter (the MTA module's LineDecoder, the RelayClassifier,
// DispatchEvent); a WindowFilter in front of the ReportAggregator keeps the Events whose time
// lies in the window.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "classify/event_sink.h"
#include "classify/relay_classifier.h"
#include "pipeline/line_processor.h"
#include "report/log_files.h"
#include "report/report_data.h"
#include "report/time_window.h"

namespace mailrelay::report {

// An EventSink that passes on the events whose time lies in the window.
class WindowFilter : public EventSink {
 public:
  WindowFilter(const TimeWindow& window, EventSink& next) : window_(window), next_(next) {}
  void OnArrival(const Event& ev, const Classification& c) override {
    if (window_.Contains(ev.timestamp)) next_.OnArrival(ev, c);
  }
  void OnDelivery(const Event& ev) override {
    if (window_.Contains(ev.timestamp)) next_.OnDelivery(ev);
  }
  void OnCompleted(const Event& ev) override {
    if (window_.Contains(ev.timestamp)) next_.OnCompleted(ev);
  }
  void OnFrozen(const Event& ev) override {
    if (window_.Contains(ev.timestamp)) next_.OnFrozen(ev);
  }
  void OnReject(const Event& ev) override {
    if (window_.Contains(ev.timestamp)) next_.OnReject(ev);
  }
  void OnAuthFailure(const Event& ev) override {
    if (window_.Contains(ev.timestamp)) next_.OnAuthFailure(ev);
  }

 private:
  TimeWindow window_;
  EventSink& next_;
};

struct ScanOptions {
  TimeWindow window;
  // Files whose known time range misses the window by more than this are not read.
  std::int64_t skip_slack_seconds = 300;
};

struct ScanResult {
  std::vector<LogFileReport> logs;
  std::uint64_t lines_read = 0;
  std::uint64_t lines_unparsed = 0;
  std::uint64_t lines_in_window = 0;
  std::size_t files_read = 0;    // opened and read to the end (or to an error)
  std::size_t files_failed = 0;  // could not be opened or read completely
};

// Reads `files` (chronological, as from FindLogFiles + ProbeAndOrder) in order through
// `processor` (its decoder's reference time set by the caller, its sink a WindowFilter).
ScanResult ScanLogFiles(const std::vector<LogFile>& files, const ScanOptions& options,
                        LineProcessor& processor);

// FindLogFiles + ProbeAndOrder (with the decoder's LineTime) + ScanLogFiles for the log at
// `path`.
ScanResult ScanLog(const std::string& path, const ScanOptions& options, LineProcessor& processor);

}  // namespace mailrelay::report
