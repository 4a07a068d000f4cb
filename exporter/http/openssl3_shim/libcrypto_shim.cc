// Shared object with DT_SONAME "libcrypto.so" and libcrypto.so.3 as its only dependency, loaded
// by PrepareCivetwebOpenssl() (see exporter/http/tls_context.h): CivetWeb's
// dlopen("libcrypto.so") returns it and finds every libcrypto function through it, also where
// the unversioned libcrypto.so link (libssl-dev) is not installed.
extern "C" {
__attribute__((visibility("default"))) extern const int mailrelay_libcrypto_shim = 1;
}
