#include "queue/queue_collector.h"

#include <algorithm>
#include <exception>
#include <unordered_map>

#include "common/logging.h"

namespace mailrelay {

const char* QueueErrorName(QueueError e) {
  switch (e) {
    case QueueError::kDirectory:
      return "directory";
    case QueueError::kOpen:
      return "open";
    case QueueError::kVanished:
      return "vanished";
    case QueueError::kParse:
      return "parse";
    case QueueError::kCommand:
      return "command";
    case QueueError::kTimeout:
      return "timeout";
  }
  return "unknown";
}

std::string QueueScan::Describe() const {
  if (ok) return {};
  if (!status.ok()) return status.message();
  std::string out;
  for (int i = 0; i < kQueueErrorCount; ++i) {
    if (errors[i] == 0) continue;
    if (!out.empty()) out += ", ";
    out += std::to_string(errors[i]) + " " + QueueErrorName(static_cast<QueueError>(i)) + " error" +
           (errors[i] == 1 ? "" : "s");
  }
  return out.empty() ? "nothing usable read" : out;
}

namespace {

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;

QueueStats::TopK TopK(const std::unordered_map<std::string, std::uint64_t>& counts, std::size_t k) {
  QueueStats::TopK all(counts.begin(), counts.end());
  auto order = [](const auto& a, const auto& b) {
    return a.second != b.second ? a.second > b.second : a.first < b.first;
  };
  if (all.size() <= k) {
    std::sort(all.begin(), all.end(), order);
    return all;
  }
  std::partial_sort(all.begin(), all.begin() + static_cast<std::ptrdiff_t>(k), all.end(), order);
  std::uint64_t rest = 0;
  for (std::size_t i = k; i < all.size(); ++i) rest += all[i].second;
  all.resize(k);
  all.emplace_back(kQueueTopKOther, rest);
  return all;
}

MetricFamily Family(const char* name, const char* help, MetricType type) {
  MetricFamily f;
  f.name = name;
  f.help = help;
  f.type = type;
  return f;
}

void AddGauge(MetricFamily* f, double value, const char* label = nullptr,
              const std::string& label_value = {}) {
  ClientMetric m;
  if (label != nullptr) m.label.push_back({label, label_value});
  m.gauge.value = value;
  f->metric.push_back(std::move(m));
}

}  // namespace

QueueStats AggregateQueue(const std::vector<std::shared_ptr<const QueueMessage>>& messages,
                          const std::vector<std::string>& queue_names, std::int64_t now,
                          std::size_t top_k) {
  QueueStats s;
  for (const auto& q : queue_names) s.queues[q];
  std::unordered_map<std::string, std::uint64_t> by_owner, by_sender, rcpt_by_owner;
  for (const auto& mp : messages) {
    const QueueMessage& m = *mp;
    auto& q = s.queues[m.queue];
    ++q.messages;
    q.bytes += m.size_bytes;
    q.recipients += m.recipients;
    if (m.has_received_time)
      q.oldest_age_seconds = std::max(q.oldest_age_seconds, now - m.received_time);
    if (m.frozen) ++s.frozen;
    if (m.bounce) ++s.bounces;
    if (m.frozen && m.bounce) ++s.frozen_bounces;
    if (top_k > 0) {
      if (!m.owner_label.empty()) {
        ++by_owner[m.owner_label];
        rcpt_by_owner[m.owner_label] += m.recipients;
      }
      if (!m.sender_label.empty()) ++by_sender[m.sender_label];
    }
  }
  if (top_k > 0) {
    s.messages_by_owner = TopK(by_owner, top_k);
    s.messages_by_sender = TopK(by_sender, top_k);
    s.recipients_by_owner = TopK(rcpt_by_owner, top_k);
  }
  return s;
}

namespace {

// The queue-state families of one scan (none when it read nothing usable).
std::vector<MetricFamily> QueueStateFamilies(const QueueScan& scan,
                                             const std::vector<std::string>& queue_names,
                                             std::int64_t now, std::size_t top_k) {
  std::vector<MetricFamily> out;

  if (scan.ok) {
    QueueStats s = AggregateQueue(scan.messages, queue_names, now, top_k);
    auto messages = Family("mailrelay_queue_messages", "Messages in the queue.", MetricType::Gauge);
    auto bytes =
        Family("mailrelay_queue_bytes",
               "Total size of the messages in the queue (headers and body).", MetricType::Gauge);
    auto rcpts = Family("mailrelay_queue_recipients",
                        "Undelivered recipients of the messages in the queue.", MetricType::Gauge);
    auto oldest =
        Family("mailrelay_queue_oldest_message_age_seconds",
               "Age of the oldest message in the queue (0 when empty).", MetricType::Gauge);
    for (const auto& [name, q] : s.queues) {
      AddGauge(&messages, static_cast<double>(q.messages), "queue", name);
      AddGauge(&bytes, static_cast<double>(q.bytes), "queue", name);
      AddGauge(&rcpts, static_cast<double>(q.recipients), "queue", name);
      AddGauge(&oldest, static_cast<double>(q.oldest_age_seconds), "queue", name);
    }
    out.push_back(std::move(messages));
    out.push_back(std::move(bytes));
    out.push_back(std::move(rcpts));
    out.push_back(std::move(oldest));

    auto frozen = Family("mailrelay_queue_frozen_messages", "Frozen messages in the queue.",
                         MetricType::Gauge);
    AddGauge(&frozen, static_cast<double>(s.frozen));
    out.push_back(std::move(frozen));
    auto bounces =
        Family("mailrelay_queue_bounce_messages",
               "Messages in the queue with a null envelope sender (bounces).", MetricType::Gauge);
    AddGauge(&bounces, static_cast<double>(s.bounces));
    out.push_back(std::move(bounces));
    auto frozen_bounces =
        Family("mailrelay_queue_frozen_bounce_messages",
               "Frozen messages in the queue with a null envelope sender.", MetricType::Gauge);
    AddGauge(&frozen_bounces, static_cast<double>(s.frozen_bounces));
    out.push_back(std::move(frozen_bounces));

    if (top_k > 0) {
      struct TopFamily {
        const char* name;
        const char* help;
        const char* label;
        const QueueStats::TopK* values;
      };
      for (const auto& t : {
               TopFamily{"mailrelay_queue_messages_by_auth_user",
                         "Messages in the queue per authenticated id (else local user); top k.",
                         "user", &s.messages_by_owner},
               TopFamily{"mailrelay_queue_messages_by_sender",
                         "Messages in the queue per envelope sender; top k.", "sender",
                         &s.messages_by_sender},
               TopFamily{"mailrelay_queue_recipients_by_auth_user",
                         "Undelivered recipients in the queue per authenticated id (else local "
                         "user); top k.",
                         "user", &s.recipients_by_owner},
           }) {
        auto f = Family(t.name, t.help, MetricType::Gauge);
        for (const auto& [label, value] : *t.values) {
          AddGauge(&f, static_cast<double>(value), t.label, label);
        }
        out.push_back(std::move(f));
      }
    }
  }

  return out;
}

}  // namespace

QueueCollector::QueueCollector(std::unique_ptr<QueueSource> source, Options options)
    : options_(std::move(options)),
      clock_(options_.clock != nullptr ? *options_.clock : SystemClock::Get()),
      source_(std::move(source)) {
  if (options_.background) thread_ = std::thread([this] { RefreshLoop(); });
}

QueueCollector::~QueueCollector() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

std::uint64_t QueueCollector::scans() const {
  std::lock_guard<std::mutex> lock(mu_);
  return scans_;
}

void QueueCollector::WaitForScans(std::uint64_t n) const {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait(lock, [&] { return scans_ >= n; });
}

std::vector<MetricFamily> QueueCollector::Collect() const {
  if (!options_.background) {
    std::lock_guard<std::mutex> scan_lock(scan_mu_);  // concurrent scrapes share one scan
    bool due = false;
    {
      std::lock_guard<std::mutex> lock(mu_);
      due =
          !have_result_ || std::chrono::duration<double>(clock_.SteadyNow() - last_scan_).count() >=
                               options_.min_scan_interval_seconds;
    }
    if (due) ScanAndStore();
  }
  std::lock_guard<std::mutex> lock(mu_);
  return WithAge();
}

bool QueueCollector::Ready(std::string* why) const {
  if (!options_.background) {
    // Read here when nobody has scraped yet, and again (at most every min scan interval) while
    // the last read failed: a spool that appears later makes the exporter ready without a scrape.
    std::lock_guard<std::mutex> scan_lock(scan_mu_);
    bool due = false;
    {
      std::lock_guard<std::mutex> lock(mu_);
      due = !have_result_ ||
            (!not_ready_.empty() &&
             std::chrono::duration<double>(clock_.SteadyNow() - last_scan_).count() >=
                 options_.min_scan_interval_seconds);
    }
    if (due) ScanAndStore();
  }
  std::lock_guard<std::mutex> lock(mu_);
  std::string reason = have_result_ ? not_ready_ : "the queue has not been read yet";
  if (why != nullptr) *why = reason;
  return reason.empty();
}

void QueueCollector::RefreshLoop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stop_) {
    lock.unlock();
    {
      std::lock_guard<std::mutex> scan_lock(scan_mu_);
      ScanAndStore();
    }
    lock.lock();
    cv_.wait_for(lock, std::chrono::duration<double>(options_.refresh_interval_seconds),
                 [this] { return stop_; });
  }
}

void QueueCollector::ScanAndStore() const {
  auto start = clock_.SteadyNow();
  QueueScan scan;
  bool failed = false;
  try {
    scan = source_->Scan();
  } catch (const std::exception& e) {
    failed = true;
    Log(LogLevel::kError, "queue scan failed", {{"error", e.what()}});
  } catch (...) {
    failed = true;
    Log(LogLevel::kError, "queue scan failed", {{"error", "unknown exception"}});
  }
  if (failed) scan = QueueScan();  // nothing usable: the queue-state families are omitted
  std::vector<MetricFamily> out;
  if (scan.ok) {
    out = QueueStateFamilies(scan, source_->QueueNames(), clock_.UnixSeconds(), options_.top_k);
  }
  auto truncated = Family("mailrelay_queue_scrape_truncated",
                          "1 when the last queue scan hit --queue.max-files and left messages out.",
                          MetricType::Gauge);
  AddGauge(&truncated, scan.truncated ? 1 : 0);
  out.push_back(std::move(truncated));
  auto duration = Family("mailrelay_queue_scrape_duration_seconds",
                         "How long the last queue scan took.", MetricType::Gauge);
  AddGauge(&duration, std::chrono::duration<double>(clock_.SteadyNow() - start).count());
  out.push_back(std::move(duration));

  std::lock_guard<std::mutex> lock(mu_);
  for (int i = 0; i < kQueueErrorCount; ++i) errors_[i] += scan.errors[i];
  if (failed) ++failures_;
  source_up_ = scan.ok;
  not_ready_ = scan.ok ? std::string() : (failed ? "the queue reader failed" : scan.Describe());
  ++scans_;
  last_families_ = std::move(out);
  last_scan_ = clock_.SteadyNow();
  have_result_ = true;
  cv_.notify_all();
}

std::vector<MetricFamily> QueueCollector::WithAge() const {
  std::vector<MetricFamily> out = last_families_;
  auto errors = Family("mailrelay_queue_scrape_errors_total",
                       "Errors met while reading the queue, by reason.", MetricType::Counter);
  for (int i = 0; i < kQueueErrorCount; ++i) {
    ClientMetric m;
    m.label.push_back({"reason", QueueErrorName(static_cast<QueueError>(i))});
    m.counter.value = static_cast<double>(errors_[i]);
    errors.metric.push_back(std::move(m));
  }
  out.push_back(std::move(errors));
  auto failures =
      Family("mailrelay_collector_errors_total",
             "Collections that failed unexpectedly (an exception in a reader), by collector; "
             "the scrape goes on without that collector's data.",
             MetricType::Counter);
  ClientMetric f;
  f.label.push_back({"collector", "queue"});
  f.counter.value = static_cast<double>(failures_);
  failures.metric.push_back(std::move(f));
  out.push_back(std::move(failures));
  if (have_result_) {
    auto up = Family("mailrelay_queue_source_up",
                     "1 when the last queue scan read the queue, 0 when it could not (the reason "
                     "is logged and shown on /-/ready).",
                     MetricType::Gauge);
    AddGauge(&up, source_up_ ? 1 : 0);
    out.push_back(std::move(up));
    auto age = Family("mailrelay_queue_snapshot_age_seconds",
                      "Age of the queue scan the queue families come from (queue commands run "
                      "in the background; the spool is read at the scrape).",
                      MetricType::Gauge);
    AddGauge(&age, std::chrono::duration<double>(clock_.SteadyNow() - last_scan_).count());
    out.push_back(std::move(age));
  }
  return out;
}

}  // namespace mailrelay
