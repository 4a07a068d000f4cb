#include "report/aggregator.h"

#include <algorithm>
#include <tuple>

#include "common/text.h"

namespace mailrelay::report {

namespace {

// Outside-world strings as printed: valid UTF-8, no control bytes.
constexpr std::size_t kMaxPrintedBytes = 256;
std::string Printable(std::string_view s) { return SanitizeLabelValue(s, kMaxPrintedBytes); }

template <typename Row, typename Less>
void SortAndCut(std::vector<Row>* rows, std::size_t top, Less less) {
  std::sort(rows->begin(), rows->end(), less);
  if (rows->size() > top) rows->resize(top);
}

// Most recipients, then most messages, then name.
template <typename Row>
bool ByVolume(const Row& a, const Row& b, const std::string& ka, const std::string& kb) {
  return std::tie(b.recipients, b.messages, ka) < std::tie(a.recipients, a.messages, kb);
}

template <typename Map>
std::string MostFrequent(const Map& counts) {
  std::string best;
  std::uint64_t best_n = 0;
  for (const auto& [key, n] : counts) {  // ordered: the first of equals wins
    if (n > best_n) {
      best = key;
      best_n = n;
    }
  }
  return best;
}

}  // namespace

void ReportAggregator::OnArrival(const Event& ev, const Classification& c) {
  if (c.ignored) {
    ++ignored_[static_cast<std::size_t>(c.ignore_reason)];
    if (ev.locally_generated_bounce) ++bounces_generated_;
    return;
  }
  auto cls = static_cast<std::size_t>(c.relay_class);
  ClassRow& row = classes_[cls];
  row.relay_class = c.relay_class;
  ++row.messages;
  row.recipients += ev.recipients;
  row.bytes += ev.size_bytes;
  if (!ev.client_ip.empty()) {
    auto& t = source_ips_[cls][std::string(ev.client_ip)];
    ++t.messages;
    t.recipients += ev.recipients;
  }
  auto count_identity = [&](Identity& id) {
    ++id.tally.messages;
    id.tally.recipients += ev.recipients;
    if (!ev.client_ip.empty()) id.ips.emplace(ev.client_ip);
    if (!ev.sender.empty()) ++id.senders[std::string(ev.sender)];
    if (c.spoofed) ++id.spoofed;
  };
  if (!ev.auth_id.empty()) count_identity(auth_users_[std::string(ev.auth_id)]);
  if (c.relay_class == RelayClass::kLocalRelay) {
    count_identity(local_users_[std::string(ev.local_user)]);
  }
  if (c.spoofed) {
    ++row.spoofed;
    ++spoofed_total_;
    ++spoofs_[{std::string(c.identity), static_cast<int>(cls), std::string(ev.sender)}];
  }
}

void ReportAggregator::OnDelivery(const Event& ev) {
  switch (ev.delivery) {
    case DeliveryResult::kDelivered:
      ++delivered_;
      return;
    case DeliveryResult::kDeferred:
      ++deferred_;
      return;
    case DeliveryResult::kFailed:
      ++failed_;
      return;
    case DeliveryResult::kDeferredRetryWait:
      ++retry_wait_;
      return;
  }
}

void ReportAggregator::OnCompleted(const Event& /*ev*/) { ++completed_; }

void ReportAggregator::OnFrozen(const Event& /*ev*/) { ++frozen_; }

void ReportAggregator::OnReject(const Event& ev) {
  auto r = static_cast<std::size_t>(ev.reject_reason);
  ++rejects_[r];
  if (!ev.client_ip.empty()) reject_ips_[r].emplace(ev.client_ip);
}

void ReportAggregator::OnAuthFailure(const Event& ev) {
  ++auth_failures_total_;
  auto& f = auth_failures_[std::string(ev.client_ip)];
  ++f.failures;
  if (!ev.auth_id.empty()) f.users.emplace(ev.auth_id);
}

void ReportAggregator::OnQueue(const std::vector<std::shared_ptr<const QueueMessage>>& messages) {
  queue_seen_ = true;
  for (const auto& m : messages) {
    if (!m) continue;
    ++queue_.messages;
    queue_.recipients += m->recipients;
    queue_.bytes += m->size_bytes;
    if (m->frozen) ++queue_.frozen;
    if (m->bounce) ++queue_.bounces;
    if (m->frozen && m->bounce) ++queue_.frozen_bounces;
    if (m->has_received_time &&
        (queue_.oldest_received == 0 || m->received_time < queue_.oldest_received)) {
      queue_.oldest_received = m->received_time;
    }
    QueueOwner& o = queue_owners_[m->owner_label];
    o.row.owner = m->owner_label;
    ++o.row.messages;
    o.row.recipients += m->recipients;
    if (m->frozen) ++o.row.frozen;
    if (m->bounce) ++o.row.bounces;
    ++o.senders[m->sender_label];
    QueueSenderRow& s = queue_senders_[m->sender_label];
    s.sender = m->sender_label;
    ++s.messages;
    s.recipients += m->recipients;
    if (m->frozen) ++s.frozen;
  }
}

std::optional<ReportAggregator::OffenderKey> ReportAggregator::TopOffender() const {
  const std::string* best = nullptr;
  const Identity* best_id = nullptr;
  std::string kind;
  auto consider = [&](const std::map<std::string, Identity, std::less<>>& map, const char* k) {
    for (const auto& [name, id] : map) {
      if (name.empty()) continue;
      if (best_id == nullptr || std::tie(id.tally.recipients, id.tally.messages) >
                                    std::tie(best_id->tally.recipients, best_id->tally.messages)) {
        best = &name;
        best_id = &id;
        kind = k;
      }
    }
  };
  consider(auth_users_, "auth_user");
  consider(local_users_, "local_user");
  if (best_id != nullptr) return OffenderKey{*best, kind, MostFrequent(best_id->senders)};
  // Nothing arrived in the window: whoever fills the queue.
  const QueueOwner* top = nullptr;
  for (const auto& [owner, o] : queue_owners_) {
    if (owner.empty() || ignore_users_.count(owner) > 0) continue;
    if (top == nullptr || o.row.messages > top->row.messages) top = &o;
  }
  if (top != nullptr) {
    std::string sender = MostFrequent(top->senders);
    if (sender == "<>") sender.clear();
    return OffenderKey{top->row.owner, "queue_owner", sender};
  }
  const QueueSenderRow* top_sender = nullptr;
  for (const auto& [sender, s] : queue_senders_) {
    if (sender.empty() || sender == "<>") continue;
    if (top_sender == nullptr || s.messages > top_sender->messages) top_sender = &s;
  }
  if (top_sender == nullptr) return std::nullopt;
  return OffenderKey{top_sender->sender, "queue_sender", top_sender->sender};
}

void ReportAggregator::Finish(std::size_t top, ReportData* out) const {
  out->top = top;
  out->classes = classes_;
  for (int i = 0; i < kRelayClassCount; ++i) {
    out->classes[static_cast<std::size_t>(i)].relay_class = static_cast<RelayClass>(i);
  }
  out->ignored = ignored_;
  out->delivered = delivered_;
  out->deferred = deferred_;
  out->failed = failed_;
  out->retry_wait = retry_wait_;
  out->bounces_generated = bounces_generated_;
  out->frozen = frozen_;
  out->completed = completed_;

  out->auth_users.clear();
  for (const auto& [user, id] : auth_users_) {
    out->auth_users.push_back(
        {Printable(user), id.tally.messages, id.tally.recipients, id.ips.size(), id.spoofed});
  }
  out->auth_users_total = out->auth_users.size();
  SortAndCut(&out->auth_users, top, [](const AuthUserRow& a, const AuthUserRow& b) {
    return ByVolume(a, b, a.user, b.user);
  });

  out->local_users.clear();
  for (const auto& [user, id] : local_users_) {
    out->local_users.push_back(
        {Printable(user), id.tally.messages, id.tally.recipients, id.spoofed});
  }
  out->local_users_total = out->local_users.size();
  SortAndCut(&out->local_users, top, [](const LocalUserRow& a, const LocalUserRow& b) {
    return ByVolume(a, b, a.user, b.user);
  });

  out->source_ips.clear();
  for (int i = 0; i < kRelayClassCount; ++i) {
    SourceIpTable table;
    table.relay_class = static_cast<RelayClass>(i);
    for (const auto& [ip, t] : source_ips_[static_cast<std::size_t>(i)]) {
      table.rows.push_back({Printable(ip), t.messages, t.recipients});
    }
    table.distinct = table.rows.size();
    SortAndCut(&table.rows, top, [](const SourceIpRow& a, const SourceIpRow& b) {
      return ByVolume(a, b, a.ip, b.ip);
    });
    out->source_ips.push_back(std::move(table));
  }

  out->spoofing.clear();
  for (const auto& [key, n] : spoofs_) {
    const auto& [identity, cls, sender] = key;
    out->spoofing.push_back(
        {Printable(identity), static_cast<RelayClass>(cls), Printable(sender), n});
  }
  out->spoofed_total = spoofed_total_;
  SortAndCut(&out->spoofing, top, [](const SpoofRow& a, const SpoofRow& b) {
    return std::tie(b.messages, a.identity, a.relay_class, a.sender) <
           std::tie(a.messages, b.identity, b.relay_class, b.sender);
  });

  out->auth_failures.clear();
  for (const auto& [ip, f] : auth_failures_) {
    out->auth_failures.push_back({Printable(ip), f.failures, f.users.size()});
  }
  out->auth_failures_total = auth_failures_total_;
  out->auth_failure_ips_total = out->auth_failures.size();
  SortAndCut(&out->auth_failures, top, [](const AuthFailureRow& a, const AuthFailureRow& b) {
    return std::tie(b.failures, a.ip) < std::tie(a.failures, b.ip);
  });

  out->rejects.clear();
  out->rejects_total = 0;
  for (int i = 0; i < kRejectReasonCount; ++i) {
    auto r = static_cast<std::size_t>(i);
    out->rejects_total += rejects_[r];
    if (rejects_[r] == 0) continue;
    out->rejects.push_back({static_cast<RejectReason>(i), rejects_[r], reject_ips_[r].size()});
  }
  std::stable_sort(out->rejects.begin(), out->rejects.end(),
                   [](const RejectRow& a, const RejectRow& b) { return a.rejects > b.rejects; });

  if (out->queue && out->queue->ok && queue_seen_) {
    QueueReport& q = *out->queue;
    q.messages = queue_.messages;
    q.recipients = queue_.recipients;
    q.bytes = queue_.bytes;
    q.frozen = queue_.frozen;
    q.bounces = queue_.bounces;
    q.frozen_bounces = queue_.frozen_bounces;
    q.oldest_received = queue_.oldest_received;
    q.by_owner.clear();
    for (const auto& [owner, o] : queue_owners_) q.by_owner.push_back(o.row);
    q.owners = q.by_owner.size();
    SortAndCut(&q.by_owner, top, [](const QueueOwnerRow& a, const QueueOwnerRow& b) {
      return std::tie(b.messages, b.recipients, a.owner) <
             std::tie(a.messages, a.recipients, b.owner);
    });
    q.by_sender.clear();
    for (const auto& [sender, s] : queue_senders_) q.by_sender.push_back(s);
    q.senders = q.by_sender.size();
    SortAndCut(&q.by_sender, top, [](const QueueSenderRow& a, const QueueSenderRow& b) {
      return std::tie(b.messages, b.recipients, a.sender) <
             std::tie(a.messages, a.recipients, b.sender);
    });
  }

  out->offender.reset();
  if (auto key = TopOffender()) {
    Offender o;
    o.identity = Printable(key->identity);
    o.kind = key->kind;
    o.sender = Printable(key->sender);
    const std::map<std::string, Identity, std::less<>>* map = nullptr;
    if (key->kind == "auth_user") map = &auth_users_;
    if (key->kind == "local_user") map = &local_users_;
    if (map != nullptr) {
      const Identity& id = map->find(key->identity)->second;
      o.messages = id.tally.messages;
      o.recipients = id.tally.recipients;
      o.ips = id.ips.size();
    }
    if (out->queue && out->queue->ok && queue_seen_) {
      o.queue_known = true;
      // Queue owners and senders are sanitised label values (queue_message.h).
      std::string label = SanitizeLabelValue(key->identity);
      if (key->kind == "queue_sender") {
        if (auto it = queue_senders_.find(label); it != queue_senders_.end()) {
          o.queued = it->second.messages;
          o.queued_frozen = it->second.frozen;
        }
      } else if (auto it = queue_owners_.find(label); it != queue_owners_.end()) {
        o.queued = it->second.row.messages;
        o.queued_frozen = it->second.row.frozen;
      }
    }
    out->offender = std::move(o);
  }
}

}  // namespace mailrelay::report
