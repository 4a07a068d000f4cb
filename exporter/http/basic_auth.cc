#include "http/basic_auth.h"

#include <crypt.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <array>
#include <memory>
#include <utility>

#include "common/text.h"

namespace mailrelay {

namespace {

bool IsBcryptBase64(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '/';
}

int BcryptCost(std::string_view hash) { return (hash[4] - '0') * 10 + (hash[5] - '0'); }

std::string CacheKey(const std::string& user, const std::string& hash,
                     const std::string& password) {
  std::string material = user;
  material.push_back('\0');
  material += hash;
  material.push_back('\0');
  material += password;
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int len = 0;
  if (EVP_Digest(material.data(), material.size(), digest.data(), &len, EVP_sha256(), nullptr) !=
      1) {
    len = 0;
  }
  OPENSSL_cleanse(material.data(), material.size());
  return std::string(reinterpret_cast<const char*>(digest.data()), len);
}

// A hash of the given cost for a password nobody knows, so that unknown users cost a bcrypt
// like known ones.
std::string MakeDummyHash(int cost) {
  char salt[CRYPT_GENSALT_OUTPUT_SIZE];
  if (crypt_gensalt_rn("$2b$", static_cast<unsigned long>(cost), nullptr, 0, salt, sizeof salt) ==
      nullptr) {
    return "";
  }
  auto data = std::make_unique<crypt_data>();
  const char* out = crypt_rn("mailrelay-exporter unknown user", salt, data.get(), sizeof *data);
  return out != nullptr && out[0] != '*' ? std::string(out) : std::string();
}

}  // namespace

bool IsBcryptHash(std::string_view hash) {
  if (hash.size() != 60 || hash[0] != '$' || hash[1] != '2' || hash[3] != '$' || hash[6] != '$') {
    return false;
  }
  if (hash[2] != 'a' && hash[2] != 'b' && hash[2] != 'y') return false;
  if (hash[4] < '0' || hash[4] > '9' || hash[5] < '0' || hash[5] > '9') return false;
  int cost = BcryptCost(hash);
  if (cost < 4 || cost > 31) return false;
  for (char c : hash.substr(7)) {
    if (!IsBcryptBase64(c)) return false;
  }
  return true;
}

bool BcryptVerify(std::string_view password, const std::string& hash) {
  if (!IsBcryptHash(hash) || password.find('\0') != std::string_view::npos) return false;
  std::string pw(password);
  auto data = std::make_unique<crypt_data>();  // ~32 KiB: not on a worker thread's stack
  const char* out = crypt_rn(pw.c_str(), hash.c_str(), data.get(), sizeof *data);
  OPENSSL_cleanse(pw.data(), pw.size());
  bool ok = out != nullptr && out[0] != '*' && std::char_traits<char>::length(out) == hash.size() &&
            CRYPTO_memcmp(out, hash.data(), hash.size()) == 0;
  OPENSSL_cleanse(data.get(), sizeof *data);
  return ok;
}

bool Base64Decode(std::string_view in, std::string* out) {
  auto value = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
  };
  if (in.size() % 4 != 0) return false;
  out->clear();
  for (std::size_t i = 0; i < in.size(); i += 4) {
    int v[4];
    int pad = 0;
    for (int j = 0; j < 4; ++j) {
      char c = in[i + static_cast<std::size_t>(j)];
      if (c == '=' && i + 4 == in.size() && j >= 2) {
        v[j] = 0;
        ++pad;
        continue;
      }
      if (pad > 0) return false;  // data after '='
      v[j] = value(c);
      if (v[j] < 0) return false;
    }
    unsigned n = (static_cast<unsigned>(v[0]) << 18) | (static_cast<unsigned>(v[1]) << 12) |
                 (static_cast<unsigned>(v[2]) << 6) | static_cast<unsigned>(v[3]);
    out->push_back(static_cast<char>((n >> 16) & 0xff));
    if (pad < 2) out->push_back(static_cast<char>((n >> 8) & 0xff));
    if (pad < 1) out->push_back(static_cast<char>(n & 0xff));
  }
  return true;
}

bool ParseBasicAuthorization(std::string_view header, std::string* user, std::string* password) {
  while (!header.empty() && header.front() == ' ') header.remove_prefix(1);
  if (header.size() < 6 || !EqualsIgnoreCase(header.substr(0, 6), "basic ")) return false;
  header.remove_prefix(6);
  while (!header.empty() && header.front() == ' ') header.remove_prefix(1);
  while (!header.empty() && header.back() == ' ') header.remove_suffix(1);
  std::string decoded;
  if (header.empty() || !Base64Decode(header, &decoded)) return false;
  auto colon = decoded.find(':');
  if (colon == std::string::npos) return false;
  *user = decoded.substr(0, colon);
  *password = decoded.substr(colon + 1);
  OPENSSL_cleanse(decoded.data(), decoded.size());
  return true;
}

BasicAuth::BasicAuth(std::map<std::string, std::string> users) : users_(std::move(users)) {
  if (!users_.empty()) dummy_hash_ = MakeDummyHash(BcryptCost(users_.begin()->second));
}

std::size_t BasicAuth::bcrypt_runs() const {
  std::lock_guard<std::mutex> lock(cache_mutex_);
  return bcrypt_runs_;
}

bool BasicAuth::Check(std::string_view authorization) const {
  if (users_.empty()) return true;
  std::string user;
  std::string password;
  if (!ParseBasicAuthorization(authorization, &user, &password)) return false;
  auto it = users_.find(user);
  bool known = it != users_.end();
  const std::string& hash = known ? it->second : dummy_hash_;
  std::string key = CacheKey(user, hash, password);
  auto now = Clock::now();
  if (known && !key.empty()) {
    std::lock_guard<std::mutex> lock(cache_mutex_);
    auto hit = cache_.find(key);
    if (hit != cache_.end() && hit->second > now) {
      OPENSSL_cleanse(password.data(), password.size());
      return true;
    }
  }
  bool ok = false;
  {
    std::lock_guard<std::mutex> lock(bcrypt_mutex_);
    ok = BcryptVerify(password, hash) && known;
  }
  OPENSSL_cleanse(password.data(), password.size());
  std::lock_guard<std::mutex> lock(cache_mutex_);
  ++bcrypt_runs_;
  if (ok && !key.empty()) {
    if (cache_.size() >= kCacheMaxEntries) {
      for (auto e = cache_.begin(); e != cache_.end();) {
        e = e->second <= now ? cache_.erase(e) : std::next(e);
      }
      if (cache_.size() >= kCacheMaxEntries) cache_.clear();
    }
    cache_[key] = now + kCacheTtl;
  }
  return ok;
}

}  // namespace mailrelay
