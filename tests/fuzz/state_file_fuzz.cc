// libFuzzer target: the --state.file parser (state_store.h): any text is either rejected or
// parsed into entries that serialise and parse back to the same entries.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "fuzz_util.h"
#include "source/state_store.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  mailrelay::StateEntries entries;
  if (!mailrelay::ParseState(mailrelay::fuzz::AsText(data, size), &entries).ok()) return 0;
  mailrelay::StateEntries again;
  if (!mailrelay::ParseState(mailrelay::SerializeState(entries), &again).ok() || again != entries) {
    std::abort();
  }
  return 0;
}
