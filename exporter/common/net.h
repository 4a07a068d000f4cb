// IP addresses and CIDR sets, used to decide which client addresses are "local" (lfd's
// LOCALHOSTRELAY) or listed in relayhosts files (POPRELAY).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mailrelay {

struct IpAddress {
  bool v6 = false;
  // IPv4 uses the first 4 bytes. IPv4-mapped IPv6 (::ffff:a.b.c.d) is stored as IPv4.
  std::array<std::uint8_t, 16> bytes{};

  bool operator==(const IpAddress& other) const = default;
  std::string ToString() const;
};

// Accepts dotted IPv4 and IPv6 text (optionally in [brackets]; an IPv6 zone "%eth0" is ignored).
std::optional<IpAddress> ParseIp(std::string_view text);

class CidrSet {
 public:
  // Adds "a.b.c.d/len", "v6::/len" or a bare address. Returns false (and adds nothing) on bad
  // input.
  bool Add(std::string_view cidr);
  void AddAddress(const IpAddress& ip);
  bool Contains(const IpAddress& ip) const;
  bool empty() const { return entries_.empty(); }
  std::size_t size() const { return entries_.size(); }

 private:
  struct Entry {
    IpAddress net;
    int prefix;
  };
  std::vector<Entry> entries_;
};

// Addresses currently configured on local interfaces (getifaddrs), as lfd reads `ip addr`.
std::vector<IpAddress> LocalInterfaceAddresses();

}  // namespace mailrelay
