#include "http/web_config.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <string>

#include "http/tls_context.h"
#include "status_matchers.h"

namespace mailrelay {
namespace {

// Hash of "s3cret pass" made with `htpasswd -nbBC 10 alice 's3cret pass'` (apache2-utils).
constexpr char kAliceHash[] = "$2y$10$PJQPqkdwK0nFWOKGJ0HbneYVHjI.feL6g2/2.TUpUAq0wcY2KtGIW";

class WebConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/mailrelay_webcfg_XXXXXX";
    ASSERT_NE(nullptr, mkdtemp(tmpl));
    dir_ = tmpl;
    Write("server.crt", "placeholder");
    Write("server.key", "placeholder");
    Write("ca.crt", "placeholder");
  }
  void TearDown() override { std::system(("rm -rf '" + dir_ + "'").c_str()); }

  void Write(const std::string& name, const std::string& text) {
    std::ofstream(dir_ + "/" + name) << text;
  }
  // Writes `yaml` as web.yml and loads it.
  bool Load(const std::string& yaml, WebConfig* out, std::string* error) {
    Write("web.yml", yaml);
    auto config = LoadWebConfig(dir_ + "/web.yml");
    *error = config.status().message();
    if (config.ok()) *out = *config;
    return config.ok();
  }
  // Expects `yaml` to be refused with a message containing `want`.
  void ExpectError(const std::string& yaml, const std::string& want) {
    WebConfig c;
    std::string error;
    EXPECT_FALSE(Load(yaml, &c, &error)) << yaml;
    EXPECT_NE(std::string::npos, error.find(want)) << "error: " << error << "\nyaml:\n" << yaml;
    EXPECT_NE(std::string::npos, error.find("web.yml")) << error;
  }

  std::string dir_;
};

TEST_F(WebConfigTest, FullFile) {
  WebConfig c;
  std::string error;
  ASSERT_TRUE(Load(std::string("tls_server_config:\n"
                               "  cert_file: server.crt\n"
                               "  key_file: ") +
                       dir_ +
                       "/server.key\n"
                       "  client_auth_type: RequireAndVerifyClientCert\n"
                       "  client_ca_file: ca.crt\n"
                       "  min_version: TLS13\n"
                       "http_server_config:\n"
                       "  http2: false\n"
                       "  headers:\n"
                       "    X-Frame-Options: deny\n"
                       "basic_auth_users:\n"
                       "  alice: " +
                       kAliceHash +
                       "\n  bob: '$2b$04$abcdefghijklmnopqrstuuV3duMsC0HpUex6N9qapiuOHHWkwRXVm'\n",
                   &c, &error))
      << error;
  ASSERT_TRUE(c.tls.has_value());
  EXPECT_EQ(dir_ + "/server.crt", c.tls->cert_file);  // relative to the file's directory
  EXPECT_EQ(dir_ + "/server.key", c.tls->key_file);
  EXPECT_EQ(dir_ + "/ca.crt", c.tls->client_ca_file);
  EXPECT_EQ(ClientAuth::kRequireAndVerifyClientCert, c.tls->client_auth);
  EXPECT_EQ(0x0304, c.tls->min_version);
  ASSERT_EQ(2u, c.users.size());
  EXPECT_EQ(kAliceHash, c.users["alice"]);
  ASSERT_EQ(1u, c.headers.size());
  EXPECT_EQ("X-Frame-Options", c.headers[0].first);
  EXPECT_EQ(dir_ + "/web.yml", c.path);
}

TEST_F(WebConfigTest, EmptyFilesAndSectionsMeanPlainHttpWithoutAuth) {
  for (const char* yaml : {"", "# nothing\n", "tls_server_config:\nbasic_auth_users:\n",
                           "tls_server_config: {}\nbasic_auth_users: {}\n"}) {
    WebConfig c;
    std::string error;
    ASSERT_TRUE(Load(yaml, &c, &error)) << yaml << ": " << error;
    EXPECT_FALSE(c.tls.has_value()) << yaml;
    EXPECT_TRUE(c.users.empty()) << yaml;
  }
}

TEST_F(WebConfigTest, UsersOnly) {
  WebConfig c;
  std::string error;
  ASSERT_TRUE(Load(std::string("basic_auth_users:\n  alice: ") + kAliceHash + "\n", &c, &error))
      << error;
  EXPECT_FALSE(c.tls.has_value());
  EXPECT_EQ(1u, c.users.size());
}

TEST_F(WebConfigTest, EachBadCaseIsRefusedWithAClearMessage) {
  ExpectError("bogus: 1\n", "unknown key bogus");
  ExpectError("tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n  foo: 1\n",
              "unknown key tls_server_config.foo");
  ExpectError("http_server_config:\n  nope: 1\n", "unknown key http_server_config.nope");
  ExpectError("tls_server_config:\n  cert_file: server.crt\n", "missing key_file");
  ExpectError("tls_server_config:\n  key_file: server.key\n", "missing cert_file");
  ExpectError("tls_server_config:\n  cert_file: missing.crt\n  key_file: server.key\n",
              "cert_file " + dir_ + "/missing.crt: No such file or directory");
  ExpectError("tls_server_config:\n  cert_file: server.crt\n  key_file: missing.key\n",
              "key_file " + dir_ + "/missing.key: No such file or directory");
  ExpectError("tls_server_config:\n  cert_file: .\n  key_file: server.key\n", "not a regular file");
  ExpectError(
      "tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n"
      "  client_auth_type: RequireAndVerifyClientCert\n",
      "needs client_ca_file");
  ExpectError(
      "tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n"
      "  client_ca_file: ca.crt\n",
      "client_auth_type is NoClientCert");
  ExpectError(
      "tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n"
      "  client_auth_type: Sometimes\n",
      "unknown value 'Sometimes'");
  ExpectError(
      "tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n"
      "  client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: nope.crt\n",
      "client_ca_file " + dir_ + "/nope.crt");
  ExpectError(
      "tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n"
      "  min_version: TLS14\n",
      "unknown TLS version 'TLS14'");
  ExpectError(
      "tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n"
      "  min_version: TLS13\n  max_version: TLS12\n",
      "max_version is below min_version");
  ExpectError(
      "tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n"
      "  cipher_suites: [TLS_AES_128_GCM_SHA256]\n",
      "cipher_suites is not supported");
  ExpectError("tls_server_config:\n  client_auth_type: RequireAnyClientCert\n",
              "need cert_file and key_file");
  ExpectError("tls_server_config:\n  cert_file: [a, b]\n  key_file: server.key\n", "want a string");
  ExpectError("basic_auth_users:\n  alice: secret\n", "basic_auth_users.alice: not a bcrypt hash");
  ExpectError("basic_auth_users:\n  alice: $1$abc$abcdefghijklmnopqrstuv\n", "not a bcrypt hash");
  ExpectError(
      "basic_auth_users:\n  alice: $2y$99$PJQPqkdwK0nFWOKGJ0HbneYVHjI.feL6g2/2.TUpUAq0wcY2KtGIW\n",
      "not a bcrypt hash");
  ExpectError(std::string("basic_auth_users:\n  'a:b': ") + kAliceHash + "\n", "invalid user name");
  ExpectError("basic_auth_users: [alice]\n", "want a mapping");
  ExpectError("http_server_config:\n  headers:\n    Server: x\n", "header Server is not allowed");
  ExpectError("http_server_config:\n  http2: maybe\n", "want true or false");
  ExpectError("tls_server_config: [\n", "invalid YAML");
  ExpectError("- a\n- b\n", "want a mapping at the top level");
}

TEST_F(WebConfigTest, MissingFile) {
  WebConfig c;
  std::string error;
  EXPECT_FALSE(StatusOk(LoadWebConfig(dir_ + "/absent.yml").status(), &error));
  EXPECT_NE(std::string::npos, error.find("absent.yml: No such file or directory")) << error;
}

// The TLS layer parses the files the config names.
class TlsMaterialTest : public WebConfigTest {
 protected:
  bool Openssl(const std::string& args) {
    std::string cmd = "cd '" + dir_ + "' && openssl " + args + " >/dev/null 2>&1";
    return std::system(cmd.c_str()) == 0;
  }
  TlsServerConfig Config(const std::string& cert, const std::string& key) {
    TlsServerConfig c;
    c.cert_file = dir_ + "/" + cert;
    c.key_file = dir_ + "/" + key;
    return c;
  }
};

TEST_F(TlsMaterialTest, CertificateKeyAndClientCas) {
  ASSERT_TRUE(
      Openssl("req -x509 -newkey rsa:2048 -nodes -keyout a.key -out a.crt -days 1 "
              "-subj /CN=localhost"));
  ASSERT_TRUE(
      Openssl("req -x509 -newkey rsa:2048 -nodes -keyout b.key -out b.crt -days 1 "
              "-subj /CN=other"));
  TlsContext tls;
  std::string error;
  EXPECT_TRUE(StatusOk(tls.Update(Config("a.crt", "a.key")), &error)) << error;

  EXPECT_FALSE(StatusOk(tls.Update(Config("a.crt", "b.key")), &error));
  EXPECT_NE(std::string::npos, error.find("does not match the certificate")) << error;

  Write("garbage.crt", "not a certificate\n");
  EXPECT_FALSE(StatusOk(tls.Update(Config("garbage.crt", "a.key")), &error));
  EXPECT_NE(std::string::npos, error.find("no PEM certificate")) << error;

  EXPECT_FALSE(StatusOk(tls.Update(Config("a.crt", "garbage.crt")), &error));
  EXPECT_NE(std::string::npos, error.find("no PEM private key")) << error;

  TlsServerConfig with_ca = Config("a.crt", "a.key");
  with_ca.client_auth = ClientAuth::kRequireAndVerifyClientCert;
  with_ca.client_ca_file = dir_ + "/b.crt";
  EXPECT_TRUE(StatusOk(tls.Update(with_ca), &error)) << error;
  with_ca.client_ca_file = dir_ + "/garbage.crt";
  EXPECT_FALSE(StatusOk(tls.Update(with_ca), &error));
  EXPECT_NE(std::string::npos, error.find("client_ca_file")) << error;
}

TEST(CivetwebOpenssl, ShimsLoad) {
  std::string error;
  EXPECT_TRUE(StatusOk(PrepareCivetwebOpenssl(), &error)) << error;
  EXPECT_TRUE(StatusOk(PrepareCivetwebOpenssl(), &error))
      << error;  // once per process, then a no-op
}

}  // namespace
}  // namespace mailrelay
