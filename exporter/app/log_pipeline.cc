#include "app/log_pipeline.h"

#include <chrono>
#include <cstring>
#include <ctime>
#include <utility>

#include "common/logging.h"
#include "source/watcher.h"

namespace mailrelay {

namespace {
std::int64_t WallNow() { return static_cast<std::int64_t>(std::time(nullptr)); }
}  // namespace

LogSource::LogSource(std::string name, std::string path, LogRole role, FileTailer::Options options,
                     RelayClassifier& classifier, MailMetrics& metrics,
                     const PostfixFormatOptions& postfix_options)
    : name_(std::move(name)),
      role_(role),
      classifier_(classifier),
      metrics_(metrics),
      log_metrics_(metrics.ForLog(name_)),
      format_(role == LogRole::kPostfix ? MakePostfixFormat(postfix_options, *metrics.registry())
                                        : MakeEximFormat()),
      tailer_(std::move(path), options, this),
      on_event_([this](const Event& ev) { OnEvent(ev); }) {}

LogSource::LogSource(std::string name, JournalReader::Options journal, RelayClassifier& classifier,
                     MailMetrics& metrics, const PostfixFormatOptions& postfix_options)
    : LogSource(std::move(name), std::string(), LogRole::kPostfix, FileTailer::Options{},
                classifier, metrics, postfix_options) {
  journal_ = std::make_unique<JournalReader>(std::move(journal));
}

std::string LogSource::NotReadyReason() const {
  if (journal_) {
    if (journal_->is_open()) return {};
    int err = -journal_->last_error();
    return journal_->description() + ": " + (err > 0 ? std::strerror(err) : "not open");
  }
  int err = tailer_.last_error();
  if (tailer_.blocked()) {
    return tailer_.path() + ": " + std::strerror(err) +
           " (rotated to a file that cannot be opened; still reading the previous one)";
  }
  if (tailer_.is_open()) return {};
  return tailer_.path() + ": " + (err != 0 ? std::strerror(err) : "not open");
}

void LogSource::OnEvent(const Event& ev) {
  if (role_ == LogRole::kEximReject) return;
  if (ev.type == EventType::kArrival) {
    metrics_.OnArrival(ev, classifier_.Classify(ev), now_);
  } else {
    metrics_.OnEvent(ev, now_);
  }
}

void LogSource::OnLine(std::string_view line) {
  ++pending_lines_;  // applied by FlushCounters(), with the batched totals of MailMetrics
  std::int64_t timestamp = 0;
  ParseStatus status = format_->Parse(line, &timestamp, on_event_);
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
  now_ = now;
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

void LogSource::Flush(std::int64_t now) {
  now_ = now;
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
}

void LogSource::UpdateGauges() {
  log_metrics_.file_open->Set(is_open() ? 1 : 0);
  log_metrics_.lag_bytes->Set(journal_ ? 0.0 : static_cast<double>(tailer_.LagBytes()));
  format_->UpdateGauges();
}

void LogSource::OnBytesRead(std::size_t bytes) {
  FlushCounters();  // the lines of the previous chunk
  log_metrics_.bytes->Increment(static_cast<double>(bytes));
}
void LogSource::OnRotation() { log_metrics_.rotations->Increment(); }
void LogSource::OnTruncation() { log_metrics_.truncations->Increment(); }
void LogSource::OnOpenError(int /*err*/) { log_metrics_.open_errors->Increment(); }
void LogSource::OnLongLine() { log_metrics_.long_lines->Increment(); }

LogPipeline::LogPipeline(RelayClassifier& classifier, MailMetrics& metrics, int poll_interval_ms,
                         double idle_timeout_seconds)
    : classifier_(classifier),
      metrics_(metrics),
      poll_interval_ms_(poll_interval_ms),
      idle_timeout_seconds_(idle_timeout_seconds) {}

LogPipeline::~LogPipeline() { Stop(); }

void LogPipeline::AddLog(std::string name, std::string path, LogRole role,
                         FileTailer::Options options) {
  sources_.push_back(std::make_unique<LogSource>(std::move(name), std::move(path), role, options,
                                                 classifier_, metrics_, postfix_options_));
  std::lock_guard<std::mutex> lock(ready_mutex_);
  not_ready_.push_back("not opened yet");
}

void LogPipeline::AddJournal(std::string name, JournalReader::Options options) {
  sources_.push_back(std::make_unique<LogSource>(std::move(name), std::move(options), classifier_,
                                                 metrics_, postfix_options_));
  std::lock_guard<std::mutex> lock(ready_mutex_);
  not_ready_.push_back("not opened yet");
}

void LogPipeline::RunOnce() {
  std::int64_t now = 0;  // one-shot: no expiry, deterministic output
  for (auto& s : sources_) {
    while (s->Poll(now)) {
    }
    s->Flush(now);
    s->UpdateGauges();
  }
}

void LogPipeline::EnableState(const std::string& path, int interval_ms) {
  state_ = std::make_unique<StateStore>(path);
  state_interval_ms_ = interval_ms;
  std::string error;
  if (!state_->Load(&error)) {
    Log(LogLevel::kWarn, "ignoring unreadable state file, logs start as without it",
        {{"err", error}});
  }
}

void LogPipeline::SaveState() {
  if (!state_) return;
  for (const auto& s : sources_) {
    ReadPosition pos;
    if (s->tailer().Position(&pos)) state_->Set(s->tailer().path(), pos);
  }
  if (!state_->dirty()) return;
  std::string error;
  if (state_->Save(&error)) {
    metrics_.state_saves().Increment();
  } else {
    metrics_.state_save_errors().Increment();
    Log(LogLevel::kWarn, "cannot save state", {{"err", error}});
  }
}

void LogPipeline::Start() {
  stop_ = false;
  if (state_) {
    for (auto& s : sources_) {
      if (const ReadPosition* pos = state_->Find(s->tailer().path())) s->ResumeFrom(*pos);
    }
  }
  thread_ = std::thread([this] { Loop(); });
}

void LogPipeline::Stop() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
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

void LogPipeline::Loop() {
  std::vector<std::string> paths;
  for (const auto& s : sources_) {
    if (std::string p = s->WatchPath(); !p.empty()) paths.push_back(p);
  }
  Watcher watcher(paths);
  Log(LogLevel::kInfo, "following logs", {{"inotify", watcher.using_inotify() ? "true" : "false"}});
  std::int64_t last_expire = WallNow();
  auto last_save = std::chrono::steady_clock::now();
  auto expire_every = static_cast<std::int64_t>(idle_timeout_seconds_ / 10);
  if (expire_every < 1) expire_every = 1;
  if (expire_every > 60) expire_every = 60;
  while (!stop_) {
    std::int64_t now = WallNow();
    bool behind = false;  // a log stopped at its per-poll limit: poll again without waiting
    if (reload_relayhosts_.exchange(false)) {
      classifier_.ReloadRelayhosts(now);
    } else {
      classifier_.MaybeReloadRelayhosts(now);
    }
    for (std::size_t i = 0; i < sources_.size(); ++i) {
      auto& s = sources_[i];
      behind = s->Poll(now) || behind;
      s->UpdateGauges();
      std::string reason = s->NotReadyReason();
      std::lock_guard<std::mutex> lock(ready_mutex_);
      not_ready_[i] = reason;
    }
    if (now - last_expire >= expire_every) {
      metrics_.Expire(now);
      last_expire = now;
    }
    if (state_ && std::chrono::steady_clock::now() - last_save >=
                      std::chrono::milliseconds(state_interval_ms_)) {
      SaveState();
      last_save = std::chrono::steady_clock::now();
    }
    watcher.Wait(behind ? 0 : poll_interval_ms_);
  }
  SaveState();  // shutdown: the positions of the last lines processed
}

}  // namespace mailrelay
