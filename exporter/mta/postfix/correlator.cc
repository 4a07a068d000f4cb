#include "mta/postfix/correlator.h"

#include <mutex>
#include <utility>

#include "common/passwd.h"

namespace mailrelay {

std::string_view CorrelationDropName(CorrelationDrop d) {
  switch (d) {
    case CorrelationDrop::kExpired:
      return "expired";
    case CorrelationDrop::kCapacity:
      return "capacity";
    case CorrelationDrop::kUnmatched:
      return "unmatched";
  }
  return "expired";
}

std::string SystemUidName(std::uint32_t uid) {
  static std::mutex mu;
  static std::unordered_map<std::uint32_t, std::string> cache;
  std::lock_guard<std::mutex> lock(mu);
  if (auto it = cache.find(uid); it != cache.end()) return it->second;
  std::string name = LookupUidName(uid);
  if (cache.size() >= 4096) cache.clear();
  cache.emplace(uid, name);
  return name;
}

PostfixCorrelator::PostfixCorrelator(Options options, UidResolver resolver)
    : options_(options), resolver_(std::move(resolver)) {
  if (options_.max_entries == 0) options_.max_entries = 1;
}

PostfixCorrelator::Entry* PostfixCorrelator::Find(std::string_view queue_id) {
  auto it = entries_.find(queue_id);
  if (it == entries_.end()) return nullptr;
  Entry& e = it->second;
  e.last_seen = clock_;
  lru_.splice(lru_.begin(), lru_, e.lru);
  return &e;
}

PostfixCorrelator::Entry& PostfixCorrelator::Touch(std::string_view queue_id) {
  if (Entry* e = Find(queue_id)) return *e;
  auto [it, inserted] = entries_.try_emplace(std::string(queue_id));
  Entry& e = it->second;
  lru_.push_front(&*it);
  e.last_seen = clock_;
  e.lru = lru_.begin();
  return e;
}

void PostfixCorrelator::Erase(std::string_view queue_id) {
  auto it = entries_.find(queue_id);
  if (it == entries_.end()) return;
  lru_.erase(it->second.lru);
  entries_.erase(it);
}

void PostfixCorrelator::ExpireAndCap() {
  // The list is ordered by last_seen (the clock never goes back), oldest at the back. It holds
  // the map's nodes (stable across rehashing): checking the oldest entry needs no lookup.
  while (!lru_.empty()) {
    const Entry& e = lru_.back()->second;
    bool expired = e.last_seen + options_.ttl_seconds < clock_;
    bool over = entries_.size() > options_.max_entries;
    if (!expired && !over) break;
    if (over) {
      Drop(CorrelationDrop::kCapacity);
    } else if (!e.counted && !e.skip && (e.has_source || e.notification)) {
      Drop(CorrelationDrop::kExpired);
    }
    auto it = entries_.find(std::string_view(lru_.back()->first));
    lru_.pop_back();
    entries_.erase(it);
  }
}

std::string PostfixCorrelator::ResolveUid(std::uint32_t uid) {
  std::string name = resolver_ ? resolver_(uid) : std::string();
  return name.empty() ? std::to_string(uid) : name;
}

void PostfixCorrelator::EmitArrival(Entry& e, const PostfixRecord& r, const EventFn& emit) {
  Event ev;
  ev.type = EventType::kArrival;
  ev.timestamp = r.timestamp;
  ev.message_id = r.queue_id;
  if (r.has_sender) {
    ev.sender = r.sender;
  } else {
    ev.sender = e.sender;
  }
  if (e.notification || (!e.has_source && ev.sender.empty())) {
    // Generated here by the bounce daemon (null sender, or double-bounce for postmaster copies).
    ev.sender = {};
    ev.null_sender = true;
    ev.locally_generated_bounce = true;
  } else {
    ev.null_sender = ev.sender.empty();
  }
  if (e.local) {
    ev.local_submission = true;
    ev.local_user = e.local_user;
    ev.protocol = "local";
  } else {
    ev.client_ip = e.client_ip;
    ev.authenticator = e.sasl_method;
    ev.auth_id = e.sasl_username;
    ev.authenticated = !e.sasl_username.empty() || !e.sasl_method.empty();
  }
  if (r.kind == PostfixKind::kQueued) {
    ev.size_bytes = r.size;
    ev.recipients = r.nrcpt > 0 ? r.nrcpt : 1;
  }
  e.counted = true;
  emit(ev);
  // Only the "counted" flag is needed from now on (to ignore qmgr's retry lines).
  std::string().swap(e.client_ip);
  std::string().swap(e.sasl_method);
  std::string().swap(e.sasl_username);
  std::string().swap(e.local_user);
  std::string().swap(e.sender);
}

void PostfixCorrelator::Add(const PostfixRecord& r, const EventFn& emit) {
  if (r.timestamp > clock_) clock_ = r.timestamp;
  ExpireAndCap();
  switch (r.kind) {
    case PostfixKind::kForeign:
    case PostfixKind::kOther:
      return;
    case PostfixKind::kClient: {
      Entry& e = Touch(r.queue_id);
      if (e.has_source || e.counted) break;  // a second client= for the same id: keep the first
      e.has_source = true;
      e.skip = r.reinjected;
      e.client_ip.assign(r.client_ip);
      e.sasl_method.assign(r.sasl_method);
      e.sasl_username.assign(r.sasl_username);
      break;
    }
    case PostfixKind::kPickup: {
      Entry& e = Touch(r.queue_id);
      if (e.has_source || e.counted) break;
      e.has_source = true;
      e.local = true;
      e.skip = r.reinjected;
      e.local_user = ResolveUid(r.uid);
      e.sender.assign(r.sender);
      break;
    }
    case PostfixKind::kNotification: {
      Entry& e = Touch(r.new_queue_id);
      e.notification = true;
      break;
    }
    case PostfixKind::kQueued: {
      Entry* e = Find(r.queue_id);
      if (e == nullptr) {
        Entry& created = Touch(r.queue_id);
        if (r.sender.empty()) {
          EmitArrival(created, r, emit);  // a bounce whose notification line we did not see
        } else {
          created.counted = true;
          Drop(CorrelationDrop::kUnmatched);
        }
        break;
      }
      if (e->counted || e->skip) break;  // a retry, or a re-injection
      EmitArrival(*e, r, emit);
      break;
    }
    case PostfixKind::kHold: {
      Entry* e = Find(r.queue_id);
      if (e != nullptr && !e->counted && !e->skip && e->has_source) {
        EmitArrival(*e, r, emit);  // sender from the hold line's from=<...> when present
      }
      break;
    }
    case PostfixKind::kRemoved: {
      if (Entry* e = Find(r.queue_id);
          e != nullptr && !e->counted && !e->skip && (e->has_source || e->notification)) {
        EmitArrival(*e, r, emit);
      }
      Erase(r.queue_id);
      Event ev;
      ev.type = EventType::kCompleted;
      ev.timestamp = r.timestamp;
      ev.message_id = r.queue_id;
      emit(ev);
      break;
    }
    case PostfixKind::kDiscard:
      Erase(r.queue_id);
      break;
    case PostfixKind::kDelivery:
    case PostfixKind::kExpired: {
      if (!r.queue_id.empty()) Find(r.queue_id);  // refresh: the message is still queued
      Event ev;
      ev.type = EventType::kDelivery;
      ev.timestamp = r.timestamp;
      ev.message_id = r.queue_id;
      ev.delivery = r.delivery;
      emit(ev);
      break;
    }
    case PostfixKind::kReject: {
      if (r.message_rejected) Erase(r.queue_id);
      Event ev;
      ev.type = EventType::kReject;
      ev.timestamp = r.timestamp;
      ev.message_id = r.queue_id;
      ev.client_ip = r.client_ip;
      ev.reject_reason = r.reject_reason;
      ev.reject_text = r.reject_text;
      emit(ev);
      break;
    }
    case PostfixKind::kAuthFailure: {
      scratch_.assign(r.sasl_method);
      for (char& c : scratch_) {
        if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
      }
      Event ev;
      ev.type = EventType::kAuthFailure;
      ev.timestamp = r.timestamp;
      ev.client_ip = r.client_ip;
      ev.authenticator = scratch_;
      ev.auth_id = r.sasl_username;
      emit(ev);
      break;
    }
  }
  if (entries_.size() > options_.max_entries) ExpireAndCap();
}

}  // namespace mailrelay
