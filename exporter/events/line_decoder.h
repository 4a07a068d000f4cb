// LineDecoder: how the lines of one log become MTA-neutral Events. Each MTA module makes its own
// (mta/<name>/); the live pipeline and the report drive them the same way (pipeline/).
// Decoders are pure: no I/O and no clock. Time comes in through SetReferenceTime (the year of
// syslog stamps, which carry none) and from the lines themselves.
#pragma once

#include <cstdint>
#include <functional>
#include <string_view>

#include "events/event.h"

namespace mailrelay {

class LineDecoder {
 public:
  using EventFn = std::function<void(const Event&)>;
  virtual ~LineDecoder() = default;

  // Decodes one line (without its newline); *timestamp gets the time written in it (0: none).
  // `emit` is called for every Event the line completes (kNone events are not emitted; a
  // decoder that correlates lines may emit an Event on a later line).
  virtual ParseStatus Decode(std::string_view line, std::int64_t* timestamp,
                             const EventFn& emit) = 0;
  // The time written in a line (0: none), without changing any state: the report's cheap
  // probes of rotated files.
  virtual std::int64_t LineTime(std::string_view line) = 0;
  // Syslog stamps have no year: the decoder picks the one that puts a line at most 7 days after
  // this time (Unix seconds). The live pipeline sets it at every poll, the report to --until.
  virtual void SetReferenceTime(std::int64_t unix_seconds) = 0;
  // Refreshes the decoder's own self-metrics, if any (after each poll).
  virtual void UpdateGauges() {}
};

}  // namespace mailrelay
