#include "queue/command_queue_sources.h"

#include <ctime>
#include <memory>

#include "common/logging.h"
#include "mta/exim/bp_parser.h"
#include "mta/postfix/postqueue_json_parser.h"

namespace mailrelay {

namespace {

// Runs the command; false (with the error counted) when its output cannot be used.
bool RunForScan(const std::vector<std::string>& argv, const CommandOptions& options,
                QueueScan* scan, std::string* output) {
  CommandResult r = RunCommand(argv, options);
  if (r.status == CommandResult::Status::kOk) {
    *output = std::move(r.output);
    return true;
  }
  scan->AddError(r.status == CommandResult::Status::kTimeout ? QueueError::kTimeout
                                                             : QueueError::kCommand);
  Log(LogLevel::kWarn, "queue command failed",
      {{"command", argv.empty() ? std::string() : argv[0]}, {"error", r.error}});
  return false;
}

}  // namespace

std::int64_t SystemUnixNow() { return static_cast<std::int64_t>(std::time(nullptr)); }

EximBpSource::EximBpSource(std::vector<std::string> argv, CommandOptions options, WallClock now)
    : argv_(std::move(argv)), options_(options), now_(now ? std::move(now) : SystemUnixNow) {}

QueueScan EximBpSource::Scan() {
  QueueScan scan;
  std::string output;
  if (!RunForScan(argv_, options_, &scan, &output)) return scan;
  std::int64_t now = now_();
  EximBpListing listing = ParseEximBp(output);
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

PostqueueSource::PostqueueSource(std::vector<std::string> argv, CommandOptions options)
    : argv_(std::move(argv)), options_(options) {}

std::vector<std::string> PostqueueSource::QueueNames() const { return PostfixQueueNames(); }

QueueScan PostqueueSource::Scan() {
  QueueScan scan;
  std::string output;
  if (!RunForScan(argv_, options_, &scan, &output)) return scan;
  PostqueueListing listing = ParsePostqueueJson(output);
  scan.ok = true;
  if (listing.bad_lines > 0) scan.AddError(QueueError::kParse, listing.bad_lines);
  for (const auto& e : listing.entries) {
    scan.messages.push_back(std::make_shared<const QueueMessage>(ToQueueMessage(e)));
  }
  return scan;
}

}  // namespace mailrelay
