#include "common/net.h"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <charconv>
#include <cstring>

namespace mailrelay {

std::string IpAddress::ToString() const {
  char buf[INET6_ADDRSTRLEN] = {};
  if (v6) {
    inet_ntop(AF_INET6, bytes.data(), buf, sizeof buf);
  } else {
    inet_ntop(AF_INET, bytes.data(), buf, sizeof buf);
  }
  return buf;
}

std::optional<IpAddress> ParseIp(std::string_view text) {
  if (text.size() >= 2 && text.front() == '[' && text.back() == ']') {
    text = text.substr(1, text.size() - 2);
  }
  if (auto pct = text.find('%'); pct != std::string_view::npos) text = text.substr(0, pct);
  if (text.empty() || text.size() >= INET6_ADDRSTRLEN) return std::nullopt;
  char buf[INET6_ADDRSTRLEN];
  std::memcpy(buf, text.data(), text.size());
  buf[text.size()] = '\0';
  IpAddress ip;
  if (text.find(':') == std::string_view::npos) {
    if (inet_pton(AF_INET, buf, ip.bytes.data()) != 1) return std::nullopt;
    return ip;
  }
  if (inet_pton(AF_INET6, buf, ip.bytes.data()) != 1) return std::nullopt;
  static constexpr std::uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (std::memcmp(ip.bytes.data(), kMapped, sizeof kMapped) == 0) {
    std::memmove(ip.bytes.data(), ip.bytes.data() + 12, 4);
    std::memset(ip.bytes.data() + 4, 0, 12);
    return ip;
  }
  ip.v6 = true;
  return ip;
}

bool CidrSet::Add(std::string_view cidr) {
  std::string_view addr = cidr;
  int max_prefix = 0;
  int prefix = -1;
  if (auto slash = cidr.find('/'); slash != std::string_view::npos) {
    addr = cidr.substr(0, slash);
    std::string_view len = cidr.substr(slash + 1);
    auto [ptr, ec] = std::from_chars(len.data(), len.data() + len.size(), prefix);
    if (ec != std::errc() || ptr != len.data() + len.size() || prefix < 0) return false;
  }
  auto ip = ParseIp(addr);
  if (!ip) return false;
  max_prefix = ip->v6 ? 128 : 32;
  if (prefix < 0) prefix = max_prefix;
  if (prefix > max_prefix) return false;
  entries_.push_back({*ip, prefix});
  return true;
}

void CidrSet::AddAddress(const IpAddress& ip) { entries_.push_back({ip, ip.v6 ? 128 : 32}); }

bool CidrSet::Contains(const IpAddress& ip) const {
  for (const auto& e : entries_) {
    if (e.net.v6 != ip.v6) continue;
    int full = e.prefix / 8;
    if (std::memcmp(e.net.bytes.data(), ip.bytes.data(), static_cast<std::size_t>(full)) != 0) {
      continue;
    }
    int rest = e.prefix % 8;
    if (rest == 0) return true;
    auto mask = static_cast<std::uint8_t>(0xff << (8 - rest));
    auto idx = static_cast<std::size_t>(full);
    if ((e.net.bytes[idx] & mask) == (ip.bytes[idx] & mask)) return true;
  }
  return false;
}

std::vector<IpAddress> LocalInterfaceAddresses() {
  std::vector<IpAddress> out;
  ifaddrs* list = nullptr;
  if (getifaddrs(&list) != 0) return out;
  for (ifaddrs* it = list; it != nullptr; it = it->ifa_next) {
    if (it->ifa_addr == nullptr) continue;
    IpAddress ip;
    if (it->ifa_addr->sa_family == AF_INET) {
      sockaddr_in sin;
      std::memcpy(&sin, it->ifa_addr, sizeof sin);
      std::memcpy(ip.bytes.data(), &sin.sin_addr, 4);
    } else if (it->ifa_addr->sa_family == AF_INET6) {
      sockaddr_in6 sin6;
      std::memcpy(&sin6, it->ifa_addr, sizeof sin6);
      std::memcpy(ip.bytes.data(), &sin6.sin6_addr, 16);
      ip.v6 = true;
    } else {
      continue;
    }
    out.push_back(ip);
  }
  freeifaddrs(list);
  return out;
}

}  // namespace mailrelay
