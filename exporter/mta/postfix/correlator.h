// PostfixCorrelator: turns PostfixRecords into MTA-neutral Events. Postfix spreads one message
// over several lines of several daemons, joined by the queue id; this class keeps a bounded
// table queue id -> what is known so far, and emits an Event when a line completes something.
//
// Counting rules (docs/metrics.md "Postfix" has the same text for users):
//   - Arrival (kArrival), once per message, at the FIRST qmgr `from=<s>, size=N, nrcpt=N` line
//     of a queue id whose source was seen: smtpd/qmqpd `client=` (client IP, sasl_method,
//     sasl_username) or pickup `uid=N` (local submission; user = the uid's login name, else the
//     number). Sender, size and recipients (nrcpt) come from that qmgr line. qmgr repeats the
//     line each time a deferred message is retried: repeats are not counted.
//   - A message whose qmgr line never comes is counted when cleanup puts it on hold (`hold:`)
//     or when it is `removed` (deleted from the hold queue); a message refused during DATA
//     (`QID: reject: DATA`, `milter-reject: END-OF-MESSAGE`, header/body checks) or discarded
//     is forgotten, not counted. Any other entry still waiting at expiry is dropped uncounted
//     (reason `expired`): the usual cause is a client that went away during DATA.
//   - Bounces: a queue id announced by the bounce daemon (`sender non-delivery notification:
//     NEWQID`, also delay/DSN/postmaster notifications) or a qmgr `from=<>` line of a queue id
//     with no known source is a bounce generated here (null_sender, locally_generated_bounce).
//     A qmgr line with a non-null sender and no known source (exporter started mid-flight,
//     address-verification probes, .forward copies) is not counted (reason `unmatched`).
//   - Re-injections are skipped: smtpd `client=... orig_queue_id=` (content filter with
//     XFORWARD) and pickup `orig_id=` (postsuper -r).
//   - Deliveries, rejects and SASL failures are emitted from their own line. A qmgr `status=
//     expired` line is one failed delivery. `removed` is kCompleted.
// Time is the largest line timestamp seen (log time), so a replay expires entries as a live
// run would. Entries expire `ttl_seconds` after their last line; beyond `max_entries` the
// least recently used entry is pushed out (reason `capacity`).
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <list>
#include <string>
#include <string_view>
#include <unordered_map>

#include "events/event.h"
#include "mta/postfix/log_parser.h"

namespace mailrelay {

enum class CorrelationDrop : std::uint8_t { kExpired, kCapacity, kUnmatched };
inline constexpr int kCorrelationDropCount = 3;
std::string_view CorrelationDropName(CorrelationDrop d);

class PostfixCorrelator {
 public:
  struct Options {
    std::size_t max_entries = 100000;
    std::int64_t ttl_seconds = 7200;
  };
  // Login name of a uid ("" when unknown: the number is used instead).
  using UidResolver = std::function<std::string(std::uint32_t uid)>;
  using EventFn = std::function<void(const Event&)>;

  PostfixCorrelator(Options options, UidResolver resolver);

  // Feeds one record; calls `emit` for each Event it yields (0..n). Views in the Events are
  // valid only during the call.
  void Add(const PostfixRecord& record, const EventFn& emit);

  std::size_t size() const { return entries_.size(); }
  std::uint64_t dropped(CorrelationDrop d) const { return dropped_[static_cast<std::size_t>(d)]; }

 private:
  struct Entry {
    std::int64_t last_seen = 0;
    std::list<std::pair<const std::string, Entry>*>::iterator lru;
    bool has_source = false;    // client= or pickup seen
    bool local = false;         // pickup
    bool counted = false;       // decided: arrival emitted, or deliberately not counted
    bool skip = false;          // re-injection: never counted
    bool notification = false;  // created by the bounce daemon
    std::string client_ip;
    std::string sasl_method;
    std::string sasl_username;
    std::string local_user;
    std::string sender;  // pickup/hold from=, used when the arrival is counted without qmgr
  };

  Entry* Find(std::string_view queue_id);
  Entry& Touch(std::string_view queue_id);  // finds or creates, marks as most recent
  void Erase(std::string_view queue_id);
  void ExpireAndCap();
  void Drop(CorrelationDrop reason) { ++dropped_[static_cast<std::size_t>(reason)]; }
  // Emits the arrival of `e` with what the current line adds, and marks it counted.
  void EmitArrival(Entry& e, const PostfixRecord& r, const EventFn& emit);
  std::string ResolveUid(std::uint32_t uid);

  Options options_;
  UidResolver resolver_;
  std::int64_t clock_ = 0;
  // Lookups by std::string_view (no key copy per line).
  struct KeyHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>()(s); }
  };
  std::unordered_map<std::string, Entry, KeyHash, std::equal_to<>> entries_;
  std::list<std::pair<const std::string, Entry>*> lru_;  // front = most recently touched
  std::array<std::uint64_t, kCorrelationDropCount> dropped_{};
  std::string scratch_;
};

// LookupUidName (/etc/passwd, then NSS in dynamic builds) with a small cache; "" when the uid
// has no entry.
std::string SystemUidName(std::uint32_t uid);

}  // namespace mailrelay
