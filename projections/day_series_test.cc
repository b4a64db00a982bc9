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

}  // namespace
}  // namespace caseledger::projections
