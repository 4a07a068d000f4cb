#include "pipeline/log_pipeline.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <exception>
#include <utility>

#include "common/logging.h"
#include "source/watcher.h"

namespace mailrelay {

LogSource::LogSource(const LogSpec& spec, FileTailer::Options options,
                     std::unique_ptr<LineDecoder> decoder, RelayClassifier& classifier,
                     MailMetrics& metrics, std::unique_ptr<CountingRules> rules)
    : name_(spec.name),
      detect_note_(spec.detect_note),
      metrics_(metrics),
      log_metrics_(metrics.ForLog(name_)),
      rules_(spec.count_events ? std::move(rules) : nullptr),
      processor_(std::move(decoder), classifier, spec.count_events ? &metrics : nullptr,
                 rules_.get()),
      tailer_(spec.journal ? std::string() : spec.path, options, this) {
  if (spec.journal) journal_ = std::make_unique<JournalReader>(*spec.journal);
}

std::string LogSource::NotReadyReason() const {
  if (journal_) return journal_->open_status().message();
  if (tailer_.blocked()) {
    return tailer_.open_status().message() +
           " (rotated to a file that cannot be opened; still reading the previous one)";
  }
  if (tailer_.is_open()) return {};
  Status why = tailer_.open_status();
  std::string reason = why.ok() ? tailer_.path() + ": not open" : why.message();
  if (!detect_note_.empty()) reason += " (" + detect_note_ + ")";
  return reason;
}

void LogSource::OnLine(std::string_view line) {
  ++pending_lines_;  // applied by FlushCounters(), with the batched totals of MailMetrics
  std::int64_t timestamp = 0;
  ParseStatus status = processor_.Process(line, &timestamp);
  if (status == ParseStatus::kUnparsed) {
    log_metrics_.unparsed->Increment();
    if (LogEnabled(LogLevel::kDebug)) {
      Log(LogLevel::kDebug, "unparsed line", {{"log", name_}, {"line", line}});
    }
    return;
  }
  if (timestamp != 0 && timestamp != last_timestamp_) {
    last_timestamp_ = timestamp;
    log_metrics_.last_timestamp->Set(static_cast<double>(timestamp));
  }
}

bool LogSource::Poll(std::int64_t now) {
  if (now != 0) processor_.decoder().SetReferenceTime(now);
  if (rules_) rules_->SetNow(now);
  if (journal_) {
    std::size_t bytes = journal_->Poll([this](std::string_view line) { OnLine(line); });
    if (bytes > 0) OnBytesRead(bytes);
    FlushCounters();
    return false;
  }
  bool more = tailer_.Poll([this](std::string_view line) { OnLine(line); });
  FlushCounters();
  return more;
}

void LogSource::Flush() {
  if (journal_) return;
  tailer_.FlushPartial([this](std::string_view line) { OnLine(line); });
  FlushCounters();
}

void LogSource::FlushCounters() {
  if (pending_lines_ != 0) {
    log_metrics_.lines->Increment(static_cast<double>(pending_lines_));
    pending_lines_ = 0;
  }
  metrics_.Flush();
  if (rules_) rules_->counters().Flush();
}

void LogSource::UpdateGauges() {
  log_metrics_.file_open->Set(is_open() ? 1 : 0);
  log_metrics_.lag_bytes->Set(journal_ ? 0.0 : static_cast<double>(tailer_.LagBytes()));
  processor_.decoder().UpdateGauges();
}

void LogSource::OnBytesRead(std::size_t bytes) {
  FlushCounters();  // the lines of the previous chunk
  log_metrics_.bytes->Increment(static_cast<double>(bytes));
}
void LogSource::OnRotation() { log_metrics_.rotations->Increment(); }
void LogSource::OnTruncation() { log_metrics_.truncations->Increment(); }
void LogSource::OnOpenError(const Status& /*error*/) { log_metrics_.open_errors->Increment(); }
void LogSource::OnReadError(const Status& /*error*/) { log_metrics_.read_errors->Increment(); }
void LogSource::OnLongLine() { log_metrics_.long_lines->Increment(); }

LogPipeline::LogPipeline(RelayClassifier& classifier, MailMetrics& metrics, const Clock& clock,
                         Options options)
    : classifier_(classifier), metrics_(metrics), clock_(clock), options_(options) {}

LogPipeline::~LogPipeline() { Stop(); }

void LogPipeline::SetRules(RuleCounters* counters, std::string mta) {
  rules_ = counters;
  rules_mta_ = std::move(mta);
}

void LogPipeline::AddLog(const LogSpec& spec, std::unique_ptr<LineDecoder> decoder,
                         FileTailer::Options options) {
  std::unique_ptr<CountingRules> rules;
  if (rules_ != nullptr) rules = std::make_unique<CountingRules>(*rules_, rules_mta_);
  sources_.push_back(std::make_unique<LogSource>(spec, options, std::move(decoder), classifier_,
                                                 metrics_, std::move(rules)));
  std::lock_guard<std::mutex> lock(ready_mutex_);
  not_ready_.push_back("not opened yet");
}

void LogPipeline::RunOnce() {
  // One-shot: no expiry, deterministic output (per-key series carry no time).
  for (auto& s : sources_) {
    while (s->Poll(0)) {
    }
    s->Flush();
    s->UpdateGauges();
  }
}

void LogPipeline::EnableState(const std::string& path, int interval_ms) {
  state_ = std::make_unique<StateStore>(path);
  state_interval_ms_ = interval_ms;
  if (Status loaded = state_->Load(); !loaded.ok()) {
    Log(LogLevel::kWarn, "ignoring unreadable state file, logs start as without it",
        {{"err", loaded.message()}});
  }
}

void LogPipeline::SaveState() {
  if (!state_) return;
  for (const auto& s : sources_) {
    ReadPosition pos;
    if (s->tailer().Position(&pos)) state_->Set(s->tailer().path(), pos);
  }
  if (!state_->dirty()) return;
  if (Status saved = state_->Save(); saved.ok()) {
    metrics_.state_saves().Increment();
  } else {
    metrics_.state_save_errors().Increment();
    Log(LogLevel::kWarn, "cannot save state", {{"err", saved.message()}});
  }
}

void LogPipeline::Begin() {
  stop_ = false;
  if (state_) {
    for (auto& s : sources_) {
      if (const ReadPosition* pos = state_->Find(s->tailer().path())) s->ResumeFrom(*pos);
    }
  }
  last_expire_ = clock_.UnixSeconds();
  last_save_ = clock_.SteadyNow();
  begun_ = true;
}

void LogPipeline::Start() {
  Begin();
  thread_ = std::thread([this] { Loop(); });
}

void LogPipeline::Stop() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
  if (begun_) SaveState();  // shutdown: the positions of the last lines processed
  begun_ = false;
}

bool LogPipeline::Ready(std::string* why) const {
  std::lock_guard<std::mutex> lock(ready_mutex_);
  std::string reasons;  // every log that is not ready, e.g. both Exim logs unreadable
  for (std::size_t i = 0; i < not_ready_.size(); ++i) {
    if (!not_ready_[i].empty()) {
      if (!reasons.empty()) reasons += "; ";
      reasons += sources_[i]->name() + ": " + not_ready_[i];
    }
  }
  if (why != nullptr) *why = reasons;
  return reasons.empty();
}

bool LogPipeline::Step() {
  std::int64_t now = clock_.UnixSeconds();
  metrics_.SetNow(now);
  bool behind = false;  // a log stopped at its per-poll limit: poll again without waiting
  if (reload_relayhosts_.exchange(false)) {
    classifier_.ReloadRelayhosts(now);
  } else {
    classifier_.MaybeReloadRelayhosts(now);
  }
  for (std::size_t i = 0; i < sources_.size(); ++i) {
    auto& s = sources_[i];
    // Nothing on the tail path may end the process: a poll that throws (out of memory, a bug)
    // is logged and counted as a failed read of that log, which is polled again next turn.
    try {
      behind = s->Poll(now) || behind;
    } catch (const std::exception& e) {
      s->OnReadError(InternalError(e.what()));
      Log(LogLevel::kError, "reading a log failed; retried at the next poll",
          {{"log", s->name()}, {"error", e.what()}});
    }
    s->UpdateGauges();
    std::string reason = s->NotReadyReason();
    std::lock_guard<std::mutex> lock(ready_mutex_);
    not_ready_[i] = reason;
  }
  if (rules_ != nullptr) rules_->Flush();  // also installs rules a reload requested
  auto expire_every = static_cast<std::int64_t>(options_.idle_timeout_seconds / 10);
  expire_every = std::clamp<std::int64_t>(expire_every, 1, 60);
  if (now - last_expire_ >= expire_every) {
    metrics_.Expire(now);
    if (rules_ != nullptr) rules_->Expire(now);
    last_expire_ = now;
  }
  if (state_ && clock_.SteadyNow() - last_save_ >= std::chrono::milliseconds(state_interval_ms_)) {
    SaveState();
    last_save_ = clock_.SteadyNow();
  }
  return behind;
}

void LogPipeline::Loop() {
  std::vector<std::string> paths;
  for (const auto& s : sources_) {
    if (std::string p = s->WatchPath(); !p.empty()) paths.push_back(p);
  }
  Watcher watcher(paths);
  Log(LogLevel::kInfo, "following logs", {{"inotify", watcher.using_inotify() ? "true" : "false"}});
  while (!stop_) {
    bool behind = Step();
    watcher.Wait(behind ? 0 : options_.poll_interval_ms);
  }
}

}  // namespace mailrelay
