#include "projections/sharded_table.h"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <utility>

namespace caseledger::projections {
namespace {

using Pairs = std::set<std::pair<std::string, std::string>>;

// Drains `dirty`, expecting each of `marked` visited, once.
void ExpectDrainedOnceEach(cow::DirtyPairs<std::string>& dirty, const Pairs& marked) {
  Pairs drained;
  size_t visits = 0;
  dirty.Drain([&](std::string_view a, std::string_view b) {
    ++visits;
    drained.emplace(std::string(a), std::string(b));
  });
  EXPECT_EQ(drained, marked);
  EXPECT_EQ(visits, marked.size());
}

// Marks a few pairs over and over, as a school's classes are marked event after event of a
// catch-up that drains once, at its end: the repeats are dropped as the marks grow, and the
// drain visits each pair once.
TEST(DirtyPairsTest, RepeatsAreDroppedAsTheMarksGrowAndEachPairIsDrainedOnce) {
  cow::DirtyPairs<std::string> dirty;
  Pairs marked;
  for (int i = 0; i < 400'000; ++i) {
    const std::string school = "S" + std::to_string(i % 37), label = std::to_string(i % 11) + "A";
    dirty.Mark(school, label);
    marked.emplace(school, label);
    ASSERT_LE(dirty.size(), (size_t{1} << 16) + 1) << "after " << i + 1 << " marks";
  }
  ExpectDrainedOnceEach(dirty, marked);
  EXPECT_EQ(dirty.size(), 0u);
}

// The pairs marked before and after a compaction are all drained, those marked on both
// sides once.
TEST(DirtyPairsTest, PairsMarkedAroundACompactionAreAllDrained) {
  cow::DirtyPairs<std::string> dirty;
  Pairs marked;
  for (int i = 0; i < 200'000; ++i) {
    // Many distinct pairs, each marked twice some way apart: more than the first
    // compaction's threshold of distinct ones.
    const int n = i < 100'000 ? i : i - 100'000;
    const std::string gp = "G" + std::to_string(n % 101), person = "P" + std::to_string(n);
    dirty.Mark(gp, person);
    marked.emplace(gp, person);
  }
  EXPECT_LT(dirty.size(), 200'000u);
  ExpectDrainedOnceEach(dirty, marked);
}

}  // namespace
}  // namespace caseledger::projections
