// VerifiedTokens: a cached verification answers as VerifyToken does, and exp/nbf are still
// checked on every call.
#include "api/token_cache.h"

#include <gtest/gtest.h>

namespace caseledger::api {
namespace {

constexpr int64_t kNow = 1'700'000'000;

JwtKey Key(const char* secret) { return *JwtKey::FromSecret(secret); }

std::string Token(const JwtKey& key, int64_t expires_at, int64_t not_before = 0) {
  TokenClaims claims;
  claims.subject = "operator-1";
  claims.issued_at = kNow - 10;
  claims.not_before = not_before;
  claims.expires_at = expires_at;
  return SignToken(claims, key);
}

class VerifiedTokensTest : public ::testing::Test {
 protected:
  std::vector<JwtSigner> signers_{JwtSigner{Key("0123456789abcdef0123456789abcdef")}};
  VerifiedTokens tokens_{signers_};
};

TEST_F(VerifiedTokensTest, RepeatedTokenVerifiesWithTheSameClaims) {
  std::string token = Token(std::get<JwtKey>(signers_[0].key), kNow + 3600);
  auto first = tokens_.Verify(token, kNow);
  auto second = tokens_.Verify(token, kNow + 1);
  ASSERT_TRUE(first);
  ASSERT_TRUE(second);
  EXPECT_EQ(second->subject, "operator-1");
  EXPECT_EQ(second->expires_at, first->expires_at);
}

TEST_F(VerifiedTokensTest, CachedTokenExpiresOnTime) {
  std::string token = Token(std::get<JwtKey>(signers_[0].key), kNow + 100);
  ASSERT_TRUE(tokens_.Verify(token, kNow));
  // exp + 60 s leeway, as VerifyToken.
  EXPECT_TRUE(tokens_.Verify(token, kNow + 159));
  auto late = tokens_.Verify(token, kNow + 160);
  ASSERT_FALSE(late);
  EXPECT_EQ(late.error(), JwtError::kExpired);
}

TEST_F(VerifiedTokensTest, NotBeforeIsCheckedOnEveryCall) {
  std::string token = Token(std::get<JwtKey>(signers_[0].key), kNow + 3600, kNow + 30);
  ASSERT_TRUE(tokens_.Verify(token, kNow));  // within the leeway
  auto early = tokens_.Verify(token, kNow - 100);
  ASSERT_FALSE(early);
  EXPECT_EQ(early.error(), JwtError::kNotYetValid);
}

TEST_F(VerifiedTokensTest, OtherKeyAndTamperedTokensAreRefused) {
  std::string good = Token(std::get<JwtKey>(signers_[0].key), kNow + 3600);
  ASSERT_TRUE(tokens_.Verify(good, kNow));
  std::string foreign = Token(Key("ffffffffffffffffffffffffffffffff"), kNow + 3600);
  auto refused = tokens_.Verify(foreign, kNow);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error(), JwtError::kBadSignature);
  std::string tampered = good;
  tampered.back() = tampered.back() == 'A' ? 'B' : 'A';
  EXPECT_FALSE(tokens_.Verify(tampered, kNow));
}

// Subject is Verify's answer reduced to "sub": the same cache, the same refusals.
TEST_F(VerifiedTokensTest, SubjectAnswersAsVerifyDoes) {
  std::string token = Token(std::get<JwtKey>(signers_[0].key), kNow + 100);
  EXPECT_EQ(tokens_.Subject(token, kNow).value(), "operator-1");
  EXPECT_EQ(tokens_.Subject(token, kNow + 1).value(), "operator-1");  // cached
  auto late = tokens_.Subject(token, kNow + 160);
  ASSERT_FALSE(late);
  EXPECT_EQ(late.error(), JwtError::kExpired);
}

// The cache hashes a token's last bytes (its signature's end): a token that shares them with
// a cached one but differs before (a payload changed, the signature kept) is not answered
// from the cache; it is verified, and refused.
TEST_F(VerifiedTokensTest, ATokenEndingAsACachedOneIsStillVerified) {
  std::string good = Token(std::get<JwtKey>(signers_[0].key), kNow + 3600);
  ASSERT_TRUE(tokens_.Verify(good, kNow));
  std::string forged = good;
  const size_t payload = forged.find('.') + 1;
  forged[payload] = forged[payload] == 'e' ? 'f' : 'e';
  ASSERT_EQ(forged.substr(forged.size() - 32), good.substr(good.size() - 32));
  auto refused = tokens_.Subject(forged, kNow);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error(), JwtError::kBadSignature);
  EXPECT_TRUE(tokens_.Subject(good, kNow));
}

TEST_F(VerifiedTokensTest, StaysBoundedAndCorrectPastItsCapacity) {
  VerifiedTokens small(signers_, 16);
  std::vector<std::string> tokens;
  for (int i = 0; i < 100; ++i) tokens.push_back(Token(std::get<JwtKey>(signers_[0].key), kNow + 1000 + i));
  for (const auto& t : tokens) ASSERT_TRUE(small.Verify(t, kNow));
  for (const auto& t : tokens) ASSERT_TRUE(small.Verify(t, kNow));
  EXPECT_FALSE(small.Verify(tokens[0], kNow + 1061));  // exp kNow+1000, +60 leeway
}

}  // namespace
}  // namespace caseledger::api
