#include "http/tls_context.h"

#include <dlfcn.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <utility>

#include "common/logging.h"

namespace mailrelay {

#if defined(MAILRELAY_OPENSSL3_SHIM)
namespace embedded {
extern const unsigned char libssl_shim[];
extern const std::size_t libssl_shim_size;
extern const unsigned char libcrypto_shim[];
extern const std::size_t libcrypto_shim_size;
}  // namespace embedded
#endif

namespace {

struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};
struct PkeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
struct ChainFree {
  void operator()(STACK_OF(X509) * s) const { sk_X509_pop_free(s, X509_free); }
};
struct StoreFree {
  void operator()(X509_STORE* s) const { X509_STORE_free(s); }
};
struct NamesFree {
  void operator()(STACK_OF(X509_NAME) * s) const { sk_X509_NAME_pop_free(s, X509_NAME_free); }
};
struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};

std::string OpensslError() {
  unsigned long code = ERR_get_error();
  std::string out;
  if (code == 0) return "unknown OpenSSL error";
  char buf[256];
  ERR_error_string_n(code, buf, sizeof buf);
  out = buf;
  ERR_clear_error();
  return out;
}

int AcceptAnyCertificate(int /*preverify_ok*/, X509_STORE_CTX* /*ctx*/) { return 1; }

}  // namespace

struct TlsMaterial {
  std::unique_ptr<X509, X509Free> cert;
  std::unique_ptr<STACK_OF(X509), ChainFree> chain;
  std::unique_ptr<EVP_PKEY, PkeyFree> key;
  std::unique_ptr<X509_STORE, StoreFree> client_cas;
  std::unique_ptr<STACK_OF(X509_NAME), NamesFree> client_ca_names;
  int verify_mode = SSL_VERIFY_NONE;
  bool verify_chain = false;  // false: accept any client certificate (Request/RequireAny)
  int min_version = TLS1_2_VERSION;
  int max_version = 0;
};

namespace {

bool LoadMaterial(const TlsServerConfig& config, TlsMaterial* m, std::string* error) {
  ERR_clear_error();
  std::unique_ptr<BIO, BioFree> bio(BIO_new_file(config.cert_file.c_str(), "r"));
  if (!bio) {
    *error = "tls_server_config.cert_file " + config.cert_file + ": " + OpensslError();
    return false;
  }
  m->cert.reset(PEM_read_bio_X509_AUX(bio.get(), nullptr, nullptr, nullptr));
  if (!m->cert) {
    *error = "tls_server_config.cert_file " + config.cert_file + ": no PEM certificate (" +
             OpensslError() + ")";
    return false;
  }
  m->chain.reset(sk_X509_new_null());
  while (X509* extra = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) {
    sk_X509_push(m->chain.get(), extra);
  }
  ERR_clear_error();  // the end of the file ends the loop with an error on the stack

  bio.reset(BIO_new_file(config.key_file.c_str(), "r"));
  if (!bio) {
    *error = "tls_server_config.key_file " + config.key_file + ": " + OpensslError();
    return false;
  }
  m->key.reset(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  if (!m->key) {
    *error = "tls_server_config.key_file " + config.key_file +
             ": no PEM private key, or an encrypted one (" + OpensslError() + ")";
    return false;
  }
  if (X509_check_private_key(m->cert.get(), m->key.get()) != 1) {
    ERR_clear_error();
    *error = "tls_server_config: key_file " + config.key_file +
             " does not match the certificate in " + config.cert_file;
    return false;
  }

  switch (config.client_auth) {
    case ClientAuth::kNoClientCert:
      m->verify_mode = SSL_VERIFY_NONE;
      break;
    case ClientAuth::kRequestClientCert:
      m->verify_mode = SSL_VERIFY_PEER;
      break;
    case ClientAuth::kRequireAnyClientCert:
      m->verify_mode = SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
      break;
    case ClientAuth::kVerifyClientCertIfGiven:
      m->verify_mode = SSL_VERIFY_PEER;
      m->verify_chain = true;
      break;
    case ClientAuth::kRequireAndVerifyClientCert:
      m->verify_mode = SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
      m->verify_chain = true;
      break;
  }
  if (!config.client_ca_file.empty()) {
    m->client_cas.reset(X509_STORE_new());
    if (!m->client_cas ||
        X509_STORE_load_file(m->client_cas.get(), config.client_ca_file.c_str()) != 1) {
      *error = "tls_server_config.client_ca_file " + config.client_ca_file + ": " + OpensslError();
      return false;
    }
    m->client_ca_names.reset(SSL_load_client_CA_file(config.client_ca_file.c_str()));
    if (!m->client_ca_names || sk_X509_NAME_num(m->client_ca_names.get()) == 0) {
      *error = "tls_server_config.client_ca_file " + config.client_ca_file + ": no PEM certificate";
      ERR_clear_error();
      return false;
    }
  }
  m->min_version = config.min_version;
  m->max_version = config.max_version;
  return true;
}

}  // namespace

TlsContext::TlsContext() = default;
TlsContext::~TlsContext() = default;

Status TlsContext::Update(const TlsServerConfig& config) {
  auto material = std::make_shared<TlsMaterial>();
  std::string error;
  if (!LoadMaterial(config, material.get(), &error)) return InvalidArgument(std::move(error));
  std::lock_guard<std::mutex> lock(mutex_);
  material_ = std::move(material);
  return Status::Ok();
}

std::shared_ptr<const TlsMaterial> TlsContext::Current() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return material_;
}

int TlsContext::InitSsl(void* ssl_ctx, void* self) {
  auto* ctx = static_cast<SSL_CTX*>(ssl_ctx);
  // Versions are chosen per handshake (OnClientHello); CivetWeb's ssl_protocol_version options
  // would otherwise forbid what min_version allows.
  SSL_CTX_clear_options(ctx, SSL_OP_NO_SSL_MASK);
  SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET | SSL_OP_NO_RENEGOTIATION |
                               SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_COMPRESSION);
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
  static const unsigned char kSessionContext[] = "mailrelay_exporter";
  SSL_CTX_set_session_id_context(ctx, kSessionContext, sizeof kSessionContext - 1);
  SSL_CTX_set_client_hello_cb(ctx, &TlsContext::OnClientHello, self);
  SSL_CTX_set_cert_cb(ctx, &TlsContext::OnCertificate, self);
  return 1;
}

int TlsContext::OnClientHello(::ssl_st* ssl, int* alert, void* self) {
  auto material = static_cast<TlsContext*>(self)->Current();
  if (!material) {
    *alert = SSL_AD_INTERNAL_ERROR;
    return SSL_CLIENT_HELLO_ERROR;
  }
  SSL_clear_options(ssl, SSL_OP_NO_SSL_MASK);
  if (SSL_set_min_proto_version(ssl, material->min_version) != 1 ||
      SSL_set_max_proto_version(ssl, material->max_version) != 1) {
    *alert = SSL_AD_INTERNAL_ERROR;
    return SSL_CLIENT_HELLO_ERROR;
  }
  return SSL_CLIENT_HELLO_SUCCESS;
}

int TlsContext::OnCertificate(::ssl_st* ssl, void* self) {
  auto material = static_cast<TlsContext*>(self)->Current();
  if (!material) return 0;
  // Each call takes its own references: the SSL keeps working if a reload frees `material`.
  if (SSL_use_cert_and_key(ssl, material->cert.get(), material->key.get(), material->chain.get(),
                           1) != 1) {
    return 0;
  }
  SSL_set_verify(ssl, material->verify_mode,
                 material->verify_chain ? nullptr : &AcceptAnyCertificate);
  if (material->client_cas) {
    if (SSL_set1_verify_cert_store(ssl, material->client_cas.get()) != 1) return 0;
    STACK_OF(X509_NAME)* names = SSL_dup_CA_list(material->client_ca_names.get());
    if (names == nullptr) return 0;
    SSL_set0_CA_list(ssl, names);
  }
  return 1;
}

#if defined(MAILRELAY_OPENSSL3_SHIM)
namespace {

// Loads one embedded shared object through a memfd (no file on disk, nothing to install).
bool LoadEmbedded(const char* name, const unsigned char* data, std::size_t size, int* fd_out,
                  std::string* error) {
  int fd = memfd_create(name, MFD_CLOEXEC);
  if (fd < 0) {
    *error = std::string("memfd_create: ") + std::strerror(errno);
    return false;
  }
  std::size_t done = 0;
  while (done < size) {
    ssize_t n = ::write(fd, data + done, size - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      *error = std::string("write to memfd: ") + std::strerror(errno);
      ::close(fd);
      return false;
    }
    done += static_cast<std::size_t>(n);
  }
  // /proc/<pid>/fd/N rather than /proc/self/fd/N: the same path names the same file for
  // debuggers reading the link map.
  char path[64];
  std::snprintf(path, sizeof path, "/proc/%d/fd/%d", static_cast<int>(::getpid()), fd);
  if (dlopen(path, RTLD_NOW | RTLD_GLOBAL) == nullptr) {
    const char* why = dlerror();
    *error = std::string("dlopen ") + name + ": " + (why != nullptr ? why : "failed");
    ::close(fd);
    return false;
  }
  *fd_out = fd;  // closed by the caller once both are loaded: fd numbers must not be reused
  return true;
}

}  // namespace

Status PrepareCivetwebOpenssl() {
  static std::mutex mutex;
  static bool done = false;
  static std::string failure;
  std::lock_guard<std::mutex> lock(mutex);
  if (!done) {
    done = true;
    int ssl_fd = -1;
    int crypto_fd = -1;
    if (LoadEmbedded("libssl.so", embedded::libssl_shim, embedded::libssl_shim_size, &ssl_fd,
                     &failure) &&
        LoadEmbedded("libcrypto.so", embedded::libcrypto_shim, embedded::libcrypto_shim_size,
                     &crypto_fd, &failure)) {
      failure.clear();
    }
    if (ssl_fd >= 0) ::close(ssl_fd);
    if (crypto_fd >= 0) ::close(crypto_fd);
    if (!failure.empty()) failure = "cannot prepare OpenSSL for CivetWeb: " + failure;
  }
  if (!failure.empty()) return InternalError(failure);
  return Status::Ok();
}

#else
// CivetWeb built with OpenSSL linked in (static release build): nothing to load.
Status PrepareCivetwebOpenssl() { return Status::Ok(); }
#endif

}  // namespace mailrelay
