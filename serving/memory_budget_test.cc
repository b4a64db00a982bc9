#include "serving/memory_budget.h"

#include <gtest/gtest.h>

namespace caseledger::serving {
namespace {

size_t Sum(const MemoryBudget& b) {
  // The views database may hold two memtables (one filling, one being written).
  return b.store_block_cache + b.store_write_buffers + b.views_block_cache + 2 * b.views_write_buffer +
         b.person_records + b.api_person_cache;
}

TEST(MemoryBudgetTest, PartsAddUpToTheBudget) {
  for (size_t mib : {64, 640, 1000, 4096}) {
    const MemoryBudget b = SplitMemoryBudget(mib << 20);
    EXPECT_EQ(Sum(b), mib << 20) << mib;
    EXPECT_GT(b.person_records, b.store_block_cache) << mib;
    EXPECT_GT(b.api_person_cache, 0u) << mib;
    EXPECT_GT(b.views_write_buffer, 0u) << mib;
  }
}

TEST(MemoryBudgetTest, ACatchUpsMemtablesTakeTheStoresShareAndNoMore) {
  for (size_t mib : {64, 640, 4096}) {
    const MemoryBudget b = SplitMemoryBudget(mib << 20);
    EXPECT_GT(b.views_catch_up_write_buffer, b.views_write_buffer) << mib;
    // Two catch-up memtables fit in the views' two, the store's memtables and its cache.
    EXPECT_LE(2 * b.views_catch_up_write_buffer,
              2 * b.views_write_buffer + b.store_write_buffers + b.store_block_cache)
        << mib;
  }
}

TEST(MemoryBudgetTest, NoneGivenMeansTheDefault) {
  const MemoryBudget b = SplitMemoryBudget(0);
  EXPECT_EQ(Sum(b), kDefaultMemoryBudget);
  EXPECT_EQ(b.store_block_cache, kDefaultMemoryBudget / 5);
}

TEST(MemoryBudgetTest, EveryPartScalesWithTheBudget) {
  const MemoryBudget small = SplitMemoryBudget(size_t{256} << 20), large = SplitMemoryBudget(size_t{1024} << 20);
  // Within the rounding of integer shares.
  EXPECT_NEAR(double(large.store_block_cache), 4.0 * small.store_block_cache, 4);
  EXPECT_NEAR(double(large.views_write_buffer), 4.0 * small.views_write_buffer, 4);
  EXPECT_NEAR(double(large.person_records), 4.0 * small.person_records, 16);
  EXPECT_NEAR(double(large.api_person_cache), 4.0 * small.api_person_cache, 4);
}

}  // namespace
}  // namespace caseledger::serving
