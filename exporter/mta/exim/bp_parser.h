// Pure parser of `exim -bp` output (src/src/queue.c queue_list; classification.md 3.1):
//
//   25m  2.9K 0t5C6f-0000c8-00 <alice@example.com> (login) *** frozen ***
//           red.king@example.com
//         D delivered@example.com
//          +D generated-and-delivered@example.com
//   <blank line>
//
// Age is minutes (`Nm`), hours (`Nh`) or days (`Nd`); size is `356`, `1.6K`, `25K`, `2.9M`,
// `12M` (blank when 0); the age is missing when the envelope could not be read, in which case
// a `    *** spool format error ... ***` / `*** spool read error ... ***` line follows.
// Lines that fit none of these shapes are counted in `unparsed_lines` and otherwise ignored.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "queue/queue_message.h"

namespace mailrelay {

struct EximBpEntry {
  std::string id;
  bool has_age = false;
  std::int64_t age_seconds = 0;  // resolution: a minute, an hour or a day, as printed
  bool has_size = false;
  std::uint64_t size_bytes = 0;  // approximate above 1 KiB, as printed
  bool has_sender = false;
  std::string sender;           // without <>; empty = null sender
  std::string untrusted_login;  // the "(login)" after the sender, if any
  bool frozen = false;
  bool spool_error = false;  // Exim could not read the message's spool file
  std::uint64_t recipients_undelivered = 0;
  std::uint64_t recipients_delivered = 0;  // `D` lines (`+D` generated addresses not counted)
};

struct EximBpListing {
  std::vector<EximBpEntry> entries;
  std::size_t unparsed_lines = 0;  // non-blank lines in no known shape
};

EximBpListing ParseEximBp(std::string_view text);

// "25m" -> 1500, "3h" -> 10800, "2d" -> 172800. False on anything else.
bool ParseEximBpAge(std::string_view token, std::int64_t* seconds);
// "356" -> 356, "1.6K" -> 1638, "25K" -> 25600, "2.9M" -> 3040870. False on anything else.
bool ParseEximBpSize(std::string_view token, std::uint64_t* bytes);

// Converts an entry (without spool error) to a QueueMessage: queue "input", received time
// = now - age, no owner (the listing carries no authenticated id).
QueueMessage ToQueueMessage(const EximBpEntry& entry, std::int64_t now);

}  // namespace mailrelay
