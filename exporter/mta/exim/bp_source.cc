#include "mta/exim/bp_source.h"

#include <memory>

#include "mta/exim/bp_parser.h"
#include "queue/command_scan.h"

namespace mailrelay {

EximBpSource::EximBpSource(std::vector<std::string> argv, CommandOptions options,
                           const Clock& clock)
    : argv_(std::move(argv)), options_(options), clock_(clock) {}

QueueScan EximBpSource::Scan() {
  QueueScan scan;
  std::optional<std::string> output = RunQueueCommand(argv_, options_, &scan);
  if (!output) return scan;
  std::int64_t now = clock_.UnixSeconds();
  EximBpListing listing = ParseEximBp(*output);
  scan.ok = true;
  if (listing.unparsed_lines > 0) scan.AddError(QueueError::kParse, listing.unparsed_lines);
  for (const auto& e : listing.entries) {
    // A spool error with a readable envelope (sender shown) is still listed by Exim and
    // counted, as the spool reader does; without one the entry is left out.
    if (e.spool_error || !e.has_sender) scan.AddError(QueueError::kParse);
    if (!e.has_sender) continue;
    scan.messages.push_back(std::make_shared<const QueueMessage>(ToQueueMessage(e, now)));
  }
  return scan;
}

}  // namespace mailrelay
