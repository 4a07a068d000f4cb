// LogPipeline wires line sources to the parser, the classifier and the metrics:
//   FileTailer -> EximLogParser -> RelayClassifier -> MailMetrics
// In live mode one thread owns every tailer and waits on inotify (Watcher) between polls; in
// one-shot mode RunOnce() reads every log to its end on the calling thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "classify/relay_classifier.h"
#include "metrics/mail_metrics.h"
#include "parser/exim_log_parser.h"
#include "source/file_tailer.h"

namespace mailrelay {

// Which events of a log are counted. Exim writes every rejection to both mainlog and
// rejectlog, so only the mainlog's events are counted; the rejectlog is followed for its
// self-metrics (lines, unparsed lines, rotations).
enum class LogRole { kEximMain, kEximReject };

class LogSource : public TailerObserver {
 public:
  LogSource(std::string name, std::string path, LogRole role, FileTailer::Options options,
            RelayClassifier& classifier, MailMetrics& metrics);

  void Poll(std::int64_t now);
  void Flush(std::int64_t now);  // one-shot end: a last line without '\n' counts too
  void UpdateGauges();

  const std::string& name() const { return name_; }
  const FileTailer& tailer() const { return tailer_; }

  // TailerObserver
  void OnBytesRead(std::size_t bytes) override;
  void OnRotation() override;
  void OnTruncation() override;
  void OnOpenError(int err) override;
  void OnLongLine() override;

 private:
  void OnLine(std::string_view line);

  std::string name_;
  LogRole role_;
  RelayClassifier& classifier_;
  MailMetrics& metrics_;
  LogMetrics& log_metrics_;
  EximLogParser parser_;
  FileTailer tailer_;
  std::int64_t now_ = 0;
  std::int64_t last_timestamp_ = 0;
};

class LogPipeline {
 public:
  LogPipeline(RelayClassifier& classifier, MailMetrics& metrics, int poll_interval_ms,
              double idle_timeout_seconds);
  ~LogPipeline();

  void AddLog(std::string name, std::string path, LogRole role, FileTailer::Options options);

  void RunOnce();  // one-shot
  void Start();    // live: background thread until Stop()
  void Stop();

  // Ready once every log is open; otherwise *why names the first that is not.
  bool Ready(std::string* why) const;

 private:
  void Loop();

  RelayClassifier& classifier_;
  MailMetrics& metrics_;
  int poll_interval_ms_;
  double idle_timeout_seconds_;
  std::vector<std::unique_ptr<LogSource>> sources_;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  mutable std::mutex ready_mutex_;
  std::vector<std::string> not_ready_;  // per source: empty when open, else the reason
};

}  // namespace mailrelay
