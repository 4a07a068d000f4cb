// LogPipeline follows the logs of one MTA and feeds every line through its LineProcessor:
//   FileTailer | JournalReader -> LineDecoder (the MTA module's) -> RelayClassifier
//   -> MailMetrics (an EventSink)
// In live mode one thread owns every source and waits on inotify (Watcher) between polls; in
// one-shot mode RunOnce() reads every log to its end on the calling thread. Time comes from the
// injected Clock; Step() runs one turn of the live loop on the calling thread (tests).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "classify/relay_classifier.h"
#include "common/clock.h"
#include "common/status.h"
#include "events/line_decoder.h"
#include "metrics/mail_metrics.h"
#include "mta/mta_module.h"
#include "pipeline/line_processor.h"
#include "rules/rule_counters.h"
#include "source/file_tailer.h"
#include "source/journal_reader.h"
#include "source/state_store.h"

namespace mailrelay {

class LogSource : public TailerObserver {
 public:
  // Follows spec.path with a FileTailer, or the journal when spec.journal is set. Events are
  // counted in `metrics`, and lines offered to `rules` (--rules.file, may be null), when
  // spec.count_events.
  LogSource(const LogSpec& spec, FileTailer::Options options, std::unique_ptr<LineDecoder> decoder,
            RelayClassifier& classifier, MailMetrics& metrics,
            std::unique_ptr<CountingRules> rules = nullptr);

  // True when the log has more to read right now (the tailer stopped at its per-poll limit).
  bool Poll(std::int64_t now);
  void Flush();  // one-shot end: a last line without '\n' counts too
  void UpdateGauges();

  const std::string& name() const { return name_; }
  const FileTailer& tailer() const { return tailer_; }
  bool is_open() const { return journal_ ? journal_->is_open() : tailer_.is_open(); }
  std::string NotReadyReason() const;  // empty when open; with the spec's detect_note
  std::string WatchPath() const { return journal_ ? std::string() : tailer_.path(); }
  void ResumeFrom(const ReadPosition& position) { tailer_.ResumeFrom(position); }

  // TailerObserver
  void OnBytesRead(std::size_t bytes) override;
  void OnRotation() override;
  void OnTruncation() override;
  void OnOpenError(const Status& error) override;
  void OnReadError(const Status& error) override;
  void OnLongLine() override;

 private:
  void OnLine(std::string_view line);
  // Applies the batched line count and MailMetrics' batched totals (after each read chunk and
  // each poll).
  void FlushCounters();

  std::string name_;
  std::string detect_note_;  // LogSpec::detect_note: said while the log is not open
  MailMetrics& metrics_;
  LogMetrics& log_metrics_;
  std::unique_ptr<CountingRules> rules_;  // before processor_, which points to it
  LineProcessor processor_;
  FileTailer tailer_;
  std::unique_ptr<JournalReader> journal_;
  std::int64_t last_timestamp_ = 0;
  std::uint64_t pending_lines_ = 0;
};

class LogPipeline {
 public:
  struct Options {
    int poll_interval_ms = 250;
    double idle_timeout_seconds = 7200;  // per-key series expiry (checked every tenth of it)
  };
  LogPipeline(RelayClassifier& classifier, MailMetrics& metrics, const Clock& clock,
              Options options);
  ~LogPipeline();

  // --rules.file: the logs added after this call offer their lines to `counters` as lines of
  // `mta` (the counters must outlive the pipeline).
  void SetRules(RuleCounters* counters, std::string mta);
  void AddLog(const LogSpec& spec, std::unique_ptr<LineDecoder> decoder,
              FileTailer::Options options);
  // --state.file: resume every log at its saved position (at Start()), save the positions every
  // interval_ms and when the loop stops (after the last lines were processed). Live mode only.
  // An unreadable state file is logged; the logs then start as without one.
  void EnableState(const std::string& path, int interval_ms);

  void RunOnce();  // one-shot
  void Start();    // live: background thread until Stop()
  // Ends the live loop (Start) or manual stepping (Begin): saves the read positions of the last
  // lines processed (--state.file).
  void Stop();
  // One turn of the live loop on the calling thread, without waiting: polls every log, updates
  // gauges and readiness, expires idle series and saves state when due. Returns true when a log
  // has more to read right now. Call Begin() once first (Start() does both).
  void Begin();
  bool Step();

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
  RuleCounters* rules_ = nullptr;
  std::string rules_mta_;
  const Clock& clock_;
  Options options_;
  std::vector<std::unique_ptr<LogSource>> sources_;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> reload_relayhosts_{false};
  mutable std::mutex ready_mutex_;
  std::vector<std::string> not_ready_;  // per source: empty when open, else the reason
  std::unique_ptr<StateStore> state_;
  int state_interval_ms_ = 5000;
  bool begun_ = false;
  std::int64_t last_expire_ = 0;
  Clock::Steady last_save_{};
};

}  // namespace mailrelay
