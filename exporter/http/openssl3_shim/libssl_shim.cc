// Shared object with DT_SONAME "libssl.so", loaded by PrepareCivetwebOpenssl() (see
// exporter/http/tls_context.h). It depends on libssl.so.3 and defines the one function CivetWeb
// 1.15 looks up that OpenSSL 3 no longer exports. Deliberately without OpenSSL's headers: they
// turn the name SSL_get_peer_certificate into a macro.
extern "C" {
struct ssl_st;
struct x509_st;
x509_st* SSL_get1_peer_certificate(const ssl_st* ssl);

// OpenSSL 1.1's SSL_get_peer_certificate already returned a new reference (CivetWeb frees it).
__attribute__((visibility("default"))) x509_st* SSL_get_peer_certificate(const ssl_st* ssl) {
  return SSL_get1_peer_certificate(ssl);
}
}
