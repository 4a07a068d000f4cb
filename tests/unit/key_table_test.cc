// KeyTable (the index of BoundedCounters) against std::unordered_map under random inserts and
// erases: backward-shift deletion must keep every remaining key findable, and indices of live
// entries stable, whatever the collisions and the growth.
#include "metrics/key_table.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <unordered_map>

namespace mailrelay {
namespace {

TEST(KeyTable, MatchesAReferenceMapUnderChurn) {
  KeyTable<std::uint64_t> table;
  std::unordered_map<std::string, std::uint32_t> reference;  // key -> index
  std::uint64_t x = 0x2545F4914F6CDD1DULL;
  auto next = [&]() {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return x;
  };
  for (int step = 0; step < 200000; ++step) {
    // Few distinct keys, some long (out of line), so that inserts, hits and erases all happen.
    std::uint64_t k = next() % 3000;
    std::string key = "user" + std::to_string(k) + (k % 7 == 0 ? std::string(60, 'x') : "");
    // A poor hash for some keys: long probe runs across the wrap-around of the slot array.
    std::uint64_t hash = k % 5 == 0 ? (k % 3) * 0x9E3779B97F4A7C15ULL : KeyTable<int>::Hash(key);
    auto it = reference.find(key);
    std::uint32_t found = table.Find(key, hash);
    if (it == reference.end()) {
      ASSERT_EQ(KeyTable<std::uint64_t>::kNone, found) << key;
      std::uint32_t index = table.Insert(key, hash);
      table.value(index) = k;
      reference.emplace(key, index);
    } else {
      ASSERT_EQ(it->second, found) << key;
      ASSERT_EQ(k, table.value(found));
    }
    if (step % 1000 == 999) {  // erase about a third
      std::uint64_t mod = next() % 3;
      std::size_t erased = table.EraseIf([&](std::uint64_t v) { return v % 3 == mod; });
      std::size_t before = reference.size();
      for (auto r = reference.begin(); r != reference.end();) {
        std::uint64_t v = table.value(r->second);
        if (v % 3 == mod) {
          r = reference.erase(r);
        } else {
          ++r;
        }
      }
      ASSERT_EQ(before - reference.size(), erased);
      ASSERT_EQ(reference.size(), table.size());
    }
  }
  for (const auto& [key, index] : reference) {
    std::uint64_t k = std::stoull(key.substr(4));
    std::uint64_t hash = k % 5 == 0 ? (k % 3) * 0x9E3779B97F4A7C15ULL : KeyTable<int>::Hash(key);
    ASSERT_EQ(index, table.Find(key, hash)) << key;
  }
}

}  // namespace
}  // namespace mailrelay
