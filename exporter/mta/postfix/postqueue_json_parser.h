// Pure parser of `postqueue -j` output (Postfix >= 3.1; classification.md 4.5): one JSON
// object per line with members queue_name, queue_id, arrival_time, message_size,
// forced_expire, sender, recipients [{address, delay_reason?}]. Unknown members are ignored
// (as postqueue(1) asks). JSON is read with common/json.h (strict, bounded nesting, never crashes
// on garbage).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "queue/queue_message.h"

namespace mailrelay {

// The queues showq lists: maildrop, incoming, active, deferred, hold.
const std::vector<std::string>& PostfixQueueNames();
bool IsPostfixQueueName(std::string_view name);

struct PostqueueEntry {
  std::string queue_name;
  std::string queue_id;
  std::int64_t arrival_time = 0;
  std::uint64_t message_size = 0;
  bool forced_expire = false;
  std::string sender;  // "MAILER-DAEMON" or "" for the null sender
  std::vector<std::string> recipients;
};

// One line (a trailing '\r' is allowed). An error when it is not a valid postqueue object (bad
// JSON, a missing or mistyped member, an unknown queue name).
Status ParsePostqueueJsonLine(std::string_view line, PostqueueEntry* out);

struct PostqueueListing {
  std::vector<PostqueueEntry> entries;
  std::size_t bad_lines = 0;  // non-blank lines rejected by ParsePostqueueJsonLine
};
PostqueueListing ParsePostqueueJson(std::string_view text);

// Null sender: "MAILER-DAEMON" (how showq prints it) or empty.
bool IsPostfixBounceSender(std::string_view sender);

// queue = queue_name; every listed recipient is undelivered; no owner (postqueue shows no
// SASL user); never frozen.
QueueMessage ToQueueMessage(const PostqueueEntry& entry);

}  // namespace mailrelay
