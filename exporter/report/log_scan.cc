#include "report/log_scan.h"

namespace mailrelay::report {

namespace {

ScanResult ScanFiles(const std::vector<LogFile>& files, const ScanOptions& options,
                     LineProcessor& processor) {
  ScanResult result;
  const TimeWindow& window = options.window;
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
      if (processor.Process(line, &ts) == ParseStatus::kUnparsed) ++result.lines_unparsed;
      if (ts != 0 && window.Contains(ts)) ++result.lines_in_window;
    });
    report.lines = lines;
    result.lines_read += lines;
    if (read.ok()) {
      report.status = "read";
      ++result.files_read;
    } else {
      report.status = "error";
      report.error = read.status().message();
      ++result.files_failed;
    }
    result.logs.push_back(std::move(report));
  }
  return result;
}

}  // namespace

ScanResult ScanLogFiles(const std::vector<LogFile>& files, const ScanOptions& options,
                        LineProcessor& processor) {
  return ScanFiles(files, options, processor);
}

ScanResult ScanLog(const std::string& path, const ScanOptions& options, LineProcessor& processor) {
  std::vector<LogFile> files = FindLogFiles(path);
  LineDecoder& decoder = processor.decoder();
  ProbeAndOrder(&files, [&decoder](std::string_view line) { return decoder.LineTime(line); });
  return ScanFiles(files, options, processor);
}

}  // namespace mailrelay::report
