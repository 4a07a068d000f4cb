// LiteralSearcher: does a fixed literal occur in a text? The prefilter test of every rule on
// every line (rules/rule_set.h), so it is built for short literals in lines of a few hundred
// bytes. At construction it picks the two bytes of the literal least common in mail logs
// (spaces and lower-case letters are everywhere; `=`, `_`, brackets, capitals much less); a
// search then tests 16 positions at a time (SSE2) for both bytes at their offsets and compares
// only the few candidates in full. Nothing is set up per search (glibc's memmem builds a shift
// table on every call) and nothing is allocated.
//
// `fold`: ASCII case-insensitive, for a literal given in lower case (RE2's required literals
// are); the text is neither copied nor lower-cased.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace mailrelay {

class LiteralSearcher {
 public:
  LiteralSearcher() = default;  // the empty literal: found in every text
  LiteralSearcher(std::string literal, bool fold);

  bool Find(std::string_view text) const;
  const std::string& literal() const { return literal_; }
  bool empty() const { return literal_.empty(); }

 private:
  std::string literal_;
  bool fold_ = false;
  std::uint32_t first_ = 0;   // offset of the rarest byte
  std::uint32_t second_ = 0;  // offset of the next rarest (== first_ for a 1-byte literal)
};

// One search without keeping the searcher (tests, one-off uses).
bool FindLiteral(std::string_view text, std::string_view literal, bool fold);

}  // namespace mailrelay
