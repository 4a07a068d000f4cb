#include "http/web_config.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>

#include <yaml-cpp/yaml.h>

#include "http/basic_auth.h"

namespace mailrelay {

namespace {

// exporter-toolkit keys that this exporter does not implement: refused by name.
const std::set<std::string> kUnsupportedTls = {"cipher_suites",
                                               "curve_preferences",
                                               "prefer_server_cipher_suites",
                                               "client_allowed_sans",
                                               "cert",
                                               "key"};

// The response headers exporter-toolkit allows in http_server_config.headers.
const std::set<std::string> kAllowedHeaders = {"Strict-Transport-Security",
                                               "X-Content-Type-Options", "X-Frame-Options",
                                               "X-XSS-Protection", "Content-Security-Policy"};

std::string Resolve(const std::string& dir, const std::string& file) {
  if (file.empty() || file[0] == '/' || dir.empty()) return file;
  return dir + "/" + file;
}

bool Scalar(const YAML::Node& node, const std::string& where, std::string* out,
            std::string* error) {
  if (!node.IsScalar()) {
    *error = where + ": want a string";
    return false;
  }
  *out = node.Scalar();
  return true;
}

bool ParseTlsVersion(const std::string& v, int* out) {
  static const std::map<std::string, int> versions = {
      {"TLS10", 0x0301}, {"TLS11", 0x0302}, {"TLS12", 0x0303}, {"TLS13", 0x0304}};
  auto it = versions.find(v);
  if (it == versions.end()) return false;
  *out = it->second;
  return true;
}

bool ParseClientAuth(const std::string& v, ClientAuth* out) {
  for (ClientAuth a : {ClientAuth::kNoClientCert, ClientAuth::kRequestClientCert,
                       ClientAuth::kRequireAnyClientCert, ClientAuth::kVerifyClientCertIfGiven,
                       ClientAuth::kRequireAndVerifyClientCert}) {
    if (v == ClientAuthName(a)) {
      *out = a;
      return true;
    }
  }
  return false;
}

bool Readable(const std::string& path, const std::string& what, std::string* error) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    *error = what + " " + path + ": " + std::strerror(errno);
    return false;
  }
  if (!S_ISREG(st.st_mode)) {
    *error = what + " " + path + ": not a regular file";
    return false;
  }
  if (::access(path.c_str(), R_OK) != 0) {
    *error = what + " " + path + ": " + std::strerror(errno);
    return false;
  }
  return true;
}

bool ParseTls(const YAML::Node& node, const std::string& dir, WebConfig* out, std::string* error) {
  if (node.IsNull()) return true;  // `tls_server_config:` with nothing: plain HTTP
  if (!node.IsMap()) {
    *error = "tls_server_config: want a mapping";
    return false;
  }
  TlsServerConfig tls;
  bool client_auth_given = false;
  for (const auto& kv : node) {
    const std::string key = kv.first.Scalar();
    const std::string where = "tls_server_config." + key;
    std::string value;
    if (kUnsupportedTls.count(key) != 0) {
      *error = where + " is not supported by mailrelay_exporter";
      return false;
    }
    if (key == "cert_file" || key == "key_file" || key == "client_ca_file") {
      if (!Scalar(kv.second, where, &value, error)) return false;
      value = Resolve(dir, value);
      if (key == "cert_file") tls.cert_file = value;
      if (key == "key_file") tls.key_file = value;
      if (key == "client_ca_file") tls.client_ca_file = value;
    } else if (key == "client_auth_type") {
      if (!Scalar(kv.second, where, &value, error)) return false;
      if (!ParseClientAuth(value, &tls.client_auth)) {
        *error = where + ": unknown value '" + value +
                 "' (NoClientCert, RequestClientCert, RequireAnyClientCert, "
                 "VerifyClientCertIfGiven, RequireAndVerifyClientCert)";
        return false;
      }
      client_auth_given = true;
    } else if (key == "min_version" || key == "max_version") {
      if (!Scalar(kv.second, where, &value, error)) return false;
      int version = 0;
      if (!ParseTlsVersion(value, &version)) {
        *error = where + ": unknown TLS version '" + value + "' (TLS10, TLS11, TLS12, TLS13)";
        return false;
      }
      (key == "min_version" ? tls.min_version : tls.max_version) = version;
    } else {
      *error = "unknown key " + where;
      return false;
    }
  }
  // exporter-toolkit: no certificate and no key means TLS is off.
  if (tls.cert_file.empty() && tls.key_file.empty()) {
    if (!tls.client_ca_file.empty() || client_auth_given) {
      *error = "tls_server_config: client_auth_type/client_ca_file need cert_file and key_file";
      return false;
    }
    return true;
  }
  if (tls.cert_file.empty()) {
    *error = "tls_server_config: missing cert_file";
    return false;
  }
  if (tls.key_file.empty()) {
    *error = "tls_server_config: missing key_file";
    return false;
  }
  if (!Readable(tls.cert_file, "tls_server_config.cert_file", error) ||
      !Readable(tls.key_file, "tls_server_config.key_file", error)) {
    return false;
  }
  bool verifies = tls.client_auth == ClientAuth::kVerifyClientCertIfGiven ||
                  tls.client_auth == ClientAuth::kRequireAndVerifyClientCert;
  if (!tls.client_ca_file.empty()) {
    if (tls.client_auth == ClientAuth::kNoClientCert) {
      *error = "tls_server_config: client_ca_file is set but client_auth_type is NoClientCert";
      return false;
    }
    if (!Readable(tls.client_ca_file, "tls_server_config.client_ca_file", error)) return false;
  } else if (verifies) {
    *error = std::string("tls_server_config: client_auth_type ") + ClientAuthName(tls.client_auth) +
             " needs client_ca_file";
    return false;
  }
  if (tls.max_version != 0 && tls.max_version < tls.min_version) {
    *error = "tls_server_config: max_version is below min_version";
    return false;
  }
  out->tls = tls;
  return true;
}

bool ParseHttp(const YAML::Node& node, WebConfig* out, std::string* error) {
  if (node.IsNull()) return true;
  if (!node.IsMap()) {
    *error = "http_server_config: want a mapping";
    return false;
  }
  for (const auto& kv : node) {
    const std::string key = kv.first.Scalar();
    if (key == "http2") {
      // Accepted for compatibility; the server speaks HTTP/1.1 only.
      bool v = false;
      if (!kv.second.IsScalar() || !YAML::convert<bool>::decode(kv.second, v)) {
        *error = "http_server_config.http2: want true or false";
        return false;
      }
    } else if (key == "headers") {
      if (kv.second.IsNull()) continue;
      if (!kv.second.IsMap()) {
        *error = "http_server_config.headers: want a mapping";
        return false;
      }
      for (const auto& h : kv.second) {
        std::string name = h.first.Scalar();
        std::string value;
        if (kAllowedHeaders.count(name) == 0) {
          *error = "http_server_config.headers: header " + name +
                   " is not allowed (Strict-Transport-Security, X-Content-Type-Options, "
                   "X-Frame-Options, X-XSS-Protection, Content-Security-Policy)";
          return false;
        }
        if (!Scalar(h.second, "http_server_config.headers." + name, &value, error)) return false;
        if (value.find_first_of("\r\n") != std::string::npos) {
          *error = "http_server_config.headers." + name + ": line break in the value";
          return false;
        }
        out->headers.emplace_back(name, value);
      }
    } else {
      *error = "unknown key http_server_config." + key;
      return false;
    }
  }
  return true;
}

bool ParseUsers(const YAML::Node& node, WebConfig* out, std::string* error) {
  if (node.IsNull()) return true;
  if (!node.IsMap()) {
    *error = "basic_auth_users: want a mapping of user: bcrypt hash";
    return false;
  }
  for (const auto& kv : node) {
    std::string user = kv.first.Scalar();
    std::string hash;
    if (!Scalar(kv.second, "basic_auth_users." + user, &hash, error)) return false;
    if (user.empty() || user.find(':') != std::string::npos) {
      *error = "basic_auth_users: invalid user name '" + user + "' (empty or with ':')";
      return false;
    }
    if (!IsBcryptHash(hash)) {
      *error = "basic_auth_users." + user +
               ": not a bcrypt hash ($2a$, $2b$ or $2y$; make one with htpasswd -nBC 10 " + user +
               ")";
      return false;
    }
    out->users[user] = hash;
  }
  return true;
}

}  // namespace

const char* ClientAuthName(ClientAuth auth) {
  switch (auth) {
    case ClientAuth::kNoClientCert:
      return "NoClientCert";
    case ClientAuth::kRequestClientCert:
      return "RequestClientCert";
    case ClientAuth::kRequireAnyClientCert:
      return "RequireAnyClientCert";
    case ClientAuth::kVerifyClientCertIfGiven:
      return "VerifyClientCertIfGiven";
    case ClientAuth::kRequireAndVerifyClientCert:
      return "RequireAndVerifyClientCert";
  }
  return "?";
}

StatusOr<WebConfig> ParseWebConfig(const std::string& yaml, const std::string& dir) {
  WebConfig config;
  std::string error;
  try {
    YAML::Node root = YAML::Load(yaml);
    if (root.IsNull()) return config;
    if (!root.IsMap()) return InvalidArgument("want a mapping at the top level");
    for (const auto& kv : root) {
      const std::string key = kv.first.Scalar();
      bool ok = true;
      if (key == "tls_server_config") {
        ok = ParseTls(kv.second, dir, &config, &error);
      } else if (key == "http_server_config") {
        ok = ParseHttp(kv.second, &config, &error);
      } else if (key == "basic_auth_users") {
        ok = ParseUsers(kv.second, &config, &error);
      } else {
        error = "unknown key " + key;
        ok = false;
      }
      if (!ok) return InvalidArgument(std::move(error));
    }
  } catch (const YAML::Exception& e) {
    return InvalidArgument(std::string("invalid YAML: ") + e.what());
  }
  return config;
}

StatusOr<WebConfig> LoadWebConfig(const std::string& path) {
  std::ifstream in(path);
  if (!in) return ErrnoStatus(errno, "web config " + path);
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return Unavailable("web config " + path + ": read error");
  auto slash = path.rfind('/');
  std::string dir = slash == std::string::npos ? "." : path.substr(0, slash);
  if (dir.empty()) dir = "/";
  StatusOr<WebConfig> config = ParseWebConfig(text.str(), dir);
  if (!config.ok()) return config.status().WithContext("web config " + path);
  config->path = path;
  return config;
}

}  // namespace mailrelay
