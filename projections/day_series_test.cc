#include "projections/day_series.h"

#include <gtest/gtest.h>

#include <array>
#include <string>
#include <vector>

namespace caseledger::projections {
namespace {

std::vector<int32_t> RoundTrip(const std::vector<int32_t>& values) {
  std::string bytes = EncodeCounters(values.data(), values.size());
  std::vector<int32_t> back(values.size(), 12345);
  EXPECT_TRUE(DecodeCounters(bytes, back.data(), back.size()));
  return back;
}

// Blocks are mostly zeros: runs of them cost two bytes, whatever their length, and every
// value (zeros at the start, the end, alone, and the extremes) comes back as it was.
TEST(DaySeriesCodecTest, ZeroRunsAreShortAndEveryValueComesBack) {
  std::vector<int32_t> lab(96 * 32, 0);
  EXPECT_LE(EncodeCounters(lab.data(), lab.size()).size(), 4u) << "an empty lab block";
  lab[0] = 3;
  lab[97] = -1;
  lab[98] = 0;
  lab[99] = 70000;
  lab[lab.size() - 1] = INT32_MIN;
  lab[lab.size() - 3] = INT32_MAX;
  EXPECT_LT(EncodeCounters(lab.data(), lab.size()).size(), 40u);
  EXPECT_EQ(RoundTrip(lab), lab);
  std::vector<int32_t> dense{1, -2, 0, 4, 0, 0, 5};
  EXPECT_EQ(RoundTrip(dense), dense);
  std::vector<int32_t> zeros(7, 0);
  EXPECT_EQ(RoundTrip(zeros), zeros);
}

// Blocks written before zero runs (format byte 0x01, a varint per value) are read as they
// are; a run past the block's end or bytes left over are refused.
TEST(DaySeriesCodecTest, BlocksOfTheFormerFormatAreReadAndBadRunsRefused) {
  const std::string former = std::string("\x01\x06\x00\x01\x00", 5);  // 3, 0, -1, 0
  std::array<int32_t, 4> values{};
  ASSERT_TRUE(DecodeCounters(former, values.data(), values.size()));
  EXPECT_EQ(values, (std::array<int32_t, 4>{3, 0, -1, 0}));

  const std::string run_too_long = std::string("\x02\x00\x04", 3);  // 5 zeros into 4
  EXPECT_FALSE(DecodeCounters(run_too_long, values.data(), values.size()));
  const std::string exact = std::string("\x02\x00\x03", 3);  // 4 zeros
  EXPECT_TRUE(DecodeCounters(exact, values.data(), values.size()));
  EXPECT_EQ(values, (std::array<int32_t, 4>{0, 0, 0, 0}));
  const std::string left_over = std::string("\x02\x00\x03\x02", 4);
  EXPECT_FALSE(DecodeCounters(left_over, values.data(), values.size()));
  const std::string unknown = std::string("\x03\x00\x03", 3);
  EXPECT_FALSE(DecodeCounters(unknown, values.data(), values.size()));
}

// A copy shares its blocks with the original until either changes one: the block Add
// changed last stays the original's (the copy owns none), whichever is changed next, and
// however the copy was made.
TEST(DaySeriesTest, ACopyAndItsOriginalChangeApart) {
  const domain::Date day{18600}, later{18601}, other_block{18700};
  DaySeries<2> original;
  original.Add(day, 0, 1);
  original.Add(later, 1, 2);  // the block now held for the next Add
  DaySeries<2> copy(original);
  copy.Add(day, 0, 10);
  original.Add(later, 1, 3);
  EXPECT_EQ(original.At(day)[0], 1);
  EXPECT_EQ(copy.At(day)[0], 11);
  EXPECT_EQ(original.At(later)[1], 5);
  EXPECT_EQ(copy.At(later)[1], 2);
  EXPECT_EQ(original.Total(1), 5);
  EXPECT_EQ(copy.Total(0), 11);

  DaySeries<2> assigned;
  assigned.Add(other_block, 0, 7);
  assigned = copy;
  assigned.Add(day, 0, 100);
  EXPECT_EQ(copy.At(day)[0], 11);
  EXPECT_EQ(assigned.At(day)[0], 111);
  EXPECT_EQ(assigned.At(other_block)[0], 0);
  copy.Add(day, 0, 1000);
  EXPECT_EQ(assigned.At(day)[0], 111);
  EXPECT_EQ(copy.At(day)[0], 1011);
}

TEST(DaySeriesTest, AnOriginalChangedBeforeItsCopyLeavesTheCopyAsItWas) {
  const domain::Date day{18600};
  DaySeries<1> original;
  original.Add(day, 0, 1);  // the block now held for the next Add
  const DaySeries<1> copy(original);
  original.Add(day, 0, 10);
  EXPECT_EQ(copy.At(day)[0], 1) << "the original wrote into the block its copy shares";
  EXPECT_EQ(original.At(day)[0], 11);

  DaySeries<1> assigned;
  assigned = original;
  original.Add(day, 0, 100);
  EXPECT_EQ(assigned.At(day)[0], 11);
  EXPECT_EQ(original.At(day)[0], 111);
}

}  // namespace
}  // namespace caseledger::projections
