// POST /webhook: parses the notification (webhook.h), audits its arrival, and hands it to a
// worker thread that runs the Responder, so Alertmanager gets its answer at once (200 with the
// notification's number) however long the commands take. Answers 400 to what is not a
// version 4 payload (audited, counted; Alertmanager does not retry a 4xx) and 503 when
// kMaxPending notifications are waiting (Alertmanager retries).
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <thread>

#include "common/clock.h"
#include "http/http_server.h"
#include "respond/audit.h"
#include "respond/respond_metrics.h"
#include "respond/responder.h"
#include "respond/webhook.h"

namespace mailrelay::respond {

class WebhookReceiver {
 public:
  static constexpr std::size_t kMaxPending = 64;

  // `metrics` may be null. Starts the worker.
  WebhookReceiver(Responder& responder, AuditLog& audit, RespondMetrics* metrics,
                  const Clock& clock);
  ~WebhookReceiver();  // Stop()
  WebhookReceiver(const WebhookReceiver&) = delete;
  WebhookReceiver& operator=(const WebhookReceiver&) = delete;

  HttpServer::Response Handle(const HttpServer::Request& request);
  // Waits until every accepted notification has been handled (tests, shutdown).
  void Drain();
  // Handles what is pending, then stops the worker.
  void Stop();

 private:
  struct Pending {
    WebhookPayload payload;
    std::uint64_t id = 0;
    std::int64_t received_at = 0;
  };
  void Work();

  Responder& responder_;
  AuditLog& audit_;
  RespondMetrics* metrics_;
  const Clock& clock_;
  std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<Pending> pending_;
  std::uint64_t next_id_ = 1;
  std::uint64_t handled_ = 0;  // ids below handled_ + 1 are done
  std::uint64_t accepted_ = 0;
  bool stop_ = false;
  std::thread worker_;
};

}  // namespace mailrelay::respond
