#include "mta/postfix/postqueue_source.h"

#include <memory>

#include "mta/postfix/postqueue_json_parser.h"
#include "queue/command_scan.h"

namespace mailrelay {

PostqueueSource::PostqueueSource(std::vector<std::string> argv, CommandOptions options)
    : argv_(std::move(argv)), options_(options) {}

std::vector<std::string> PostqueueSource::QueueNames() const { return PostfixQueueNames(); }

QueueScan PostqueueSource::Scan() {
  QueueScan scan;
  std::optional<std::string> output = RunQueueCommand(argv_, options_, &scan);
  if (!output) return scan;
  PostqueueListing listing = ParsePostqueueJson(*output);
  scan.ok = true;
  if (listing.bad_lines > 0) scan.AddError(QueueError::kParse, listing.bad_lines);
  for (const auto& e : listing.entries) {
    scan.messages.push_back(std::make_shared<const QueueMessage>(ToQueueMessage(e)));
  }
  return scan;
}

}  // namespace mailrelay
