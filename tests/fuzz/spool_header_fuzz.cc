// libFuzzer target: an Exim spool -H file (exim_spool_header.h), and the queue message built
// from it. Input: the -H text; its first line names the id the file should carry.
#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz_util.h"
#include "queue/exim_spool_header.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text = mailrelay::fuzz::AsText(data, size);
  std::string_view first_line = text.substr(0, text.find('\n'));
  std::string_view expected_id =
      first_line.size() > 2 && first_line.substr(first_line.size() - 2) == "-H"
          ? first_line.substr(0, first_line.size() - 2)
          : first_line;
  for (std::string_view id : {expected_id, std::string_view()}) {
    mailrelay::EximSpoolHeader header;
    std::string error;
    if (!mailrelay::ParseEximSpoolHeader(text, id, &header, &error)) continue;
    std::vector<std::string> journal = mailrelay::ParseEximJournal(text);
    (void)mailrelay::CountUndeliveredRecipients(header, journal);
    (void)mailrelay::EximMessageSize(header, static_cast<std::int64_t>(size));
    (void)mailrelay::EximQueueOwner(header);
    (void)mailrelay::ToQueueMessage(header, static_cast<std::int64_t>(size) - 1000, journal);
  }
  return 0;
}
