// LogPipeline wires line sources to the parser, the classifier and the metrics:
//   FileTailer | JournalReader -> LogFormat (Exim, or Postfix + correlator) -> RelayClassifier
//   -> MailMetrics
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

#include "app/log_format.h"
#include "classify/relay_classifier.h"
#include "metrics/mail_metrics.h"
#include "mta/exim/log_parser.h"
#include "source/file_tailer.h"
#include "source/journal_reader.h"
#include "source/state_store.h"

namespace mailrelay {

// Which events of a log are counted. Exim writes every rejection to both mainlog and
// rejectlog, so only the mainlog's events are counted; the rejectlog is followed for its
// self-metrics (lines, unparsed lines, rotations). A Postfix log (file or journal) is read with
// the Postfix parser and correlator, and all its events are counted.
enum class LogRole { kEximMain, kEximReject, kPostfix };

class LogSource : public TailerObserver {
 public:
  LogSource(std::string name, std::string path, LogRole role, FileTailer::Options options,
            RelayClassifier& classifier, MailMetrics& metrics,
            const PostfixFormatOptions& postfix_options = {});
  // A Postfix source reading the systemd journal instead of a file (tailer() stays closed).
  LogSource(std::string name, JournalReader::Options journal, RelayClassifier& classifier,
            MailMetrics& metrics, const PostfixFormatOptions& postfix_options);

  // True when the log has more to read right now (the tailer stopped at its per-poll limit).
  bool Poll(std::int64_t now);
  void Flush(std::int64_t now);  // one-shot end: a last line without '\n' counts too
  void UpdateGauges();

  const std::string& name() const { return name_; }
  const FileTailer& tailer() const { return tailer_; }
  bool is_open() const { return journal_ ? journal_->is_open() : tailer_.is_open(); }
  std::string NotReadyReason() const;  // empty when open
  std::string WatchPath() const { return journal_ ? std::string() : tailer_.path(); }
  void ResumeFrom(const ReadPosition& position) { tailer_.ResumeFrom(position); }

  // TailerObserver
  void OnBytesRead(std::size_t bytes) override;
  void OnRotation() override;
  void OnTruncation() override;
  void OnOpenError(int err) override;
  void OnLongLine() override;

 private:
  void OnLine(std::string_view line);
  void OnEvent(const Event& ev);
  // Applies the batched line count and MailMetrics' batched totals (after each read chunk and
  // each poll).
  void FlushCounters();

  std::string name_;
  LogRole role_;
  RelayClassifier& classifier_;
  MailMetrics& metrics_;
  LogMetrics& log_metrics_;
  std::unique_ptr<LogFormat> format_;
  FileTailer tailer_;
  std::unique_ptr<JournalReader> journal_;
  std::int64_t now_ = 0;
  std::int64_t last_timestamp_ = 0;
  LogFormat::EventFn on_event_;  // built once, not per line
  std::uint64_t pending_lines_ = 0;
};

class LogPipeline {
 public:
  LogPipeline(RelayClassifier& classifier, MailMetrics& metrics, int poll_interval_ms,
              double idle_timeout_seconds);
  ~LogPipeline();

  void AddLog(std::string name, std::string path, LogRole role, FileTailer::Options options);
  // Postfix from the systemd journal (log label `name`).
  void AddJournal(std::string name, JournalReader::Options options);
  // Options of the Postfix sources added after this call.
  void SetPostfixOptions(const PostfixFormatOptions& options) { postfix_options_ = options; }
  // --state.file: resume every log at its saved position (at Start()), save the positions every
  // interval_ms and when the loop stops (after the last lines were processed). Live mode only.
  void EnableState(const std::string& path, int interval_ms);

  void RunOnce();  // one-shot
  void Start();    // live: background thread until Stop()
  void Stop();

  // Ready once every log is open (and no rotation is stuck on an unreadable file); otherwise
  // *why names every log that is not, with the reason (e.g. "Permission denied").
  bool Ready(std::string* why) const;
  // SIGHUP: the live loop re-reads the relayhosts files at its next turn.
  void RequestRelayhostsReload() { reload_relayhosts_ = true; }

 private:
  void Loop();
  void SaveState();

  RelayClassifier& classifier_;
  MailMetrics& metrics_;
  int poll_interval_ms_;
  double idle_timeout_seconds_;
  std::vector<std::unique_ptr<LogSource>> sources_;
  PostfixFormatOptions postfix_options_;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> reload_relayhosts_{false};
  mutable std::mutex ready_mutex_;
  std::vector<std::string> not_ready_;  // per source: empty when open, else the reason
  std::unique_ptr<StateStore> state_;
  int state_interval_ms_ = 5000;
};

}  // namespace mailrelay
