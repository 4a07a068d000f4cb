// TLS for the HTTP server (tls_server_config of --web.config.file), on CivetWeb's OpenSSL
// connection handling.
//
// CivetWeb creates the SSL_CTX; its init_ssl callback hands it to InitSsl(), which installs two
// per-handshake callbacks. Every handshake then takes the certificate, key, protocol versions
// and client-certificate policy from the material current at that moment, so Update() (SIGHUP)
// changes them without closing the listening socket. Session resumption is off, so a new
// client CA or auth type applies to every new connection.
//
// Debian's CivetWeb 1.15 loads OpenSSL at run time with dlopen("libssl.so") and looks up
// SSL_get_peer_certificate, which OpenSSL 3 no longer exports (it became a macro for
// SSL_get1_peer_certificate): the lookup yields NULL and the first TLS connection crashes.
// PrepareCivetwebOpenssl() loads two tiny embedded shared objects first, whose DT_SONAMEs are
// "libssl.so" and "libcrypto.so": glibc's dlopen() returns an already loaded object whose soname
// matches the requested name, so CivetWeb gets the shims, finds SSL_get_peer_certificate in the
// libssl one (a forwarder to SSL_get1_peer_certificate) and every other function in their
// dependencies libssl.so.3 / libcrypto.so.3. This also removes CivetWeb's need for the
// unversioned libssl.so/libcrypto.so links, which only libssl-dev installs. The static release
// build links CivetWeb with OpenSSL directly (MAILRELAY_OPENSSL3_SHIM off): nothing to load there.
#pragma once

#include <memory>
#include <mutex>
#include <string>

#include "common/status.h"
#include "http/web_config.h"

struct ssl_st;  // OpenSSL's SSL

namespace mailrelay {

struct TlsMaterial;  // parsed certificate, key, client CAs and policy (tls_context.cc)

class TlsContext {
 public:
  TlsContext();
  ~TlsContext();
  TlsContext(const TlsContext&) = delete;
  TlsContext& operator=(const TlsContext&) = delete;

  // Parses the files of `config` (certificate chain, key, that they match, client CAs). On
  // error returns false with *error naming the file, and keeps the current material.
  Status Update(const TlsServerConfig& config);

  // CivetWeb's init_ssl callback: `ssl_ctx` is its SSL_CTX, `self` this object. Returns 1
  // (configured; CivetWeb loads no certificate itself) or -1.
  static int InitSsl(void* ssl_ctx, void* self);

 private:
  std::shared_ptr<const TlsMaterial> Current() const;
  static int OnClientHello(::ssl_st* ssl, int* alert, void* self);
  static int OnCertificate(::ssl_st* ssl, void* self);

  mutable std::mutex mutex_;
  std::shared_ptr<const TlsMaterial> material_;
};

// Loads the OpenSSL 3 compatibility shims for CivetWeb (see above) once per process. Must run
// before CivetWeb starts a TLS listener. False with *error when they cannot be loaded.
Status PrepareCivetwebOpenssl();

}  // namespace mailrelay
