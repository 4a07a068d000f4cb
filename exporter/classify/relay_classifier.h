// RelayClassifier: lfd's five relay classes for an arrival Event, plus the spoofing rule.
// Pure logic over a RelayPolicy; the only I/O is re-reading the relayhosts files when they
// change (at most once a second, driven by the caller's clock).
//
// Rules (docs/metrics.md "Classification" has the same text for users):
//   1. null sender (`<>`)                                  -> ignored, reason "bounce"
//   2. local submission (no client IP; Exim P=local*, Postfix pickup):
//        submitter in --relay.ignore-users                 -> ignored, reason "ignored_user"
//        otherwise                                          -> localrelay (key: the local user)
//   3. client IP present:
//        authenticated (A= or P=...a)                      -> authrelay
//        else IP listed in a relayhosts file               -> poprelay
//        else                                               -> relay
//        then, for any of the three, IP in --relay.local-networks -> localhostrelay (lfd parity:
//        authenticated webmail from 127.0.0.1 is localhostrelay)
//   4. neither a client IP nor a local submitter            -> ignored, reason "unknown_source"
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "common/net.h"
#include "events/event.h"

namespace mailrelay {

enum class RelayClass : std::uint8_t {
  kRelay,
  kAuthRelay,
  kPopRelay,
  kLocalRelay,
  kLocalhostRelay,
};
inline constexpr int kRelayClassCount = 5;
std::string_view RelayClassName(RelayClass c);

enum class IgnoreReason : std::uint8_t { kBounce, kIgnoredUser, kUnknownSource };
inline constexpr int kIgnoreReasonCount = 3;
std::string_view IgnoreReasonName(IgnoreReason r);

struct Classification {
  bool ignored = false;
  IgnoreReason ignore_reason = IgnoreReason::kBounce;
  RelayClass relay_class = RelayClass::kRelay;
  bool spoofed = false;
  // The identity compared with the sender for spoofing: auth id, else local user (may be empty).
  std::string_view identity;
};

struct RelayPolicy {
  CidrSet local_networks;
  std::vector<std::string> relayhosts_files;
  std::unordered_set<std::string> ignore_users;
};

class RelayClassifier {
 public:
  explicit RelayClassifier(RelayPolicy policy);

  Classification Classify(const Event& arrival);

  // Re-reads relayhosts files whose mtime or size changed. `now` is Unix seconds; calls within
  // one second of the previous check do nothing. Returns true when the set changed.
  bool MaybeReloadRelayhosts(std::int64_t now);
  // Re-reads every relayhosts file now (SIGHUP), changed or not.
  void ReloadRelayhosts(std::int64_t now);
  std::size_t relayhosts_size() const { return relayhosts_.size(); }

 private:
  struct FileStamp {
    bool exists = false;
    std::int64_t mtime_ns = 0;
    off_t size = 0;
  };
  bool IsRelayhost(const IpAddress& ip) const;

  // Heterogeneous lookup: find(std::string_view) without building a std::string.
  struct StringHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>()(s); }
  };

  RelayPolicy policy_;
  std::unordered_set<std::string, StringHash, std::equal_to<>> ignore_users_;
  std::vector<FileStamp> stamps_;
  std::vector<IpAddress> relayhosts_;  // sorted (RelayhostLess), no duplicates
  std::int64_t last_check_ = -1;
};

// The spoofing rule. `identity` is the authenticated id or the local user; `sender` the envelope
// sender. With a domain in the identity (user@dom), the sender is spoofed when its domain differs
// (case-insensitive). Without one, it is spoofed when the sender's local part differs. An empty
// identity or sender is never spoofed.
bool IsSpoofedSender(std::string_view identity, std::string_view sender);

}  // namespace mailrelay
