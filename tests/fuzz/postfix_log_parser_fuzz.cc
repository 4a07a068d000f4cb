// libFuzzer target: Postfix syslog lines through PostfixLogParser (postfix_log_parser.h).
#include <cstddef>
#include <cstdint>

#include "fuzz_util.h"
#include "mta/postfix/log_parser.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static mailrelay::PostfixLogParser* parser = [] {
    auto* p = new mailrelay::PostfixLogParser();
    p->SetReferenceTime(1700000000);
    return p;
  }();
  mailrelay::fuzz::ForEachLine(mailrelay::fuzz::AsText(data, size), [](std::string_view line) {
    mailrelay::PostfixRecord record;
    (void)parser->Parse(line, &record);
  });
  return 0;
}
