// FindLiteral (the prefilter search of the rules) against a plain reference search, on random
// texts and needles over a small alphabet (so that near misses are frequent), at every offset
// and length around the 16-byte blocks, with and without case folding.
#include "rules/literal_search.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>

namespace mailrelay {
namespace {

char Lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

bool Reference(std::string_view text, std::string_view needle, bool fold) {
  if (needle.size() > text.size()) return false;
  for (std::size_t i = 0; i + needle.size() <= text.size(); ++i) {
    bool same = true;
    for (std::size_t j = 0; j < needle.size() && same; ++j) {
      same = (fold ? Lower(text[i + j]) : text[i + j]) == needle[j];
    }
    if (same) return true;
  }
  return false;
}

TEST(FindLiteral, AgreesWithAReferenceSearch) {
  // Letters in both cases, and the non-letters that equal them with bit 0x20 set or cleared.
  static constexpr char kAlphabet[] = "aAbB@` \x00{[;=";
  std::uint64_t seed = 7;
  auto next = [&seed](std::uint32_t n) {
    seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
    return static_cast<std::uint32_t>((seed >> 33) % n);
  };
  int found = 0;
  for (int round = 0; round < 20000; ++round) {
    std::string text(next(70), ' ');
    for (char& c : text) c = kAlphabet[next(sizeof kAlphabet - 1)];
    std::string needle(1 + next(6), ' ');
    for (char& c : needle) c = kAlphabet[next(sizeof kAlphabet - 1)];
    // Half the time, a needle that occurs: a piece of the text.
    if (next(2) == 0 && text.size() >= needle.size()) {
      needle = text.substr(next(static_cast<std::uint32_t>(text.size() - needle.size() + 1)),
                           needle.size());
    }
    const bool fold = next(2) == 0;
    if (fold) {
      for (char& c : needle) c = Lower(c);
    }
    const bool want = Reference(text, needle, fold);
    EXPECT_EQ(want, FindLiteral(text, needle, fold))
        << "text [" << text << "] needle [" << needle << "] fold " << fold;
    found += want ? 1 : 0;
  }
  EXPECT_GT(found, 5000);
}

TEST(FindLiteral, EdgesOfTheText) {
  const std::string text = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJ";  // 46 bytes
  for (std::size_t len = 1; len <= 20; ++len) {
    for (std::size_t at = 0; at + len <= text.size(); ++at) {
      EXPECT_TRUE(FindLiteral(text, text.substr(at, len), false)) << at << " " << len;
    }
  }
  EXPECT_TRUE(FindLiteral(text, "ghij", true));   // "GHIJ" at the very end, folded
  EXPECT_FALSE(FindLiteral(text, "GHIJ", true));  // a folding needle is lower-case
  EXPECT_FALSE(FindLiteral(text, "IJK", false));
  EXPECT_FALSE(FindLiteral("abc", "abcd", false));
  EXPECT_TRUE(FindLiteral("abc", "", false));
  EXPECT_FALSE(FindLiteral("", "a", true));
}

}  // namespace
}  // namespace mailrelay
