// One queued message as the queue metrics see it, whatever the MTA and the reader.
#pragma once

#include <cstdint>
#include <string>

namespace mailrelay {

struct QueueMessage {
  std::string id;     // Exim message id or Postfix queue id
  std::string queue;  // "input" (Exim), or the Postfix queue: active, deferred, hold, ...
  // Envelope sender as a label value: sanitised, "<>" for the null sender (bounces).
  std::string sender_label;
  // Who submitted it, as a label value (sanitised): the authenticated id, else the local
  // user of a local submission (see QueueOwner in exim_spool_header.h); empty when neither.
  std::string owner_label;
  bool bounce = false;  // null sender (Exim `<>`, Postfix `MAILER-DAEMON` or empty)
  bool frozen = false;  // Exim `-frozen` / `*** frozen ***`; Postfix never
  bool has_received_time = false;
  std::int64_t received_time = 0;  // Unix seconds
  std::uint64_t size_bytes = 0;    // header + body, as `exim -bp` / postqueue report it
  std::uint64_t recipients = 0;    // undelivered recipients
};

}  // namespace mailrelay
