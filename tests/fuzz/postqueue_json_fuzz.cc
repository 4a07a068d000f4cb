// libFuzzer target: `postqueue -j` output (postqueue_json_parser.h) and the queue messages built
// from it.
#include <cstddef>
#include <cstdint>

#include "fuzz_util.h"
#include "mta/postfix/postqueue_json_parser.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  mailrelay::PostqueueListing listing =
      mailrelay::ParsePostqueueJson(mailrelay::fuzz::AsText(data, size));
  for (const auto& e : listing.entries) {
    (void)mailrelay::ToQueueMessage(e);
    (void)mailrelay::IsPostfixBounceSender(e.sender);
  }
  return 0;
}
