#include "eventstore/written_claims.h"

#include <gtest/gtest.h>

namespace caseledger::eventstore {
namespace {

TEST(WrittenClaimsTest, AClaimPutIsFoundUntilItIsErased) {
  WrittenClaims claims;
  EXPECT_FALSE(claims.Find("swab/S1").has_value());
  claims.Put("swab/S1", "person-a");
  ASSERT_TRUE(claims.Find("swab/S1").has_value());
  EXPECT_EQ(*claims.Find("swab/S1"), "person-a");
  claims.Put("swab/S1", "person-b");  // released and taken again in one group
  EXPECT_EQ(*claims.Find("swab/S1"), "person-b");
  claims.Erase("swab/S1");
  EXPECT_FALSE(claims.Find("swab/S1").has_value());
}

// A tax code's claim (its keyed hash) stays in the database alone, where an erasure's
// purge reaches it.
TEST(WrittenClaimsTest, APersonalClaimIsNeverKept) {
  WrittenClaims claims;
  claims.Put("taxcode/0a1b2c", "person-a");
  claims.Fill("taxcode/0a1b2c", "person-a", claims.Generation("taxcode/0a1b2c"));
  EXPECT_FALSE(claims.Find("taxcode/0a1b2c").has_value());
}

// An owner read from the database is kept only if nothing changed the claim's shard since
// the read began: a release committed meanwhile would otherwise be undone by the fill.
TEST(WrittenClaimsTest, AFillIsKeptUnlessTheShardChangedSinceTheReadBegan) {
  WrittenClaims claims;
  uint64_t before = claims.Generation("swab/S2");
  claims.Fill("swab/S2", "person-a", before);
  EXPECT_EQ(*claims.Find("swab/S2"), "person-a");

  before = claims.Generation("swab/S3");
  claims.Erase("swab/S3");  // released while the read ran
  claims.Fill("swab/S3", "person-a", before);
  EXPECT_FALSE(claims.Find("swab/S3").has_value());

  before = claims.Generation("swab/S4");
  claims.Put("swab/S4", "person-b");  // taken again while the read ran
  claims.Fill("swab/S4", "person-a", before);
  EXPECT_EQ(*claims.Find("swab/S4"), "person-b");

  before = claims.Generation("swab/S5");
  claims.Clear();
  claims.Fill("swab/S5", "person-a", before);
  EXPECT_FALSE(claims.Find("swab/S5").has_value());
}

TEST(WrittenClaimsTest, StaysWithinItsCapacityAndForgetsOnClear) {
  WrittenClaims claims(64);
  for (int i = 1; i <= 10'000; ++i) claims.Put("swab/S" + std::to_string(i), "person-" + std::to_string(i));
  size_t found = 0;
  for (int i = 1; i <= 10'000; ++i) {
    auto owner = claims.Find("swab/S" + std::to_string(i));
    if (owner) {
      EXPECT_EQ(*owner, "person-" + std::to_string(i));
      ++found;
    }
  }
  EXPECT_GT(found, 0u);
  EXPECT_LE(found, 64u + 16u);  // a shard holds at most capacity / 16 + 1
  claims.Put("swab/X", "person-x");
  claims.Clear();
  EXPECT_FALSE(claims.Find("swab/X").has_value());
}

}  // namespace
}  // namespace caseledger::eventstore
