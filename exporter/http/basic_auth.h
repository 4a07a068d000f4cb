// HTTP basic authentication against bcrypt hashes (basic_auth_users of --web.config.file).
//
// Verification uses libxcrypt's crypt_rn() ($2a$, $2b$, $2y$) and compares in constant time. A
// bcrypt costs tens of milliseconds on purpose, so, as exporter-toolkit does, successful checks
// are remembered for a short while: the cache key is a SHA-256 of (user, stored hash, password),
// never the password itself, and a changed hash (config reload) misses the cache. Failed checks
// are not cached, and bcrypt runs one at a time, so a flood of wrong passwords costs at most
// one CPU core. An unknown user is checked against a dummy hash of the same cost, so response
// times do not tell which users exist.
#pragma once

#include <chrono>
#include <cstddef>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace mailrelay {

// "$2a$"/"$2b$"/"$2y$", a cost 04..31, "$", 53 characters of bcrypt's base64.
bool IsBcryptHash(std::string_view hash);
// True when `password` matches the bcrypt `hash` (false for a malformed hash or a password with
// a NUL byte).
bool BcryptVerify(std::string_view password, const std::string& hash);

// Splits an Authorization header value "Basic base64(user:password)". False when it is not a
// well-formed Basic credential.
bool ParseBasicAuthorization(std::string_view header, std::string* user, std::string* password);
// Standard base64 with padding (RFC 4648 section 4); false on any other character.
bool Base64Decode(std::string_view in, std::string* out);

class BasicAuth {
 public:
  using Clock = std::chrono::steady_clock;
  static constexpr std::chrono::seconds kCacheTtl{60};
  static constexpr std::size_t kCacheMaxEntries = 256;

  explicit BasicAuth(std::map<std::string, std::string> users);
  BasicAuth(const BasicAuth&) = delete;
  BasicAuth& operator=(const BasicAuth&) = delete;

  bool enabled() const { return !users_.empty(); }
  // True when `authorization` (the Authorization header, may be empty) names a configured user
  // with the right password.
  bool Check(std::string_view authorization) const;
  // Checks done with a bcrypt computation (cache misses), for tests.
  std::size_t bcrypt_runs() const;

 private:
  std::map<std::string, std::string> users_;
  std::string dummy_hash_;
  mutable std::mutex bcrypt_mutex_;  // one bcrypt at a time
  mutable std::mutex cache_mutex_;
  mutable std::unordered_map<std::string, Clock::time_point> cache_;  // key -> expiry
  mutable std::size_t bcrypt_runs_ = 0;
};

}  // namespace mailrelay
