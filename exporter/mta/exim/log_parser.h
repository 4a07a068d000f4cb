// EximLogParser: one Exim mainlog/rejectlog line -> Event. No I/O, no clock; the only state is
// the local-time conversion's (a cache, and the previous stamp for DST fall-back). Understands:
//   - the Exim prefix: `YYYY-MM-DD HH:MM:SS[.mmm][ +ZZZZ] [[pid] ][<message id> ]text`;
//   - the same text behind a syslog header (`Mon DD HH:MM:SS host exim[pid]: ` or RFC 3339),
//     with or without Exim's own timestamp, and syslog's `[n/m]` split pieces;
//   - both message-id formats (4.96 `1xV63s-0004DJ-2f`, 4.97+ `1xV63s-000000004DJ-02fA`);
//   - `KEY=value` fields in any order, `"quoted \" values"`, H= spanning `name (helo) [ip]:port`.
// Optional fields are never required: a `<=` line without ` for ` counts one recipient.
#pragma once

#include <cstdint>
#include <memory>
#include <string_view>

#include "common/text.h"
#include "common/time_zone.h"
#include "events/event.h"

namespace mailrelay {

class EximLogParser {
 public:
  // `reference_time`: see SetReferenceTime (Unix seconds; 0 is 1970). `zone`: the zone of
  // stamps written without an offset (Exim's default, local time); null: the process's zone.
  explicit EximLogParser(std::int64_t reference_time = 0,
                         std::shared_ptr<const TimeZone> zone = nullptr);

  // Parses `line` (without its newline) into *event (reset first).
  ParseStatus Parse(std::string_view line, Event* event);

  // Syslog timestamps carry no year: the one that puts a line at most 7 days after this time.
  void SetReferenceTime(std::int64_t unix_seconds);

 private:
  std::size_t ParseEximTimestamp(std::string_view s, std::int64_t* ts);
  std::size_t ParseSyslogHeader(std::string_view s, std::int64_t* ts);
  ParseStatus ParseText(std::string_view text, Event* event);

  CivilTimeConverter time_;
};

// Exported for tests and for the spool reader: is `s` an Exim message id (either format)?
bool IsEximMessageId(std::string_view s);

}  // namespace mailrelay
