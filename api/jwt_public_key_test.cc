// RS256/ES256 tokens from an external identity provider, and the algorithm pinned per key.
#include "api/jwt.h"

#include <gtest/gtest.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>

#include <memory>

namespace caseledger::api {
namespace {

constexpr int64_t kNow = 1'700'000'000;
constexpr char kSecret[] = "0123456789abcdef0123456789abcdef";
constexpr char kIdp[] = "https://idp.example.org";

using PKey = std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)>;

// Key pairs are slow to make (RSA): one of each for the whole file.
EVP_PKEY* Rsa() {
  static EVP_PKEY* key = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", size_t{2048});
  return key;
}
EVP_PKEY* Ec() {
  static EVP_PKEY* key = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
  return key;
}

std::string PublicPem(EVP_PKEY* key) {
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PUBKEY(bio, key);
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  std::string pem(data, static_cast<size_t>(len));
  BIO_free(bio);
  return pem;
}

std::string SignWith(EVP_PKEY* key, std::string_view input, bool ecdsa) {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  size_t len = 0;
  EVP_DigestSignInit(ctx, nullptr, EVP_sha256(), nullptr, key);
  EVP_DigestSign(ctx, nullptr, &len, reinterpret_cast<const unsigned char*>(input.data()), input.size());
  std::string sig(len, '\0');
  EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(sig.data()), &len,
                 reinterpret_cast<const unsigned char*>(input.data()), input.size());
  EVP_MD_CTX_free(ctx);
  sig.resize(len);
  if (!ecdsa) return sig;
  // DER -> the R ‖ S form of JWS.
  const unsigned char* p = reinterpret_cast<const unsigned char*>(sig.data());
  ECDSA_SIG* s = d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(sig.size()));
  std::string rs(64, '\0');
  BN_bn2binpad(ECDSA_SIG_get0_r(s), reinterpret_cast<unsigned char*>(rs.data()), 32);
  BN_bn2binpad(ECDSA_SIG_get0_s(s), reinterpret_cast<unsigned char*>(rs.data()) + 32, 32);
  ECDSA_SIG_free(s);
  return rs;
}

std::string Payload(int64_t exp = kNow + 600, int64_t nbf = 0, std::string iss = kIdp,
                    std::string aud = "caseledger") {
  std::string p = R"({"iss":")" + iss + R"(","aud":")" + aud + R"(","sub":"dr-rossi","exp":)" +
                  std::to_string(exp);
  if (nbf != 0) p += R"(,"nbf":)" + std::to_string(nbf);
  return p + "}";
}

std::string Token(const char* alg, std::string_view payload) {
  std::string input = Base64UrlEncode(std::string(R"({"alg":")") + alg + R"(","typ":"JWT"})") + "." +
                      Base64UrlEncode(payload);
  std::string sig;
  if (std::string_view(alg) == "RS256") sig = SignWith(Rsa(), input, false);
  if (std::string_view(alg) == "ES256") sig = SignWith(Ec(), input, true);
  return input + "." + Base64UrlEncode(sig);
}

std::string Hs256Token(std::string_view secret, std::string_view payload) {
  std::string input = Base64UrlEncode(R"({"alg":"HS256","typ":"JWT"})") + "." + Base64UrlEncode(payload);
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(input.data()), input.size(), out, &len);
  return input + "." + Base64UrlEncode(std::string(reinterpret_cast<const char*>(out), len));
}

JwtSigner Idp(JwtAlgorithm alg) {
  std::string error;
  auto key = JwtPublicKey::FromPem(alg, PublicPem(alg == JwtAlgorithm::kRS256 ? Rsa() : Ec()), &error);
  EXPECT_TRUE(key) << error;
  return JwtSigner{*key, kIdp, "caseledger"};
}

JwtError ErrorOf(const std::string& token, const std::vector<JwtSigner>& signers) {
  auto r = VerifyToken(token, signers, kNow);
  EXPECT_FALSE(r) << "accepted " << token;
  return r ? JwtError::kMalformed : r.error();
}

TEST(JwtPublicKeyTest, Rs256AndEs256TokensVerifyWithTheProvidersKeys) {
  std::vector<JwtSigner> signers{Idp(JwtAlgorithm::kRS256), Idp(JwtAlgorithm::kES256)};
  for (const char* alg : {"RS256", "ES256"}) {
    auto r = VerifyToken(Token(alg, Payload()), signers, kNow);
    ASSERT_TRUE(r) << alg << ": " << ToString(r.error());
    EXPECT_EQ(r->subject, "dr-rossi");
    EXPECT_EQ(r->issuer, kIdp);
  }
}

TEST(JwtPublicKeyTest, TamperedPayloadOrSignatureIsRejected) {
  std::vector<JwtSigner> signers{Idp(JwtAlgorithm::kRS256), Idp(JwtAlgorithm::kES256)};
  for (const char* alg : {"RS256", "ES256"}) {
    std::string token = Token(alg, Payload());
    size_t dot1 = token.find('.'), dot2 = token.rfind('.');
    std::string forged = token.substr(0, dot1 + 1) +
                         Base64UrlEncode(R"({"iss":"https://idp.example.org","aud":"caseledger","sub":"admin","exp":1700000600})") +
                         token.substr(dot2);
    EXPECT_EQ(ErrorOf(forged, signers), JwtError::kBadSignature) << alg;
    std::string flipped = token;
    flipped[dot2 + 5] = flipped[dot2 + 5] == 'A' ? 'B' : 'A';
    EXPECT_EQ(ErrorOf(flipped, signers), JwtError::kBadSignature) << alg;
  }
  // An ES256 signature of the wrong length never reaches OpenSSL as garbage.
  std::string token = Token("ES256", Payload());
  std::string short_sig = token.substr(0, token.rfind('.') + 1) + Base64UrlEncode(std::string(63, 'x'));
  EXPECT_EQ(ErrorOf(short_sig, signers), JwtError::kBadSignature);
}

TEST(JwtPublicKeyTest, AlgorithmConfusionIsRejected) {
  // The classic attack: HMAC-sign with the RSA public key's PEM as the secret.
  const std::string pem = PublicPem(Rsa());
  std::vector<JwtSigner> rs_only{Idp(JwtAlgorithm::kRS256)};
  EXPECT_EQ(ErrorOf(Hs256Token(pem, Payload()), rs_only), JwtError::kBadAlgorithm);
  // With the server's own HS256 key also accepted, the public key is still never an HMAC key.
  std::vector<JwtSigner> both{Idp(JwtAlgorithm::kRS256), JwtSigner{*JwtKey::FromSecret(kSecret)}};
  EXPECT_EQ(ErrorOf(Hs256Token(pem, Payload()), both), JwtError::kBadSignature);
  // An ES256 token against an RS256-only config, and RS256 against an HS256-only one.
  EXPECT_EQ(ErrorOf(Token("ES256", Payload()), rs_only), JwtError::kBadAlgorithm);
  std::vector<JwtSigner> hs_only{JwtSigner{*JwtKey::FromSecret(kSecret)}};
  EXPECT_EQ(ErrorOf(Token("RS256", Payload()), hs_only), JwtError::kBadAlgorithm);
  // alg: none, unsigned.
  std::string none = Base64UrlEncode(R"({"alg":"none"})") + "." + Base64UrlEncode(Payload()) + ".";
  EXPECT_EQ(ErrorOf(none, both), JwtError::kBadAlgorithm);
}

TEST(JwtPublicKeyTest, TimeIssuerAndAudienceAreCheckedPerSigner) {
  std::vector<JwtSigner> signers{Idp(JwtAlgorithm::kES256)};
  EXPECT_EQ(ErrorOf(Token("ES256", Payload(kNow - 61)), signers), JwtError::kExpired);
  EXPECT_TRUE(VerifyToken(Token("ES256", Payload(kNow - 30)), signers, kNow));  // within the skew
  EXPECT_EQ(ErrorOf(Token("ES256", Payload(kNow + 600, kNow + 61)), signers), JwtError::kNotYetValid);
  EXPECT_TRUE(VerifyToken(Token("ES256", Payload(kNow + 600, kNow + 30)), signers, kNow));
  EXPECT_EQ(ErrorOf(Token("ES256", Payload(kNow + 600, 0, "caseledger")), signers), JwtError::kWrongIssuer);
  EXPECT_EQ(ErrorOf(Token("ES256", Payload(kNow + 600, 0, kIdp, "other")), signers), JwtError::kWrongAudience);
}

TEST(JwtPublicKeyTest, KeysThatDoNotFitTheirAlgorithmAreRefused) {
  std::string error;
  EXPECT_FALSE(JwtPublicKey::FromPem(JwtAlgorithm::kRS256, PublicPem(Ec()), &error));
  EXPECT_FALSE(JwtPublicKey::FromPem(JwtAlgorithm::kES256, PublicPem(Rsa()), &error));
  EXPECT_FALSE(JwtPublicKey::FromPem(JwtAlgorithm::kHS256, PublicPem(Rsa()), &error));
  EXPECT_FALSE(JwtPublicKey::FromPem(JwtAlgorithm::kRS256, "not a key", &error));
  PKey small(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", size_t{1024}), EVP_PKEY_free);
  EXPECT_FALSE(JwtPublicKey::FromPem(JwtAlgorithm::kRS256, PublicPem(small.get()), &error));
  EXPECT_NE(error.find("2048"), std::string::npos);
  EXPECT_EQ(ParseJwtAlgorithm("RS256"), JwtAlgorithm::kRS256);
  EXPECT_FALSE(ParseJwtAlgorithm("none"));
}

}  // namespace
}  // namespace caseledger::api
