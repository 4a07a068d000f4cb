#include "http/basic_auth.h"

#include <gtest/gtest.h>

#include <string>

namespace mailrelay {
namespace {

// Made with known tools, for the password "s3cret pass" / "hunter2":
//   htpasswd -nbBC 10 alice 's3cret pass'          (apache2-utils: $2y$)
//   python3 -c 'import crypt; crypt.crypt(...)'   (libxcrypt through Python's crypt: $2b$, $2a$)
constexpr char kHtpasswd2y[] = "$2y$10$PJQPqkdwK0nFWOKGJ0HbneYVHjI.feL6g2/2.TUpUAq0wcY2KtGIW";
constexpr char kHtpasswd2yCost4[] = "$2y$04$.ZTL/85LYcEBRq4e5ivFq.eaVqgEEmXaywJJMlqCBCOVBTA/4eij6";
constexpr char kPython2b[] = "$2b$10$vRdNV0Abbp2s4WdRFZZj3.ej/4KSGBuysAMaZT3rHrYCaPU8SkoGO";
constexpr char kPython2a[] = "$2a$05$abcdefghijklmnopqrstuuoXuKqgZXLiJqzfmMXDDhSFPIvxV7t8.";
constexpr char kPython2bCost4[] = "$2b$04$abcdefghijklmnopqrstuuV3duMsC0HpUex6N9qapiuOHHWkwRXVm";

std::string BasicHeader(const std::string& user_colon_password) {
  static const char* kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  const std::string& in = user_colon_password;
  for (std::size_t i = 0; i < in.size(); i += 3) {
    auto byte = [&](std::size_t k) {
      return static_cast<unsigned>(static_cast<unsigned char>(in[k]));
    };
    unsigned n = byte(i) << 16;
    if (i + 1 < in.size()) n |= byte(i + 1) << 8;
    if (i + 2 < in.size()) n |= byte(i + 2);
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += i + 1 < in.size() ? kAlphabet[(n >> 6) & 63] : '=';
    out += i + 2 < in.size() ? kAlphabet[n & 63] : '=';
  }
  return "Basic " + out;
}

TEST(Bcrypt, VerifiesHashesOfKnownTools) {
  EXPECT_TRUE(BcryptVerify("s3cret pass", kHtpasswd2y));
  EXPECT_TRUE(BcryptVerify("hunter2", kHtpasswd2yCost4));
  EXPECT_TRUE(BcryptVerify("s3cret pass", kPython2b));
  EXPECT_TRUE(BcryptVerify("hunter2", kPython2a));
  EXPECT_TRUE(BcryptVerify("hunter2", kPython2bCost4));
}

TEST(Bcrypt, RejectsWrongPasswordsAndBadHashes) {
  EXPECT_FALSE(BcryptVerify("s3cret pas", kHtpasswd2y));
  EXPECT_FALSE(BcryptVerify("s3cret pass ", kHtpasswd2y));
  EXPECT_FALSE(BcryptVerify("", kHtpasswd2y));
  EXPECT_FALSE(BcryptVerify("Hunter2", kPython2a));
  EXPECT_FALSE(BcryptVerify(std::string("hunter2\0x", 9), kPython2bCost4));  // NUL inside
  std::string tampered = kPython2bCost4;
  tampered.back() = tampered.back() == 'm' ? 'n' : 'm';
  EXPECT_FALSE(BcryptVerify("hunter2", tampered));
  EXPECT_FALSE(BcryptVerify("hunter2", "hunter2"));
  EXPECT_FALSE(BcryptVerify("x", "$1$abc$abcdefghijklmnopqrstuv"));  // md5-crypt: not accepted
}

TEST(Bcrypt, HashFormat) {
  EXPECT_TRUE(IsBcryptHash(kHtpasswd2y));
  EXPECT_TRUE(IsBcryptHash(kPython2b));
  EXPECT_TRUE(IsBcryptHash(kPython2a));
  EXPECT_FALSE(IsBcryptHash(""));
  EXPECT_FALSE(IsBcryptHash("$2x$10$PJQPqkdwK0nFWOKGJ0HbneYVHjI.feL6g2/2.TUpUAq0wcY2KtGIW"));
  EXPECT_FALSE(IsBcryptHash("$2y$03$PJQPqkdwK0nFWOKGJ0HbneYVHjI.feL6g2/2.TUpUAq0wcY2KtGIW"));
  EXPECT_FALSE(IsBcryptHash("$2y$32$PJQPqkdwK0nFWOKGJ0HbneYVHjI.feL6g2/2.TUpUAq0wcY2KtGIW"));
  EXPECT_FALSE(IsBcryptHash("$2y$10$PJQPqkdwK0nFWOKGJ0HbneYVHjI.feL6g2/2.TUpUAq0wcY2KtGI"));
  EXPECT_FALSE(IsBcryptHash("$2y$10$PJQPqkdwK0nFWOKGJ0HbneYVHjI.feL6g2/2.TUpUAq0wcY2KtGI!"));
}

TEST(BasicAuthHeader, Parsing) {
  std::string user, password;
  ASSERT_TRUE(ParseBasicAuthorization(BasicHeader("alice:s3cret pass"), &user, &password));
  EXPECT_EQ("alice", user);
  EXPECT_EQ("s3cret pass", password);
  ASSERT_TRUE(ParseBasicAuthorization("basic  YTpiOmM=", &user, &password));  // a:b:c
  EXPECT_EQ("a", user);
  EXPECT_EQ("b:c", password);
  ASSERT_TRUE(ParseBasicAuthorization(BasicHeader("u:"), &user, &password));
  EXPECT_EQ("", password);
  EXPECT_FALSE(ParseBasicAuthorization("", &user, &password));
  EXPECT_FALSE(ParseBasicAuthorization("Bearer abc", &user, &password));
  EXPECT_FALSE(ParseBasicAuthorization("Basic", &user, &password));
  EXPECT_FALSE(ParseBasicAuthorization("Basic !!!!", &user, &password));
  EXPECT_FALSE(ParseBasicAuthorization("Basic YWxpY2U=", &user, &password));  // no ':'
  EXPECT_FALSE(ParseBasicAuthorization("Basic YQ=a", &user, &password));      // data after '='
  std::string out;
  EXPECT_TRUE(Base64Decode("", &out));
  EXPECT_TRUE(Base64Decode("Zm9vYmFy", &out));
  EXPECT_EQ("foobar", out);
  EXPECT_TRUE(Base64Decode("Zm9vYg==", &out));
  EXPECT_EQ("foob", out);
  EXPECT_FALSE(Base64Decode("Zm9vYg=", &out));
}

TEST(BasicAuth, ChecksUsersAndCachesSuccessOnly) {
  BasicAuth auth({{"alice", kHtpasswd2yCost4}, {"bob", kPython2bCost4}});
  ASSERT_TRUE(auth.enabled());
  EXPECT_FALSE(auth.Check(""));
  EXPECT_FALSE(auth.Check("Basic"));
  EXPECT_TRUE(auth.Check(BasicHeader("alice:hunter2")));
  std::size_t runs = auth.bcrypt_runs();
  EXPECT_EQ(1u, runs);
  // Cached: no further bcrypt for the same user, hash and password.
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(auth.Check(BasicHeader("alice:hunter2")));
  EXPECT_EQ(runs, auth.bcrypt_runs());
  // Failures cost a bcrypt every time (not cached), unknown users too (dummy hash).
  EXPECT_FALSE(auth.Check(BasicHeader("alice:hunter3")));
  EXPECT_FALSE(auth.Check(BasicHeader("alice:hunter3")));
  EXPECT_FALSE(auth.Check(BasicHeader("mallory:hunter2")));
  EXPECT_EQ(runs + 3, auth.bcrypt_runs());
  // A valid password of another user is not valid for this one.
  EXPECT_TRUE(auth.Check(BasicHeader("bob:hunter2")));
  EXPECT_FALSE(auth.Check(BasicHeader("bob:s3cret pass")));
}

TEST(BasicAuth, NoUsersMeansNoAuthentication) {
  BasicAuth auth({});
  EXPECT_FALSE(auth.enabled());
  EXPECT_TRUE(auth.Check(""));
}

}  // namespace
}  // namespace mailrelay
