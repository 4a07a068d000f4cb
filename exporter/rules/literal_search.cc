#include "rules/literal_search.h"

#include <cstring>
#include <utility>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace mailrelay {

namespace {

char Lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

// How uncommon a byte is in mail log lines (higher: rarer), a rough static ranking.
int Rarity(char c, bool fold) {
  if (c == ' ') return 0;
  if (c >= 'a' && c <= 'z') return 1;
  if (c >= '0' && c <= '9') return 2;
  if (c == '.' || c == '-' || c == ':' || c == '@' || c == '/' || c == '=') return 3;
  if (c >= 'A' && c <= 'Z') return fold ? 1 : 4;
  return 5;  // brackets, quotes, '_', '<', '>', '(', ')', non-ASCII...
}

bool EqualAt(const char* p, std::string_view literal, bool fold) {
  if (!fold) return std::memcmp(p, literal.data(), literal.size()) == 0;
  for (std::size_t j = 0; j < literal.size(); ++j) {
    if (Lower(p[j]) != literal[j]) return false;
  }
  return true;
}

}  // namespace

LiteralSearcher::LiteralSearcher(std::string literal, bool fold)
    : literal_(std::move(literal)), fold_(fold) {
  // The rarest byte, then the rarest other one (ties: the one farthest from the first).
  std::size_t best = 0;
  for (std::size_t i = 1; i < literal_.size(); ++i) {
    if (Rarity(literal_[i], fold_) > Rarity(literal_[best], fold_)) best = i;
  }
  std::size_t next = best;
  auto distance = [best](std::size_t i) { return i > best ? i - best : best - i; };
  for (std::size_t i = 0; i < literal_.size(); ++i) {
    if (i == best) continue;
    if (next == best || Rarity(literal_[i], fold_) > Rarity(literal_[next], fold_) ||
        (Rarity(literal_[i], fold_) == Rarity(literal_[next], fold_) &&
         distance(i) > distance(next))) {
      next = i;
    }
  }
  first_ = static_cast<std::uint32_t>(best);
  second_ = static_cast<std::uint32_t>(next);
}

bool LiteralSearcher::Find(std::string_view text) const {
  const std::size_t n = literal_.size();
  if (n == 0) return true;
  if (text.size() < n) return false;
  const char* p = text.data();
  const std::size_t last_start = text.size() - n;  // the last offset a match can start at
  std::size_t i = 0;
#if defined(__SSE2__)
  // With `fold`, bytes are compared with 0x20 set: 'A' and 'a' alike. That also pairs a few
  // non-letters ('@' and '`', ...): only extra candidates, which EqualAt rejects.
  const auto bit = static_cast<char>(fold_ ? 0x20 : 0);
  const __m128i set = _mm_set1_epi8(bit);
  const __m128i want1 = _mm_set1_epi8(static_cast<char>(literal_[first_] | bit));
  const __m128i want2 = _mm_set1_epi8(static_cast<char>(literal_[second_] | bit));
  // Candidate starts i..i+15: bytes at i+first_+15 and i+second_+15 are at most
  // last_start+n-1, the text's last byte.
  auto block = [&](std::size_t at) {
    // NOLINTBEGIN(cppcoreguidelines-pro-type-reinterpret-cast)
    const __m128i a =
        _mm_or_si128(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p + at + first_)), set);
    const __m128i b =
        _mm_or_si128(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p + at + second_)), set);
    // NOLINTEND(cppcoreguidelines-pro-type-reinterpret-cast)
    auto bits = static_cast<std::uint32_t>(
        _mm_movemask_epi8(_mm_and_si128(_mm_cmpeq_epi8(a, want1), _mm_cmpeq_epi8(b, want2))));
    while (bits != 0) {
      if (EqualAt(p + at + static_cast<std::size_t>(__builtin_ctz(bits)), literal_, fold_)) {
        return true;
      }
      bits &= bits - 1;
    }
    return false;
  };
  if (last_start + 1 >= 16) {
    for (; i + 16 <= last_start + 1; i += 16) {
      if (block(i)) return true;
    }
    // The last starts: one more block ending at last_start (overlapping the previous one).
    return i <= last_start && block(last_start - 15);
  }
#endif
  // Short texts (and no SSE2): the two bytes first, then the whole literal.
  auto fold = [this](char c) { return fold_ ? Lower(c) : c; };
  for (; i <= last_start; ++i) {
    if (fold(p[i + first_]) == literal_[first_] && fold(p[i + second_]) == literal_[second_] &&
        EqualAt(p + i, literal_, fold_)) {
      return true;
    }
  }
  return false;
}

bool FindLiteral(std::string_view text, std::string_view literal, bool fold) {
  return LiteralSearcher(std::string(literal), fold).Find(text);
}

}  // namespace mailrelay
