// VerifiedTokens: a cached verification answers as VerifyToken does, and exp/nbf are still
// checked on every call.
#include "api/token_cache.h"

#include <gtest/gtest.h>

namespace caseledger::api {
namespace {

constexpr int64_t kNow = 1'700'000'000;

JwtKey Key(const char* secret) { return *JwtKey::FromSecret(secret); }

std::string Token(const JwtKey& key, int64_t expires_at, int64_t not_before = 0, const char* subject = "operator-1") {
  TokenClaims claims;
  claims.subject = subject;
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

// A connection's last token (VerifiedBearer) answers its repeats under the same checks as
// the shared cache: exp and nbf on every call.
TEST_F(VerifiedTokensTest, AConnectionsLastTokenStillExpiresAndStartsOnTime) {
  const JwtKey& key = std::get<JwtKey>(signers_[0].key);
  std::string token = Token(key, kNow + 100);
  VerifiedBearer last;
  EXPECT_EQ(tokens_.Subject(token, kNow, last).value(), "operator-1");
  EXPECT_EQ(last.token, token);
  EXPECT_EQ(last.subject, "operator-1");
  EXPECT_EQ(tokens_.Subject(token, kNow + 159, last).value(), "operator-1");  // exp + 60 s leeway
  auto late = tokens_.Subject(token, kNow + 160, last);
  ASSERT_FALSE(late);
  EXPECT_EQ(late.error(), JwtError::kExpired);

  std::string early = Token(key, kNow + 3600, kNow + 30);
  VerifiedBearer other;
  ASSERT_TRUE(tokens_.Subject(early, kNow, other));  // nbf within the leeway
  auto before = tokens_.Subject(early, kNow - 100, other);
  ASSERT_FALSE(before);
  EXPECT_EQ(before.error(), JwtError::kNotYetValid);
}

// New signers (the identity provider rotated its keys): the connection's last token is
// verified again, with the new set, not answered from what it was verified with.
TEST_F(VerifiedTokensTest, AConnectionsLastTokenIsVerifiedAgainWhenTheSignersChange) {
  std::string token = Token(std::get<JwtKey>(signers_[0].key), kNow + 3600);
  VerifiedBearer last;
  ASSERT_TRUE(tokens_.Subject(token, kNow, last));
  tokens_.Replace({JwtSigner{Key("ffffffffffffffffffffffffffffffff")}});
  auto refused = tokens_.Subject(token, kNow, last);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error(), JwtError::kBadSignature);
  tokens_.Replace(signers_);
  EXPECT_EQ(tokens_.Subject(token, kNow, last).value(), "operator-1");
}

// Another token on the same connection is its own: a tampered copy of the last one is
// refused (and leaves the last one kept), another subject's token answers as that subject.
TEST_F(VerifiedTokensTest, AnotherTokenOnTheConnectionIsVerifiedOnItsOwn) {
  const JwtKey& key = std::get<JwtKey>(signers_[0].key);
  std::string good = Token(key, kNow + 3600);
  VerifiedBearer last;
  ASSERT_TRUE(tokens_.Subject(good, kNow, last));
  std::string tampered = good;
  tampered.back() = tampered.back() == 'A' ? 'B' : 'A';
  EXPECT_FALSE(tokens_.Subject(tampered, kNow, last));
  EXPECT_EQ(last.token, good);
  std::string second = Token(key, kNow + 3600, 0, "operator-2");
  EXPECT_EQ(tokens_.Subject(second, kNow, last).value(), "operator-2");
  EXPECT_EQ(last.subject, "operator-2");
  EXPECT_EQ(tokens_.Subject(good, kNow, last).value(), "operator-1");
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
