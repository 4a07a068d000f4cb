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
                     RelayClassifier& classifier, MailMetrics& metrics)
    : name_(std::move(name)),
      role_(role),
      classifier_(classifier),
      metrics_(metrics),
      log_metrics_(metrics.ForLog(name_)),
      tailer_(std::move(path), options, this) {}

void LogSource::OnLine(std::string_view line) {
  log_metrics_.lines->Increment();
  Event ev;
  if (parser_.Parse(line, &ev) == ParseStatus::kUnparsed) {
    log_metrics_.unparsed->Increment();
    if (LogEnabled(LogLevel::kDebug)) {
      Log(LogLevel::kDebug, "unparsed line", {{"log", name_}, {"line", line}});
    }
    return;
  }
  if (ev.timestamp != 0 && ev.timestamp != last_timestamp_) {
    last_timestamp_ = ev.timestamp;
    log_metrics_.last_timestamp->Set(static_cast<double>(ev.timestamp));
  }
  if (role_ != LogRole::kEximMain) return;
  if (ev.type == EventType::kArrival) {
    metrics_.OnArrival(ev, classifier_.Classify(ev), now_);
  } else if (ev.type != EventType::kNone) {
    metrics_.OnEvent(ev, now_);
  }
}

void LogSource::Poll(std::int64_t now) {
  now_ = now;
  tailer_.Poll([this](std::string_view line) { OnLine(line); });
}

void LogSource::Flush(std::int64_t now) {
  now_ = now;
  tailer_.FlushPartial([this](std::string_view line) { OnLine(line); });
}

void LogSource::UpdateGauges() {
  log_metrics_.file_open->Set(tailer_.is_open() ? 1 : 0);
  log_metrics_.lag_bytes->Set(static_cast<double>(tailer_.LagBytes()));
}

void LogSource::OnBytesRead(std::size_t bytes) {
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
                                                 classifier_, metrics_));
  std::lock_guard<std::mutex> lock(ready_mutex_);
  not_ready_.push_back("not opened yet");
}

void LogPipeline::RunOnce() {
  std::int64_t now = 0;  // one-shot: no expiry, deterministic output
  for (auto& s : sources_) {
    s->Poll(now);
    s->Flush(now);
    s->UpdateGauges();
  }
}

void LogPipeline::Start() {
  stop_ = false;
  thread_ = std::thread([this] { Loop(); });
}

void LogPipeline::Stop() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
}

bool LogPipeline::Ready(std::string* why) const {
  std::lock_guard<std::mutex> lock(ready_mutex_);
  for (std::size_t i = 0; i < not_ready_.size(); ++i) {
    if (!not_ready_[i].empty()) {
      if (why != nullptr) *why = sources_[i]->name() + ": " + not_ready_[i];
      return false;
    }
  }
  return true;
}

void LogPipeline::Loop() {
  std::vector<std::string> paths;
  for (const auto& s : sources_) paths.push_back(s->tailer().path());
  Watcher watcher(paths);
  Log(LogLevel::kInfo, "following logs", {{"inotify", watcher.using_inotify() ? "true" : "false"}});
  std::int64_t last_expire = WallNow();
  auto expire_every = static_cast<std::int64_t>(idle_timeout_seconds_ / 10);
  if (expire_every < 1) expire_every = 1;
  if (expire_every > 60) expire_every = 60;
  while (!stop_) {
    std::int64_t now = WallNow();
    classifier_.MaybeReloadRelayhosts(now);
    for (std::size_t i = 0; i < sources_.size(); ++i) {
      auto& s = sources_[i];
      s->Poll(now);
      s->UpdateGauges();
      std::string reason;
      if (!s->tailer().is_open()) {
        int err = s->tailer().last_error();
        reason = s->tailer().path() + ": " + (err != 0 ? std::strerror(err) : "not open");
      }
      std::lock_guard<std::mutex> lock(ready_mutex_);
      not_ready_[i] = reason;
    }
    if (now - last_expire >= expire_every) {
      metrics_.Expire(now);
      last_expire = now;
    }
    watcher.Wait(poll_interval_ms_);
  }
}

}  // namespace mailrelay
