# shellcheck shell=bash
# Test certificates for the TLS tests of tests/http, written into the current directory:
#   make_test_certs [NAME...]
#     ca.crt/ca.key          a CA (CN mailrelay-test-ca)
#     server.crt/server.key  signed by it, for localhost and 127.0.0.1
#     client.crt/client.key  signed by it (CN prometheus)
#     NAME.crt/NAME.key      one self-signed certificate (CN NAME) per further argument
make_test_certs() {
  local name
  _ossl() { openssl "$@" 2>/dev/null; }
  _ossl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -days 2 -subj /CN=mailrelay-test-ca
  _ossl req -newkey rsa:2048 -nodes -keyout server.key -out server.csr -subj /CN=localhost
  printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\n' >server.ext
  _ossl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out server.crt -days 2 \
    -extfile server.ext
  _ossl req -newkey rsa:2048 -nodes -keyout client.key -out client.csr -subj /CN=prometheus
  _ossl x509 -req -in client.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out client.crt -days 2
  for name in "$@"; do
    _ossl req -x509 -newkey rsa:2048 -nodes -keyout "$name.key" -out "$name.crt" -days 2 \
      -subj "/CN=$name"
  done
}
