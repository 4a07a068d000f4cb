// --web.config.file: TLS and basic authentication for the HTTP endpoints, in the format of the
// Prometheus exporter-toolkit (https://prometheus.io/docs/prometheus/latest/configuration/
// https/), so that one file works for every exporter of a host:
//
//   tls_server_config:
//     cert_file: server.crt          # PEM certificate (chain), relative to this file's directory
//     key_file: server.key           # PEM private key
//     client_auth_type: RequireAndVerifyClientCert   # default NoClientCert
//     client_ca_file: clients-ca.crt # CAs that sign client certificates
//     min_version: TLS12             # TLS10..TLS13, default TLS12
//     max_version: TLS13
//   http_server_config:
//     headers: {Strict-Transport-Security: max-age=31536000}
//   basic_auth_users:
//     alice: $2y$10$...              # bcrypt hash (htpasswd -nBC 10 alice)
//
// Unknown keys, wrong types and invalid values are errors (as exporter-toolkit's strict YAML
// decoding), so is a missing or unreadable certificate, key or CA file, a key that does not
// match its certificate, and a password that is not a bcrypt hash. Keys of exporter-toolkit
// that this exporter does not implement (cipher_suites, curve_preferences, client_allowed_sans,
// ...) are refused with a message saying so rather than silently ignored.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"

namespace mailrelay {

enum class ClientAuth {
  kNoClientCert,
  kRequestClientCert,           // ask for a certificate, accept any or none
  kRequireAnyClientCert,        // require a certificate, do not verify it
  kVerifyClientCertIfGiven,     // verify a certificate when one is sent
  kRequireAndVerifyClientCert,  // require a certificate signed by client_ca_file
};

struct TlsServerConfig {
  std::string cert_file;  // absolute (resolved against the config file's directory)
  std::string key_file;
  std::string client_ca_file;  // empty: none
  ClientAuth client_auth = ClientAuth::kNoClientCert;
  int min_version = 0x0303;  // TLS1_2_VERSION
  int max_version = 0;       // 0: the highest the library supports
};

struct WebConfig {
  std::optional<TlsServerConfig> tls;        // empty: plain HTTP
  std::map<std::string, std::string> users;  // user -> bcrypt hash; empty: no authentication
  std::vector<std::pair<std::string, std::string>> headers;  // extra response headers
  std::string path;  // the file it was read from ("" for the default, empty config)
};

// Reads and validates a web config file (see above). The file names it holds are resolved
// against the file's directory. Certificates and keys are only checked for existence here; the
// TLS layer (tls_context.h) parses them. An error is a one-line message naming the file and the
// problem.
StatusOr<WebConfig> LoadWebConfig(const std::string& path);
// The same from YAML text; `dir` resolves relative file names.
StatusOr<WebConfig> ParseWebConfig(const std::string& yaml, const std::string& dir);

const char* ClientAuthName(ClientAuth auth);

}  // namespace mailrelay
