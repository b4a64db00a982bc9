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

}  // namespace
}  // namespace caseledger::eventstore
