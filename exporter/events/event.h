// Events: what a log line means, independent of the MTA that wrote it and of Prometheus.
// Parsers (pure functions, no I/O) produce them; the classifier and the metrics sink consume
// them. String views point into the parsed line and are valid only while it is.
#pragma once

#include <cstdint>
#include <string_view>

namespace mailrelay {

enum class EventType : std::uint8_t {
  kNone,         // a recognised line that counts towards nothing (queue runs, connections...)
  kArrival,      // a message was accepted (Exim `<=`, Postfix smtpd/pickup + qmgr)
  kDelivery,     // one recipient delivered, deferred or failed
  kCompleted,    // the message left the queue
  kFrozen,       // the message was frozen
  kReject,       // an SMTP command/connection was rejected
  kAuthFailure,  // a failed SMTP AUTH attempt
};

enum class DeliveryResult : std::uint8_t {
  kDelivered,
  kDeferred,
  kDeferredRetryWait,  // Exim's "retry time not reached": no delivery was attempted
  kFailed,
};

// Fixed vocabulary: label values of mailrelay_rejects_total{reason}. Keep in sync with
// RejectReasonName() and docs/metrics.md.
enum class RejectReason : std::uint8_t {
  kRelayDenied,
  kUnrouteable,
  kRbl,
  kSenderVerify,
  kRatelimit,
  kSpam,
  kSyntax,
  kOther,
};
inline constexpr int kRejectReasonCount = 8;
std::string_view RejectReasonName(RejectReason reason);

struct Event {
  EventType type = EventType::kNone;

  // Unix seconds of the time written in the line; 0 when the line has none.
  std::int64_t timestamp = 0;

  // Arrival ------------------------------------------------------------------------------------
  std::string_view message_id;
  std::string_view sender;  // envelope sender, without <>; empty when null_sender
  bool null_sender = false;
  bool locally_generated_bounce = false;  // Exim `<= <> R=<id>`, Postfix bounce daemon
  std::string_view client_ip;             // remote SMTP client address; empty for local mail
  std::string_view protocol;              // Exim P=, e.g. "esmtpsa", "local"
  bool local_submission = false;          // non-SMTP local submission (sendmail, pickup)
  std::string_view local_user;            // login of the local submitter (Exim U=, Postfix uid)
  bool authenticated = false;
  std::string_view authenticator;  // Exim A= name / Postfix sasl_method; also on kAuthFailure
  std::string_view auth_id;        // authenticated id; on kAuthFailure the attempted user (set_id)
  std::uint64_t size_bytes = 0;
  std::uint32_t recipients = 1;  // addresses listed, 1 when the log does not list them

  // Delivery -----------------------------------------------------------------------------------
  DeliveryResult delivery = DeliveryResult::kDelivered;

  // Reject (client_ip set when known)
  // ---------------------------------------------------------------
  RejectReason reject_reason = RejectReason::kOther;
  // The free text reject_reason was decided from (the operator's ACL message or the reply
  // text, e.g. "relay not permitted"), for --rules.file's reject_reasons.
  std::string_view reject_text;
};

// Outcome of parsing one line.
enum class ParseStatus : std::uint8_t {
  kOk,        // understood (the event may be kNone)
  kUnparsed,  // not a line of this log format, or a damaged one
};

}  // namespace mailrelay
