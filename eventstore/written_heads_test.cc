#include "eventstore/written_heads.h"

#include <gtest/gtest.h>

namespace caseledger::eventstore {
namespace {

TEST(WrittenHeadsTest, AStreamNeverWrittenIsNotFound) {
  WrittenHeads heads;
  EXPECT_FALSE(heads.Find("person-a").has_value());
}

TEST(WrittenHeadsTest, KeepsTheNewerHeadWhateverTheOrderOfPuts) {
  WrittenHeads heads;
  heads.Put("person-a", {3, 30});
  heads.Put("person-a", {2, 20});  // older: ignored
  ASSERT_TRUE(heads.Find("person-a").has_value());
  EXPECT_EQ(heads.Find("person-a")->version, 3u);
  EXPECT_EQ(heads.Find("person-a")->last_position, 30u);
  heads.Put("person-a", {4, 41});
  EXPECT_EQ(heads.Find("person-a")->version, 4u);
}

TEST(WrittenHeadsTest, StaysWithinItsCapacityAndForgetsOnClear) {
  WrittenHeads heads(64);
  for (uint64_t i = 1; i <= 10'000; ++i) heads.Put("person-" + std::to_string(i), {1, i});
  size_t found = 0;
  for (uint64_t i = 1; i <= 10'000; ++i) found += heads.Find("person-" + std::to_string(i)).has_value();
  EXPECT_GT(found, 0u);
  EXPECT_LE(found, 64u + 16u);  // a shard holds at most capacity / 16 + 1
  heads.Put("person-x", {1, 1});
  heads.Clear();
  EXPECT_FALSE(heads.Find("person-x").has_value());
}

// A head read from the database is kept, but never over a newer one, and not when the
// shard was emptied between the read's start and its Fill (the read may predate a Put
// that the emptying took away).
TEST(WrittenHeadsTest, AFillKeepsAHeadReadUnlessTheShardWasEmptiedSinceTheReadBegan) {
  WrittenHeads heads;
  uint64_t generation = heads.Generation("users");
  heads.Fill("users", {7, 70}, generation);
  ASSERT_TRUE(heads.Find("users").has_value());
  EXPECT_EQ(heads.Find("users")->version, 7u);

  generation = heads.Generation("person-a");
  heads.Put("person-a", {5, 50});          // written while the read ran
  heads.Fill("person-a", {4, 40}, generation);  // the read saw the head before it
  EXPECT_EQ(heads.Find("person-a")->version, 5u);

  generation = heads.Generation("person-b");
  heads.Clear();  // heads written another way
  heads.Fill("person-b", {2, 20}, generation);
  EXPECT_FALSE(heads.Find("person-b").has_value());

  WrittenHeads small(16);  // two heads per shard
  generation = small.Generation("person-c");
  for (uint64_t i = 1; i <= 200; ++i) small.Put("person-" + std::to_string(i), {1, i});  // every shard emptied
  small.Fill("person-c", {3, 30}, generation);
  EXPECT_FALSE(small.Find("person-c").has_value());
  generation = small.Generation("person-c");
  small.Fill("person-c", {3, 30}, generation);
  EXPECT_EQ(small.Find("person-c")->version, 3u);
}

}  // namespace
}  // namespace caseledger::eventstore
