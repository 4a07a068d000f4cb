// KeyTable: the index of BoundedCounters, a hash map from a byte-string key to a small value,
// built for the per-line lookup of a few thousand hot keys:
//   - open addressing with linear probing over 8-byte slots (32-bit hash tag + entry index), so
//     a probe touches one cache line and never the entries, unless the tags match;
//   - entries in one vector (indices are stable: erased ones go to a free list), each with its
//     full hash and its key (inline up to kInlineKey bytes, the usual user/IP key);
//   - lookups by std::string_view: building the key allocates nothing.
// Erase uses backward-shift deletion (no tombstones), so a table that lives for months under
// churn (expiry of idle keys) keeps short probe sequences. Not thread-safe.
#pragma once

#include <cstdint>
#include <cstring>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace mailrelay {

template <typename V>
class KeyTable {
 public:
  static std::uint64_t Hash(std::string_view key) { return std::hash<std::string_view>()(key); }

  static constexpr std::uint32_t kNone = 0xffffffff;

  // The index of `key` (whose Hash() is `hash`), or kNone. An index stays valid until the entry
  // is erased.
  std::uint32_t Find(std::string_view key, std::uint64_t hash) const {
    if (size_ == 0) return kNone;
    const auto tag = static_cast<std::uint32_t>(hash >> 32);
    for (std::size_t i = hash & mask_;; i = (i + 1) & mask_) {
      const Slot s = slots_[i];
      if (s.index1 == 0) return kNone;
      if (s.tag == tag) {
        const Entry& e = entries_[s.index1 - 1];
        if (e.hash == hash && e.Key() == key) return s.index1 - 1;
      }
    }
  }

  V& value(std::uint32_t index) { return entries_[index].value; }

  // Adds `key`, which must not be present; returns its index (the value is default-constructed).
  std::uint32_t Insert(std::string_view key, std::uint64_t hash) {
    if ((size_ + 1) * 2 > slots_.size()) Grow();
    std::uint32_t index;
    if (!free_.empty()) {
      index = free_.back();
      free_.pop_back();
    } else {
      index = static_cast<std::uint32_t>(entries_.size());
      entries_.emplace_back();
    }
    Entry& e = entries_[index];
    e.SetKey(key);
    e.hash = hash;
    e.live = true;
    e.value = V{};
    Place(hash, index);
    ++size_;
    return index;
  }

  // Calls fn(value) for every entry; entries for which it returns true are erased.
  template <typename Fn>
  std::size_t EraseIf(Fn fn) {
    std::size_t erased = 0;
    for (std::uint32_t index = 0; index < entries_.size(); ++index) {
      Entry& e = entries_[index];
      if (!e.live || !fn(e.value)) continue;
      EraseSlotOf(index);
      e.live = false;
      e.long_key = std::string();
      free_.push_back(index);
      --size_;
      ++erased;
    }
    return erased;
  }

  std::size_t size() const { return size_; }

 private:
  static constexpr std::size_t kInlineKey = 46;

  struct Slot {
    std::uint32_t tag = 0;
    std::uint32_t index1 = 0;  // entry index + 1; 0 = empty
  };
  struct Entry {
    std::uint64_t hash = 0;
    V value{};
    bool live = false;
    std::uint8_t inline_len = 0;  // kInlineKey + 1: the key is in long_key
    char inline_key[kInlineKey] = {};
    std::string long_key;

    std::string_view Key() const {
      return inline_len <= kInlineKey ? std::string_view(inline_key, inline_len)
                                      : std::string_view(long_key);
    }
    void SetKey(std::string_view key) {
      if (key.size() <= kInlineKey) {
        std::memcpy(inline_key, key.data(), key.size());
        inline_len = static_cast<std::uint8_t>(key.size());
        long_key = std::string();
      } else {
        inline_len = kInlineKey + 1;
        long_key.assign(key);
      }
    }
  };

  void Place(std::uint64_t hash, std::uint32_t index) {
    std::size_t i = hash & mask_;
    while (slots_[i].index1 != 0) i = (i + 1) & mask_;
    slots_[i] = Slot{static_cast<std::uint32_t>(hash >> 32), index + 1};
  }

  void Grow() {
    std::size_t capacity = slots_.empty() ? 16 : slots_.size() * 2;
    slots_.assign(capacity, Slot{});
    mask_ = capacity - 1;
    for (std::uint32_t index = 0; index < entries_.size(); ++index) {
      if (entries_[index].live) Place(entries_[index].hash, index);
    }
  }

  // Removes the slot of entry `index`, shifting later members of its probe run back.
  void EraseSlotOf(std::uint32_t index) {
    std::size_t i = entries_[index].hash & mask_;
    while (slots_[i].index1 != index + 1) i = (i + 1) & mask_;
    std::size_t hole = i;
    for (std::size_t j = (hole + 1) & mask_; slots_[j].index1 != 0; j = (j + 1) & mask_) {
      std::size_t home = entries_[slots_[j].index1 - 1].hash & mask_;
      // Move j into the hole unless its home lies cyclically in (hole, j].
      bool stays = hole <= j ? (home > hole && home <= j) : (home > hole || home <= j);
      if (!stays) {
        slots_[hole] = slots_[j];
        hole = j;
      }
    }
    slots_[hole] = Slot{};
  }

  std::vector<Slot> slots_;
  std::size_t mask_ = 0;
  std::vector<Entry> entries_;
  std::vector<std::uint32_t> free_;
  std::size_t size_ = 0;
};

}  // namespace mailrelay
