#include "report/log_scan.h"

#include "mta/exim/log_parser.h"
#include "mta/postfix/log_parser.h"

namespace mailrelay::report {

namespace {

class EximLineEvents : public LineEvents {
 public:
  explicit EximLineEvents(std::int64_t reference_time) {
    if (reference_time != 0) parser_.SetReferenceTime(reference_time);
  }
  ParseStatus Parse(std::string_view line, std::int64_t* timestamp, const EventFn& emit) override {
    Event ev;
    ParseStatus status = parser_.Parse(line, &ev);
    *timestamp = ev.timestamp;
    if (status == ParseStatus::kOk && ev.type != EventType::kNone) emit(ev);
    return status;
  }

 private:
  EximLogParser parser_;
};

class PostfixLineEvents : public LineEvents {
 public:
  explicit PostfixLineEvents(const ScanOptions& options)
      : correlator_(options.correlation, options.uid_resolver) {
    if (options.reference_time != 0) parser_.SetReferenceTime(options.reference_time);
  }
  ParseStatus Parse(std::string_view line, std::int64_t* timestamp, const EventFn& emit) override {
    ParseStatus status = parser_.Parse(line, &record_);
    *timestamp = record_.timestamp;
    if (status == ParseStatus::kOk) correlator_.Add(record_, emit);
    return status;
  }

 private:
  PostfixLogParser parser_;
  PostfixRecord record_;
  PostfixCorrelator correlator_;
};

// A line's time for the cheap probes (no correlation).
LineTimeFn MakeLineTime(const ScanOptions& options) {
  if (options.mta == Mta::kPostfix) {
    auto parser = std::make_shared<PostfixLogParser>();
    if (options.reference_time != 0) parser->SetReferenceTime(options.reference_time);
    return [parser](std::string_view line) {
      PostfixRecord r;
      return parser->Parse(line, &r) == ParseStatus::kOk ? r.timestamp : 0;
    };
  }
  auto parser = std::make_shared<EximLogParser>();
  if (options.reference_time != 0) parser->SetReferenceTime(options.reference_time);
  return [parser](std::string_view line) {
    Event ev;
    parser->Parse(line, &ev);
    return ev.timestamp;
  };
}

}  // namespace

std::unique_ptr<LineEvents> MakeLineEvents(const ScanOptions& options) {
  if (options.mta == Mta::kPostfix) return std::make_unique<PostfixLineEvents>(options);
  return std::make_unique<EximLineEvents>(options.reference_time);
}

ScanResult ScanLogFiles(const std::vector<LogFile>& files, const ScanOptions& options,
                        RelayClassifier& classifier, ReportAggregator& aggregator) {
  ScanResult result;
  auto events = MakeLineEvents(options);
  const TimeWindow& window = options.window;
  auto on_event = [&](const Event& ev) {
    if (!window.Contains(ev.timestamp)) return;
    if (ev.type == EventType::kArrival) {
      aggregator.OnArrival(ev, classifier.Classify(ev));
    } else {
      aggregator.OnEvent(ev);
    }
  };
  for (std::size_t i = 0; i < files.size(); ++i) {
    const LogFile& f = files[i];
    LogFileReport report;
    report.path = f.path;
    report.gzip = f.gzip;
    report.first_time = f.first_time;
    report.last_time = f.last_time;
    switch (JudgeFile(files, i, window, options.skip_slack_seconds)) {
      case FileVerdict::kBeforeWindow:
        report.status = "before_window";
        result.logs.push_back(std::move(report));
        continue;
      case FileVerdict::kAfterWindow:
        report.status = "after_window";
        result.logs.push_back(std::move(report));
        continue;
      case FileVerdict::kRead:
        break;
    }
    std::uint64_t lines = 0;
    auto read = ReadLogLines(f, [&](std::string_view line) {
      ++lines;
      std::int64_t ts = 0;
      if (events->Parse(line, &ts, on_event) == ParseStatus::kUnparsed) {
        ++result.lines_unparsed;
      }
      if (ts != 0 && window.Contains(ts)) ++result.lines_in_window;
    });
    report.lines = lines;
    result.lines_read += lines;
    if (read) {
      report.status = "read";
      ++result.files_read;
    } else {
      report.status = "error";
      report.error = read.error();
      ++result.files_failed;
    }
    result.logs.push_back(std::move(report));
  }
  return result;
}

ScanResult ScanLog(const std::string& path, const ScanOptions& options, RelayClassifier& classifier,
                   ReportAggregator& aggregator) {
  std::vector<LogFile> files = FindLogFiles(path);
  ProbeAndOrder(&files, MakeLineTime(options));
  return ScanLogFiles(files, options, classifier, aggregator);
}

}  // namespace mailrelay::report
