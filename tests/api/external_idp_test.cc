// A server configured with an identity provider's ES256 public key accepts that
// provider's tokens besides its own HS256 ones, and refuses an HS256 token made with the
// provider's public key as the secret (algorithm confusion).
#include "api/jwt.h"
#include "tests/support/test_server.h"

#include <gtest/gtest.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>

#include <chrono>

namespace caseledger::testing {
namespace {

constexpr char kIdp[] = "https://idp.example.org";

std::string PublicPem(EVP_PKEY* key) {
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PUBKEY(bio, key);
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  std::string pem(data, static_cast<size_t>(len));
  BIO_free(bio);
  return pem;
}

std::string Payload(const std::string& iss) {
  const int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                          std::chrono::system_clock::now().time_since_epoch()).count();
  return R"({"iss":")" + iss + R"(","aud":"caseledger","sub":"idp-user","exp":)" + std::to_string(now + 600) + "}";
}

std::string Es256Token(EVP_PKEY* key, const std::string& payload) {
  std::string input = api::Base64UrlEncode(R"({"alg":"ES256","typ":"JWT"})") + "." + api::Base64UrlEncode(payload);
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  size_t len = 0;
  EVP_DigestSignInit(ctx, nullptr, EVP_sha256(), nullptr, key);
  EVP_DigestSign(ctx, nullptr, &len, reinterpret_cast<const unsigned char*>(input.data()), input.size());
  std::string der(len, '\0');
  EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(der.data()), &len,
                 reinterpret_cast<const unsigned char*>(input.data()), input.size());
  EVP_MD_CTX_free(ctx);
  const unsigned char* p = reinterpret_cast<const unsigned char*>(der.data());
  ECDSA_SIG* sig = d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(len));
  std::string rs(64, '\0');
  BN_bn2binpad(ECDSA_SIG_get0_r(sig), reinterpret_cast<unsigned char*>(rs.data()), 32);
  BN_bn2binpad(ECDSA_SIG_get0_s(sig), reinterpret_cast<unsigned char*>(rs.data()) + 32, 32);
  ECDSA_SIG_free(sig);
  return input + "." + api::Base64UrlEncode(rs);
}

std::string Hs256Token(std::string_view secret, const std::string& payload) {
  std::string input = api::Base64UrlEncode(R"({"alg":"HS256","typ":"JWT"})") + "." + api::Base64UrlEncode(payload);
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(input.data()), input.size(), out, &len);
  return input + "." + api::Base64UrlEncode(std::string(reinterpret_cast<const char*>(out), len));
}

TEST(ExternalIdpTest, ProviderTokensAuthenticateAndConfusedOnesDoNot) {
  EVP_PKEY* key = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
  ASSERT_NE(key, nullptr);
  const std::string pem = PublicPem(key);
  TestServer server([&](api::ServiceOptions& o) {
    std::string error;
    auto pk = api::JwtPublicKey::FromPem(api::JwtAlgorithm::kES256, pem, &error);
    ASSERT_TRUE(pk) << error;
    o.external_signers.push_back(api::JwtSigner{*pk, kIdp, "caseledger"});
  });
  HttpClient http(server.port());
  // Authenticated (whatever the subject's grants allow): not 401.
  EXPECT_NE(http.Get("/v1/rules", Es256Token(key, Payload(kIdp))).status, 401);
  EXPECT_NE(http.Get("/v1/rules", server.Token()).status, 401);
  // The provider's token with the server's issuer, and the public key as an HMAC secret.
  EXPECT_EQ(http.Get("/v1/rules", Es256Token(key, Payload("caseledger"))).status, 401);
  auto confused = http.Get("/v1/rules", Hs256Token(pem, Payload(kIdp)));
  EXPECT_EQ(confused.status, 401);
  EXPECT_NE(confused.body.find("bad token signature"), std::string::npos) << confused.body;
  EVP_PKEY_free(key);
}

// docs/operations.md (auth.issuer): the server's own tokens carry iss/aud "caseledger" unless configured otherwise;
// once configured, tokens with the defaults are refused.
TEST(ExternalIdpTest, TheServersOwnIssuerAndAudienceAreConfigurable) {
  TestServer server([](api::ServiceOptions& o) {
    o.issuer = "regione-piemonte";
    o.audience = "caseledger-prod";
  });
  HttpClient http(server.port());
  std::string error;
  auto key = api::LoadKeyFile(server.service().auth_key_path(), &error);
  ASSERT_TRUE(key) << error;
  auto token = [&](const std::string& iss, const std::string& aud) {
    api::TokenClaims claims;
    claims.subject = TestServer::kDefaultSubject;
    claims.issuer = iss;
    claims.audience = aud;
    claims.expires_at = std::chrono::duration_cast<std::chrono::seconds>(
                            std::chrono::system_clock::now().time_since_epoch()).count() + 600;
    return api::SignToken(claims, *key);
  };
  EXPECT_EQ(http.Get("/v1/rules", token("regione-piemonte", "caseledger-prod")).status, 200);
  EXPECT_EQ(http.Get("/v1/rules", server.Token()).status, 401);  // iss/aud caseledger
  EXPECT_EQ(http.Get("/v1/rules", token("regione-piemonte", "caseledger")).status, 401);
  EXPECT_EQ(http.Get("/v1/rules", token("caseledger", "caseledger-prod")).status, 401);
}

}  // namespace
}  // namespace caseledger::testing
