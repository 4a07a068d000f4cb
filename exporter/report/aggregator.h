// ReportAggregator: counts Events (already filtered to the window) and queue messages the way
// the exporter's metrics do (docs/metrics.md), but keyed without caps, then keeps the top N of
// each table. Pure: no I/O, no clock.
//
// Same rules as the metrics: an arrival the classifier ignores counts only in `ignored` (and
// as a generated bounce when it is one); recipients come from the Event; auth users are counted
// whatever the class; source IPs per class; local users for localrelay only; spoofing by the
// classifier's rule (identity vs envelope sender).
//
// Sorting (ties by name, so output is deterministic): auth users, local users and source IPs by
// recipients then messages, descending; spoofing by messages; auth failures by failures; rejects
// by count; queue owners and senders by messages.
//
// The top offender is the identity (auth user or local user) with the most recipients in the
// window; with no such arrivals in the window, the queue owner with the most messages (the
// MTA's own users, --relay.ignore-users, excluded); with no owned mail in the queue either (the
// Postfix queue has no owners), the envelope sender with the most queued messages (not bounces).
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <tuple>
#include <unordered_set>
#include <vector>

#include "classify/event_sink.h"
#include "classify/relay_classifier.h"
#include "events/event.h"
#include "queue/queue_message.h"
#include "report/report_data.h"

namespace mailrelay::report {

class ReportAggregator : public EventSink {
 public:
  // `ignore_users`: --relay.ignore-users, never the offender as queue owners.
  explicit ReportAggregator(std::unordered_set<std::string> ignore_users = {})
      : ignore_users_(std::move(ignore_users)) {}

  // EventSink (events already filtered to the window). Rejects and auth failures feed the
  // per-IP tables, deliveries and queue events only the totals.
  void OnReject(const Event& ev) override;
  void OnAuthFailure(const Event& ev) override;
  void OnArrival(const Event& ev, const Classification& c) override;
  void OnDelivery(const Event& ev) override;
  void OnCompleted(const Event& ev) override;
  void OnFrozen(const Event& ev) override;
  void OnQueue(const std::vector<std::shared_ptr<const QueueMessage>>& messages);

  // Fills the tables of *out (top N rows each) and out->offender (without commands).
  void Finish(std::size_t top, ReportData* out) const;

  // For the offender's commands: its raw identity bytes and most frequent sender, as logged.
  struct OffenderKey {
    std::string identity;
    std::string kind;  // auth_user, local_user, queue_owner or queue_sender
    std::string sender;
  };
  std::optional<OffenderKey> TopOffender() const;

 private:
  struct Tally {
    std::uint64_t messages = 0;
    std::uint64_t recipients = 0;
  };
  struct Identity {
    Tally tally;
    std::uint64_t spoofed = 0;
    std::set<std::string, std::less<>> ips;
    std::map<std::string, std::uint64_t, std::less<>> senders;
  };
  struct Failures {
    std::uint64_t failures = 0;
    std::set<std::string, std::less<>> users;
  };
  struct QueueOwner {
    QueueOwnerRow row;
    std::map<std::string, std::uint64_t, std::less<>> senders;
  };

  std::unordered_set<std::string> ignore_users_;
  std::array<ClassRow, kRelayClassCount> classes_{};
  std::array<std::uint64_t, kIgnoreReasonCount> ignored_{};
  std::uint64_t delivered_ = 0;
  std::uint64_t deferred_ = 0;
  std::uint64_t failed_ = 0;
  std::uint64_t retry_wait_ = 0;
  std::uint64_t bounces_generated_ = 0;
  std::uint64_t frozen_ = 0;
  std::uint64_t completed_ = 0;

  std::map<std::string, Identity, std::less<>> auth_users_;
  std::map<std::string, Identity, std::less<>> local_users_;
  std::array<std::map<std::string, Tally, std::less<>>, kRelayClassCount> source_ips_;
  // (identity, class, sender) -> messages
  std::map<std::tuple<std::string, int, std::string>, std::uint64_t> spoofs_;
  std::uint64_t spoofed_total_ = 0;
  std::map<std::string, Failures, std::less<>> auth_failures_;
  std::uint64_t auth_failures_total_ = 0;
  std::array<std::uint64_t, kRejectReasonCount> rejects_{};
  std::array<std::set<std::string, std::less<>>, kRejectReasonCount> reject_ips_;

  bool queue_seen_ = false;
  QueueReport queue_;
  std::map<std::string, QueueOwner, std::less<>> queue_owners_;
  std::map<std::string, QueueSenderRow, std::less<>> queue_senders_;
};

}  // namespace mailrelay::report
