#include "classify/relay_classifier.h"

#include <sys/stat.h>

#include <algorithm>
#include <fstream>
#include <utility>

#include "common/logging.h"
#include "common/text.h"

namespace mailrelay {

std::string_view RelayClassName(RelayClass c) {
  switch (c) {
    case RelayClass::kRelay:
      return "relay";
    case RelayClass::kAuthRelay:
      return "authrelay";
    case RelayClass::kPopRelay:
      return "poprelay";
    case RelayClass::kLocalRelay:
      return "localrelay";
    case RelayClass::kLocalhostRelay:
      return "localhostrelay";
  }
  return "relay";
}

std::string_view IgnoreReasonName(IgnoreReason r) {
  switch (r) {
    case IgnoreReason::kBounce:
      return "bounce";
    case IgnoreReason::kIgnoredUser:
      return "ignored_user";
    case IgnoreReason::kUnknownSource:
      return "unknown_source";
  }
  return "bounce";
}

bool IsSpoofedSender(std::string_view identity, std::string_view sender) {
  if (identity.empty() || sender.empty()) return false;
  auto sender_at = sender.rfind('@');
  auto id_at = identity.rfind('@');
  if (id_at != std::string_view::npos) {
    if (sender_at == std::string_view::npos) return false;  // unqualified local sender
    return !EqualsIgnoreCase(identity.substr(id_at + 1), sender.substr(sender_at + 1));
  }
  std::string_view local = sender.substr(0, sender_at);
  return !EqualsIgnoreCase(identity, local);
}

namespace {
bool RelayhostLess(const IpAddress& a, const IpAddress& b) {
  return a.v6 != b.v6 ? !a.v6 : a.bytes < b.bytes;
}
}  // namespace

RelayClassifier::RelayClassifier(RelayPolicy policy) : policy_(std::move(policy)) {
  ignore_users_.insert(policy_.ignore_users.begin(), policy_.ignore_users.end());
  stamps_.resize(policy_.relayhosts_files.size());
  MaybeReloadRelayhosts(0);
}

bool RelayClassifier::MaybeReloadRelayhosts(std::int64_t now) {
  if (last_check_ >= 0 && now >= last_check_ && now - last_check_ < 1) return false;
  last_check_ = now;
  bool changed = false;
  for (std::size_t i = 0; i < policy_.relayhosts_files.size(); ++i) {
    struct stat st {};
    FileStamp s;
    if (::stat(policy_.relayhosts_files[i].c_str(), &st) == 0) {
      s.exists = true;
      s.mtime_ns = static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
      s.size = st.st_size;
    }
    if (s.exists != stamps_[i].exists || s.mtime_ns != stamps_[i].mtime_ns ||
        s.size != stamps_[i].size) {
      changed = true;
    }
    stamps_[i] = s;
  }
  if (!changed) return false;
  relayhosts_.clear();
  for (const auto& file : policy_.relayhosts_files) {
    std::ifstream in(file);
    std::string line;
    while (std::getline(in, line)) {
      auto hash = line.find('#');
      if (hash != std::string::npos) line.resize(hash);
      for (const auto& word : SplitList(line, ' ')) {
        if (auto ip = ParseIp(word)) relayhosts_.push_back(*ip);
      }
    }
  }
  std::sort(relayhosts_.begin(), relayhosts_.end(), RelayhostLess);
  relayhosts_.erase(std::unique(relayhosts_.begin(), relayhosts_.end()), relayhosts_.end());
  Log(LogLevel::kDebug, "relayhosts loaded", {{"entries", std::to_string(relayhosts_.size())}});
  return true;
}

void RelayClassifier::ReloadRelayhosts(std::int64_t now) {
  // Forget the stamps: every existing file then counts as changed.
  stamps_.assign(stamps_.size(), FileStamp{});
  last_check_ = -1;
  MaybeReloadRelayhosts(now);
  Log(LogLevel::kInfo, "relayhosts re-read", {{"entries", std::to_string(relayhosts_.size())}});
}

bool RelayClassifier::IsRelayhost(const IpAddress& ip) const {
  return std::binary_search(relayhosts_.begin(), relayhosts_.end(), ip, RelayhostLess);
}

Classification RelayClassifier::Classify(const Event& ev) {
  Classification c;
  if (ev.null_sender) {
    c.ignored = true;
    c.ignore_reason = IgnoreReason::kBounce;
    return c;
  }
  if (ev.client_ip.empty()) {
    if (ev.local_user.empty()) {
      c.ignored = true;
      c.ignore_reason = IgnoreReason::kUnknownSource;
      return c;
    }
    if (ignore_users_.find(ev.local_user) != ignore_users_.end()) {
      c.ignored = true;
      c.ignore_reason = IgnoreReason::kIgnoredUser;
      return c;
    }
    c.relay_class = RelayClass::kLocalRelay;
    c.identity = ev.local_user;
  } else {
    auto ip = ParseIp(ev.client_ip);  // once: both lookups below use the parsed address
    if (ev.authenticated) {
      c.relay_class = RelayClass::kAuthRelay;
    } else if (ip && IsRelayhost(*ip)) {
      c.relay_class = RelayClass::kPopRelay;
    } else {
      c.relay_class = RelayClass::kRelay;
    }
    if (ip && policy_.local_networks.Contains(*ip)) c.relay_class = RelayClass::kLocalhostRelay;
    c.identity = ev.auth_id;
  }
  c.spoofed = IsSpoofedSender(c.identity, ev.sender);
  return c;
}

}  // namespace mailrelay
