// libFuzzer target: `exim -bp` output (exim_bp_parser.h) and the queue messages built from it.
#include <cstddef>
#include <cstdint>

#include "fuzz_util.h"
#include "mta/exim/bp_parser.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text = mailrelay::fuzz::AsText(data, size);
  mailrelay::EximBpListing listing = mailrelay::ParseEximBp(text);
  for (const auto& e : listing.entries) (void)mailrelay::ToQueueMessage(e, 1700000000);
  // The token parsers on their own, over every word.
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find_first_of(" \t\n", start);
    if (end == std::string_view::npos) end = text.size();
    std::int64_t age = 0;
    std::uint64_t bytes = 0;
    (void)mailrelay::ParseEximBpAge(text.substr(start, end - start), &age);
    (void)mailrelay::ParseEximBpSize(text.substr(start, end - start), &bytes);
    start = end + 1;
  }
  return 0;
}
