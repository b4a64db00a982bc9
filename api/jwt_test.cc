#include "api/jwt.h"

#include "tests/support/temp_dir.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>

namespace caseledger::api {
namespace {

constexpr char kSecret[] = "0123456789abcdef0123456789abcdef";  // 32 bytes
constexpr int64_t kNow = 1'700'000'000;
constexpr char kGoodPayload[] =
    R"({"iss":"caseledger","aud":"caseledger","sub":"alice","exp":1700003600})";

JwtKey Key(std::string secret = kSecret) { return *JwtKey::FromSecret(std::move(secret)); }

JwtVerifyOptions Options(int64_t now = kNow) {
  JwtVerifyOptions options;
  options.now = now;
  return options;
}

std::string Hs256(std::string_view secret, std::string_view input) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(input.data()), input.size(), out, &len);
  return std::string(reinterpret_cast<const char*>(out), len);
}

// Any header and payload, with a correct HS256 signature under kSecret: so that a rejection
// can only come from what the test changed.
std::string Forge(std::string_view header, std::string_view payload) {
  std::string input = Base64UrlEncode(header) + "." + Base64UrlEncode(payload);
  return input + "." + Base64UrlEncode(Hs256(kSecret, input));
}

std::string ForgePayload(std::string_view payload) {
  return Forge(R"({"alg":"HS256","typ":"JWT"})", payload);
}

JwtError ErrorOf(std::string_view token, JwtVerifyOptions options = Options()) {
  auto result = VerifyToken(token, Key(), options);
  EXPECT_FALSE(result.has_value()) << "accepted: " << token;
  return result.has_value() ? JwtError::kMalformed : result.error();
}

TokenClaims Claims() {
  TokenClaims claims;
  claims.subject = "alice";
  claims.issued_at = kNow;
  claims.expires_at = kNow + 3600;
  claims.token_id = "t1";
  return claims;
}

TEST(JwtTest, SignedTokenVerifiesWithItsClaims) {
  auto result = VerifyToken(SignToken(Claims(), Key()), Key(), Options());
  ASSERT_TRUE(result.has_value()) << ToString(result.error());
  EXPECT_EQ(result->subject, "alice");
  EXPECT_EQ(result->issuer, "caseledger");
  EXPECT_EQ(result->audience, "caseledger");
  EXPECT_EQ(result->issued_at, kNow);
  EXPECT_EQ(result->not_before, 0);
  EXPECT_EQ(result->expires_at, kNow + 3600);
  EXPECT_EQ(result->token_id, "t1");
}

TEST(JwtTest, SignedTokenMatchesIndependentComputation) {
  // Computed with Python's hmac and base64 modules from the same claims and key.
  TokenClaims claims = Claims();
  claims.expires_at = 2'000'000'000;
  EXPECT_EQ(
      SignToken(claims, Key()),
      "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9."
      "eyJpc3MiOiJjYXNlbGVkZ2VyIiwic3ViIjoiYWxpY2UiLCJhdWQiOiJjYXNlbGVkZ2VyIiwiZXhwIjoyMDAwMDAw"
      "MDAwLCJpYXQiOjE3MDAwMDAwMDAsImp0aSI6InQxIn0."
      "QrJweiFRm6IYCN49iBY1uA3l6n3O_OcQYju-QhT8h8s");
}

TEST(JwtTest, Rfc7515AppendixA1TokenPassesSignatureAndTimeChecks) {
  // RFC 7515 A.1: iss "joe", exp 1300819380, no "sub" and no "aud". With the right key it
  // gets past header, signature, exp and iss and stops at the audience we require.
  auto key = JwtKey::FromSecret(*Base64UrlDecode(
      "AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow"));
  ASSERT_TRUE(key.has_value());
  const std::string token =
      "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9."
      "eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVl"
      "fQ."
      "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
  JwtVerifyOptions options;
  options.issuer = "joe";
  options.now = 1300819000;
  auto result = VerifyToken(token, *key, options);
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error(), JwtError::kWrongAudience);

  options.now = 1300819380 + 61;
  EXPECT_EQ(VerifyToken(token, *key, options).error(), JwtError::kExpired);
  options.now = 1300819000;
  std::string flipped = token;
  flipped.back() = 'g';  // keeps the unused low bits zero
  EXPECT_EQ(VerifyToken(flipped, *key, options).error(), JwtError::kBadSignature);
  EXPECT_EQ(VerifyToken(token, Key(), options).error(), JwtError::kBadSignature);
}

TEST(JwtTest, TamperedPartsAreRejected) {
  std::string token = SignToken(Claims(), Key());
  size_t dot1 = token.find('.'), dot2 = token.rfind('.');
  TokenClaims bob = Claims();
  bob.subject = "bob";
  std::string other = SignToken(bob, Key());
  // bob's payload under alice's signature.
  std::string swapped =
      token.substr(0, dot1) + other.substr(dot1, other.rfind('.') - dot1) + token.substr(dot2);
  EXPECT_EQ(ErrorOf(swapped), JwtError::kBadSignature);
  std::string signature = token;
  signature[dot2 + 5] = signature[dot2 + 5] == 'A' ? 'B' : 'A';
  EXPECT_EQ(ErrorOf(signature), JwtError::kBadSignature);
  std::string header = Base64UrlEncode(R"({"alg":"HS256","typ":"JWT","kid":"x"})");
  EXPECT_EQ(ErrorOf(header + token.substr(dot1)), JwtError::kBadSignature);
  EXPECT_EQ(ErrorOf(token.substr(0, dot2 + 1)), JwtError::kBadSignature);  // no signature
  EXPECT_EQ(VerifyToken(token, Key(std::string(kSecret) + "x"), Options()).error(),
            JwtError::kBadSignature);
}

TEST(JwtTest, TokenWithAlgNoneIsRejected) {
  std::string unsigned_token =
      Base64UrlEncode(R"({"alg":"none"})") + "." + Base64UrlEncode(kGoodPayload) + ".";
  EXPECT_EQ(ErrorOf(unsigned_token), JwtError::kBadAlgorithm);
  EXPECT_EQ(ErrorOf(Forge(R"({"alg":"none","typ":"JWT"})", kGoodPayload)), JwtError::kBadAlgorithm);
  EXPECT_EQ(ErrorOf(Forge(R"({"alg":"NONE"})", kGoodPayload)), JwtError::kBadAlgorithm);
}

TEST(JwtTest, OtherAlgorithmsAreRejectedEvenWithAValidHmac) {
  for (const char* header : {R"({"alg":"HS512"})", R"({"alg":"RS256"})", R"({"alg":"hs256"})",
                             R"({"typ":"JWT"})", R"({"alg":256})"}) {
    EXPECT_EQ(ErrorOf(Forge(header, kGoodPayload)), JwtError::kBadAlgorithm) << header;
  }
}

TEST(JwtTest, CriticalExtensionsAndForeignTypesAreRejected) {
  EXPECT_EQ(ErrorOf(Forge(R"({"alg":"HS256","crit":["b64"],"b64":false})", kGoodPayload)),
            JwtError::kMalformed);
  EXPECT_EQ(ErrorOf(Forge(R"({"alg":"HS256","typ":"at+jwt"})", kGoodPayload)),
            JwtError::kMalformed);
  EXPECT_TRUE(VerifyToken(Forge(R"({"alg":"HS256"})", kGoodPayload), Key(), Options()));
  EXPECT_TRUE(VerifyToken(Forge(R"({"alg":"HS256","typ":"jwt"})", kGoodPayload), Key(), Options()));
}

TEST(JwtTest, ExpiryHonoursTheLeeway) {
  std::string token = SignToken(Claims(), Key());  // exp = kNow + 3600, leeway 60
  EXPECT_TRUE(VerifyToken(token, Key(), Options(kNow + 3600 + 59)).has_value());
  EXPECT_EQ(ErrorOf(token, Options(kNow + 3600 + 60)), JwtError::kExpired);
  JwtVerifyOptions strict = Options(kNow + 3600);
  strict.leeway_seconds = 0;
  EXPECT_EQ(ErrorOf(token, strict), JwtError::kExpired);
}

TEST(JwtTest, ExpiryIsRequiredAndMayBeFractional) {
  EXPECT_EQ(ErrorOf(ForgePayload(R"({"iss":"caseledger","aud":"caseledger","sub":"a"})")),
            JwtError::kMalformed);
  EXPECT_EQ(ErrorOf(ForgePayload(R"({"iss":"caseledger","aud":"caseledger","sub":"a","exp":"9"})")),
            JwtError::kMalformed);
  auto result = VerifyToken(
      ForgePayload(R"({"iss":"caseledger","aud":"caseledger","sub":"a","exp":1700003600.75})"),
      Key(), Options());
  ASSERT_TRUE(result.has_value());
  EXPECT_EQ(result->expires_at, 1700003600);
  EXPECT_EQ(ErrorOf(ForgePayload(
                R"({"iss":"caseledger","aud":"caseledger","sub":"a","exp":-9223372036854775808})")),
            JwtError::kExpired);
}

TEST(JwtTest, NotBeforeInTheFutureIsRejected) {
  TokenClaims claims = Claims();
  claims.not_before = kNow + 600;
  std::string token = SignToken(claims, Key());
  EXPECT_EQ(ErrorOf(token), JwtError::kNotYetValid);
  EXPECT_TRUE(VerifyToken(token, Key(), Options(kNow + 540)).has_value());  // within leeway
}

TEST(JwtTest, WrongIssuerOrAudienceIsRejected) {
  TokenClaims claims = Claims();
  claims.issuer = "someone-else";
  EXPECT_EQ(ErrorOf(SignToken(claims, Key())), JwtError::kWrongIssuer);
  claims = Claims();
  claims.audience = "another-service";
  EXPECT_EQ(ErrorOf(SignToken(claims, Key())), JwtError::kWrongAudience);
  EXPECT_EQ(ErrorOf(ForgePayload(R"({"aud":"caseledger","sub":"a","exp":1700003600})")),
            JwtError::kWrongIssuer);
  EXPECT_EQ(ErrorOf(ForgePayload(R"({"iss":"caseledger","sub":"a","exp":1700003600})")),
            JwtError::kWrongAudience);
}

TEST(JwtTest, AudienceArrayIsAcceptedWhenItContainsOurs) {
  EXPECT_TRUE(VerifyToken(
      ForgePayload(R"({"iss":"caseledger","aud":["x","caseledger"],"sub":"a","exp":1700003600})"),
      Key(), Options()));
  EXPECT_EQ(
      ErrorOf(ForgePayload(R"({"iss":"caseledger","aud":["x","y"],"sub":"a","exp":1700003600})")),
      JwtError::kWrongAudience);
  EXPECT_EQ(ErrorOf(ForgePayload(R"({"iss":"caseledger","aud":[],"sub":"a","exp":1700003600})")),
            JwtError::kWrongAudience);
  EXPECT_EQ(ErrorOf(ForgePayload(
                R"({"iss":"caseledger","aud":["caseledger",1],"sub":"a","exp":1700003600})")),
            JwtError::kMalformed);
}

TEST(JwtTest, MissingSubjectIsRejected) {
  EXPECT_EQ(ErrorOf(ForgePayload(R"({"iss":"caseledger","aud":"caseledger","exp":1700003600})")),
            JwtError::kMissingSubject);
  EXPECT_EQ(
      ErrorOf(ForgePayload(R"({"iss":"caseledger","aud":"caseledger","sub":"","exp":1700003600})")),
      JwtError::kMissingSubject);
  EXPECT_EQ(
      ErrorOf(ForgePayload(R"({"iss":"caseledger","aud":"caseledger","sub":7,"exp":1700003600})")),
      JwtError::kMalformed);
}

TEST(JwtTest, DuplicateClaimsResolveToTheLastOne) {
  auto result = VerifyToken(
      ForgePayload(
          R"({"iss":"caseledger","aud":"caseledger","sub":"a","sub":"b","exp":1700003600})"),
      Key(), Options());
  ASSERT_TRUE(result.has_value());
  EXPECT_EQ(result->subject, "b");
}

TEST(JwtTest, MalformedTokensAreRejected) {
  std::string token = SignToken(Claims(), Key());
  EXPECT_EQ(ErrorOf(""), JwtError::kMalformed);
  EXPECT_EQ(ErrorOf(token.substr(0, token.rfind('.'))), JwtError::kMalformed);  // 2 segments
  EXPECT_EQ(ErrorOf(token + ".x"), JwtError::kMalformed);                       // 4 segments
  EXPECT_EQ(ErrorOf(token + "="), JwtError::kMalformed);                        // padding
  EXPECT_EQ(ErrorOf("e+J." + token.substr(token.find('.') + 1)), JwtError::kMalformed);
  EXPECT_EQ(ErrorOf(ForgePayload("not json")), JwtError::kMalformed);
  EXPECT_EQ(ErrorOf(ForgePayload(R"(["iss","caseledger"])")), JwtError::kMalformed);
  EXPECT_EQ(ErrorOf(ForgePayload(R"({"iss":"caseledger"} trailing)")), JwtError::kMalformed);
  EXPECT_EQ(ErrorOf(Forge("[]", kGoodPayload)), JwtError::kMalformed);
  std::string big_payload =
      R"({"iss":"caseledger","aud":"caseledger","sub":"a","exp":1700003600,"pad":")" +
      std::string(kMaxTokenBytes, 'x') + "\"}";
  EXPECT_EQ(ErrorOf(ForgePayload(big_payload)), JwtError::kMalformed);
  EXPECT_EQ(ErrorOf(std::string(kMaxTokenBytes + 1, 'A')), JwtError::kMalformed);
}

TEST(JwtTest, Base64UrlFollowsRfc4648AndIsStrict) {
  const char* vectors[][2] = {
      {"", ""},           {"f", "Zg"},          {"fo", "Zm8"},         {"foo", "Zm9v"},
      {"foob", "Zm9vYg"}, {"fooba", "Zm9vYmE"}, {"foobar", "Zm9vYmFy"}};
  for (auto& [plain, encoded] : vectors) {
    EXPECT_EQ(Base64UrlEncode(plain), encoded);
    EXPECT_EQ(Base64UrlDecode(encoded), plain);
  }
  EXPECT_EQ(Base64UrlEncode("\xfb\xff"), "-_8");
  std::string all;
  for (int i = 0; i < 256; ++i) all.push_back(static_cast<char>(i));
  EXPECT_EQ(Base64UrlDecode(Base64UrlEncode(all)), all);
  for (const char* bad : {"Zg==", "Zm9v+", "Zm9/", "Z", "Zm9vY", "Zm 9v", "Zh", "Zm9"}) {
    EXPECT_FALSE(Base64UrlDecode(bad).has_value()) << bad;  // "Zh", "Zm9": non-zero tail bits
  }
}

TEST(JwtTest, KeyShorterThan32BytesIsRefused) {
  EXPECT_FALSE(JwtKey::FromSecret(std::string(31, 'k')).has_value());
  EXPECT_TRUE(JwtKey::FromSecret(std::string(32, 'k')).has_value());
  testing::TempDir dir;
  std::ofstream(dir.Sub("short.key"), std::ios::binary) << std::string(31, 'k');
  std::string error;
  EXPECT_FALSE(LoadKeyFile(dir.Sub("short.key"), &error).has_value());
  EXPECT_NE(error.find("31 bytes"), std::string::npos) << error;
  EXPECT_FALSE(LoadKeyFile(dir.Sub("missing.key"), &error).has_value());
  EXPECT_NE(error.find("missing.key"), std::string::npos) << error;
  EXPECT_FALSE(LoadKeyFile(dir.path(), &error).has_value());  // a directory
}

TEST(JwtTest, KeyFileBytesAreUsedAsTheyAre) {
  testing::TempDir dir;
  std::string secret = std::string(kSecret) + "\n";
  std::ofstream(dir.Sub("auth.key"), std::ios::binary) << secret;
  auto key = LoadKeyFile(dir.Sub("auth.key"), nullptr);
  ASSERT_TRUE(key.has_value());
  EXPECT_EQ(key->secret(), secret);
}

TEST(JwtTest, LoadOrCreateKeyFileCreatesA0600FileAndReusesIt) {
  testing::TempDir dir;
  std::string path = dir.Sub("auth.key");
  std::string error;
  auto created = LoadOrCreateKeyFile(path, &error);
  ASSERT_TRUE(created.has_value()) << error;
  EXPECT_EQ(created->secret().size(), 48u);
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600);
  auto again = LoadOrCreateKeyFile(path, &error);
  ASSERT_TRUE(again.has_value()) << error;
  EXPECT_EQ(again->secret(), created->secret());
  EXPECT_TRUE(VerifyToken(SignToken(Claims(), *created), *again, Options()).has_value());
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir.path()),
                          std::filesystem::directory_iterator()),
            1);  // no temporary file left behind
  auto other = LoadOrCreateKeyFile(dir.Sub("other.key"), &error);
  ASSERT_TRUE(other.has_value());
  EXPECT_NE(other->secret(), created->secret());
  EXPECT_FALSE(LoadOrCreateKeyFile(dir.Sub("no/such/dir/auth.key"), &error).has_value());
}

}  // namespace
}  // namespace caseledger::api
