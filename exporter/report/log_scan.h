// Reads one MTA log (the live file and its rotated, possibly gzip'd predecessors) once, through
// the exporter's own parsers (EximLogParser; PostfixLogParser + PostfixCorrelator), classifies
// arrivals with the RelayClassifier and hands the Events whose time lies in the window to the
// ReportAggregator. The Prometheus-free counterpart of app/log_pipeline for one-off reads.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "classify/relay_classifier.h"
#include "events/event.h"
#include "mta/postfix/correlator.h"
#include "report/aggregator.h"
#include "report/log_files.h"
#include "report/report_data.h"
#include "report/time_window.h"

namespace mailrelay::report {

enum class Mta { kExim, kPostfix };

// Lines -> Events for one MTA (state: the Postfix correlator).
class LineEvents {
 public:
  using EventFn = std::function<void(const Event&)>;
  virtual ~LineEvents() = default;
  // *timestamp: the time written in the line (0: none).
  virtual ParseStatus Parse(std::string_view line, std::int64_t* timestamp,
                            const EventFn& emit) = 0;
};

struct ScanOptions {
  Mta mta = Mta::kExim;
  TimeWindow window;
  // Year of syslog timestamps, which carry none: the one that puts the line at most 7 days
  // after this time (see the parsers). The report uses --until.
  std::int64_t reference_time = 0;
  // Files whose known time range misses the window by more than this are not read.
  std::int64_t skip_slack_seconds = 300;
  PostfixCorrelator::Options correlation;
  PostfixCorrelator::UidResolver uid_resolver = SystemUidName;
};

std::unique_ptr<LineEvents> MakeLineEvents(const ScanOptions& options);

struct ScanResult {
  std::vector<LogFileReport> logs;
  std::uint64_t lines_read = 0;
  std::uint64_t lines_unparsed = 0;
  std::uint64_t lines_in_window = 0;
  std::size_t files_read = 0;    // opened and read to the end (or to an error)
  std::size_t files_failed = 0;  // could not be opened or read completely
};

// Reads `files` (chronological, as from FindLogFiles + ProbeAndOrder) in order.
ScanResult ScanLogFiles(const std::vector<LogFile>& files, const ScanOptions& options,
                        RelayClassifier& classifier, ReportAggregator& aggregator);

// FindLogFiles + ProbeAndOrder + ScanLogFiles for the log at `path`.
ScanResult ScanLog(const std::string& path, const ScanOptions& options, RelayClassifier& classifier,
                   ReportAggregator& aggregator);

}  // namespace mailrelay::report
