// PostfixLogParser: one Postfix syslog line -> PostfixRecord. No I/O, no correlation (that is
// PostfixCorrelator's job); the only state is the local-time conversion's (a cache, and the
// previous stamp for DST fall-back). Understands:
//   - the syslog prefix: BSD `Mmm dd HH:MM:SS host tag: ` (day padded with a space or a zero,
//     or not padded) or RFC 3339 `YYYY-MM-DDTHH:MM:SS[.frac](Z|+hh:mm) host tag: `;
//   - Postfix program names, including multi-instance and per-service ones:
//     `postfix/smtpd`, `postfix/submission/smtpd`, `postfix-incoming/smtpd`,
//     `postfix/smtp-25/smtpd`; the daemon is the last `/` component;
//   - short (`75CA8A74AB1`) and long (`3Pt2mN2VXxznjll`) queue ids, and `NOQUEUE`.
// Lines of other programs (dovecot, opendkim... share mail.log) are kOk with kind kForeign.
// Hand-written scanning over std::string_view; no regex.
#pragma once

#include <cstdint>
#include <memory>
#include <string_view>

#include "common/text.h"
#include "common/time_zone.h"
#include "events/event.h"

namespace mailrelay {

enum class PostfixKind : std::uint8_t {
  kForeign,       // a syslog line of another program
  kOther,         // a Postfix line that counts towards nothing
  kClient,        // smtpd/qmqpd `QID: client=name[ip][, sasl_method=M, sasl_username=U]`
  kPickup,        // pickup `QID: uid=N from=<sender>`
  kQueued,        // qmgr `QID: from=<sender>, size=N, nrcpt=N (queue active)`
  kExpired,       // qmgr `QID: from=<sender>, status=expired, returned to sender`
  kDelivery,      // any daemon `QID: to=<rcpt>, relay=..., status=sent|deferred|bounced`
  kNotification,  // bounce `QID: sender non-delivery notification: NEWQID` (and delay/DSN)
  kRemoved,       // qmgr/postsuper `QID: removed`
  kHold,          // cleanup `QID: hold: ...` / `milter-hold: ...`: accepted into the hold queue
  kDiscard,       // cleanup/smtpd `QID: discard: ...`: accepted and thrown away
  kReject,        // `reject:`, `milter-reject:`, `proxy-reject:` (smtpd, postscreen, cleanup)
  kAuthFailure,   // smtpd `warning: name[ip]: SASL M authentication failed: ...`
};

struct PostfixRecord {
  std::int64_t timestamp = 0;  // Unix seconds of the syslog time; 0 when the line has none
  std::string_view program;    // syslog tag without [pid], e.g. "postfix/submission/smtpd"
  std::string_view daemon;     // its last component, e.g. "smtpd"
  std::string_view queue_id;   // empty when the line has none (or says NOQUEUE)
  PostfixKind kind = PostfixKind::kForeign;

  std::string_view client_ip;      // kClient, kReject, kAuthFailure (when known)
  std::string_view sasl_method;    // kClient; kAuthFailure: the mechanism as logged
  std::string_view sasl_username;  // kClient; kAuthFailure: the 3.9+ `, sasl_username=` suffix
  bool reinjected = false;         // kClient with orig_queue_id=, kPickup with orig_id=

  std::string_view sender;  // kPickup, kQueued, kExpired, kHold: from=<...> without <>
  bool has_sender = false;
  std::uint64_t size = 0;                                // kQueued
  std::uint32_t nrcpt = 0;                               // kQueued
  std::uint32_t uid = 0;                                 // kPickup
  DeliveryResult delivery = DeliveryResult::kDelivered;  // kDelivery, kExpired (kFailed)
  std::string_view new_queue_id;                         // kNotification
  RejectReason reject_reason = RejectReason::kOther;     // kReject
  std::string_view reject_text;   // kReject: the reply text reject_reason was decided from
  bool message_rejected = false;  // kReject of a whole message (DATA, BDAT, END-OF-MESSAGE,
                                  // cleanup header/body checks): its queue id is dead
};

class PostfixLogParser {
 public:
  // `reference_time`: see SetReferenceTime (Unix seconds; 0 is 1970). `zone`: the zone of BSD
  // syslog stamps (written without an offset); null: the process's zone.
  explicit PostfixLogParser(std::int64_t reference_time = 0,
                            std::shared_ptr<const TimeZone> zone = nullptr);

  // Parses `line` (without its newline) into *record (reset first). kUnparsed: no syslog
  // prefix, or a damaged tag.
  ParseStatus Parse(std::string_view line, PostfixRecord* record);

  // BSD syslog timestamps carry no year: the one that puts a line at most 7 days after this time.
  void SetReferenceTime(std::int64_t unix_seconds);

 private:
  std::size_t ParseTimestamp(std::string_view s, std::int64_t* ts);

  CivilTimeConverter time_;
};

// A Postfix queue id, short (hex) or long (enable_long_queue_ids) form.
bool IsPostfixQueueId(std::string_view s);

// Is this syslog tag (without [pid]) a Postfix program? `postfix` or `postfix-<x>` followed by
// at least one `/component`.
bool IsPostfixProgram(std::string_view program);

}  // namespace mailrelay
