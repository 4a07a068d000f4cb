#include "respond/webhook_receiver.h"

#include "common/logging.h"
#include "respond/hold_list.h"

namespace mailrelay::respond {

WebhookReceiver::WebhookReceiver(Responder& responder, AuditLog& audit, RespondMetrics* metrics,
                                 const Clock& clock)
    : responder_(responder), audit_(audit), metrics_(metrics), clock_(clock) {
  worker_ = std::thread([this] { Work(); });
}

WebhookReceiver::~WebhookReceiver() { Stop(); }

HttpServer::Response WebhookReceiver::Handle(const HttpServer::Request& request) {
  HttpServer::Response response;
  response.content_type = "application/json";
  const std::int64_t now = clock_.UnixSeconds();
  StatusOr<WebhookPayload> payload = ParseWebhookPayload(request.body);
  if (!payload.ok()) {
    JsonLine j;
    j.Str("ts", FormatUtc(now))
        .Str("event", "bad_notification")
        .Int("bytes", static_cast<std::int64_t>(request.body.size()))
        .Str("error", payload.status().message());
    if (!audit_.Append(j.Finish()).ok() && metrics_ != nullptr) metrics_->AuditError();
    if (metrics_ != nullptr) metrics_->Notification("bad_request");
    Log(LogLevel::kWarn, "bad webhook notification", {{"err", payload.status().message()}});
    response.status = 400;
    response.body = JsonLine().Str("error", payload.status().message()).Finish() + "\n";
    return response;
  }
  std::unique_lock<std::mutex> lock(mutex_);
  if (pending_.size() >= kMaxPending || stop_) {
    lock.unlock();
    if (metrics_ != nullptr) metrics_->Notification("overloaded");
    response.status = 503;
    response.body = JsonLine().Str("error", "too many notifications waiting").Finish() + "\n";
    return response;
  }
  const std::uint64_t id = next_id_++;
  ++accepted_;
  JsonLine j;
  j.Str("ts", FormatUtc(now))
      .Str("event", "notification")
      .Int("notification", static_cast<std::int64_t>(id))
      .Str("receiver", payload->receiver)
      .Str("status", payload->status)
      .Str("group_key", payload->group_key)
      .Int("alerts", static_cast<std::int64_t>(payload->alerts.size()))
      .Int("truncated_alerts", payload->truncated_alerts);
  // Recorded before the worker can record what it did about it.
  if (!audit_.Append(j.Finish()).ok() && metrics_ != nullptr) metrics_->AuditError();
  pending_.push_back({std::move(payload).value(), id, now});
  lock.unlock();
  cv_.notify_all();
  if (metrics_ != nullptr) metrics_->Notification("accepted");
  response.body = JsonLine()
                      .Str("status", "accepted")
                      .Int("notification", static_cast<std::int64_t>(id))
                      .Finish() +
                  "\n";
  return response;
}

void WebhookReceiver::Work() {
  std::unique_lock<std::mutex> lock(mutex_);
  for (;;) {
    cv_.wait(lock, [this] { return stop_ || !pending_.empty(); });
    if (pending_.empty()) break;  // stop_ and nothing left
    Pending p = std::move(pending_.front());
    pending_.pop_front();
    lock.unlock();
    responder_.Handle(p.payload, p.id, p.received_at);
    lock.lock();
    ++handled_;
    cv_.notify_all();
  }
}

void WebhookReceiver::Drain() {
  std::unique_lock<std::mutex> lock(mutex_);
  cv_.wait(lock, [this] { return handled_ >= accepted_; });
}

void WebhookReceiver::Stop() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (stop_ && !worker_.joinable()) return;
    stop_ = true;
  }
  cv_.notify_all();
  if (worker_.joinable()) worker_.join();
}

}  // namespace mailrelay::respond
