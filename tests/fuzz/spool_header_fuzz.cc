// libFuzzer target: an Exim spool -H file (exim_spool_header.h), and the queue message built
// from it. Input: the -H text; its first line names the id the file should carry.
// Differential: the spool reader's parser (ParseEximSpoolSummary, no copies) must reach the same
// verdict, error and queue message as ParseEximSpoolHeader + ToQueueMessage; a difference aborts.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "fuzz_util.h"
#include "mta/exim/spool_header.h"

namespace {

void Require(bool ok) {
  if (!ok) std::abort();
}

void CompareWithSummary(std::string_view text, std::string_view id,
                        const mailrelay::Status& header_status,
                        const mailrelay::EximSpoolHeader& header) {
  mailrelay::EximSpoolSummary summary;
  mailrelay::Status summary_status = mailrelay::ParseEximSpoolSummary(text, id, &summary);
  Require(summary_status.ok() == header_status.ok());
  Require(summary_status.message() == header_status.message());
  if (!header_status.ok()) return;
  Require(summary.header_problem == header.header_problem);
  Require(summary.headers_valid == header.headers_valid);
  Require(summary.header_bytes == header.header_bytes);
  Require(summary.undelivered == mailrelay::CountUndeliveredRecipients(header, {}));
  Require(summary.owner == mailrelay::EximQueueOwner(header));
  for (std::int64_t data_size : {std::int64_t{-1}, std::int64_t{0}, std::int64_t{4096}}) {
    mailrelay::QueueMessage a = mailrelay::ToQueueMessage(header, data_size, {});
    mailrelay::QueueMessage b = mailrelay::ToQueueMessage(summary, data_size);
    Require(a.id == b.id && a.queue == b.queue && a.sender_label == b.sender_label &&
            a.owner_label == b.owner_label && a.bounce == b.bounce && a.frozen == b.frozen &&
            a.has_received_time == b.has_received_time && a.received_time == b.received_time &&
            a.size_bytes == b.size_bytes && a.recipients == b.recipients);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text = mailrelay::fuzz::AsText(data, size);
  std::string_view first_line = text.substr(0, text.find('\n'));
  std::string_view expected_id =
      first_line.size() > 2 && first_line.substr(first_line.size() - 2) == "-H"
          ? first_line.substr(0, first_line.size() - 2)
          : first_line;
  for (std::string_view id : {expected_id, std::string_view()}) {
    mailrelay::EximSpoolHeader header;
    mailrelay::Status status = mailrelay::ParseEximSpoolHeader(text, id, &header);
    CompareWithSummary(text, id, status, header);
    if (!status.ok()) continue;
    std::vector<std::string> journal = mailrelay::ParseEximJournal(text);
    (void)mailrelay::CountUndeliveredRecipients(header, journal);
    (void)mailrelay::EximMessageSize(header, static_cast<std::int64_t>(size));
    (void)mailrelay::EximQueueOwner(header);
    (void)mailrelay::ToQueueMessage(header, static_cast<std::int64_t>(size) - 1000, journal);
  }
  return 0;
}
