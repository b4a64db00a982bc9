#include "api/accept_backoff.h"

#include <gtest/gtest.h>

namespace caseledger::api {
namespace {

using namespace std::chrono_literals;

TEST(AcceptBackoffTest, DelayDoublesUpToTheMaxAndResetsOnSuccess) {
  AcceptBackoff b({5ms, 40ms, 5'000ms});
  auto t = AcceptBackoff::Clock::now();
  EXPECT_EQ(b.Failed(t).wait, 5ms);
  EXPECT_EQ(b.Failed(t).wait, 10ms);
  EXPECT_EQ(b.Failed(t).wait, 20ms);
  EXPECT_EQ(b.Failed(t).wait, 40ms);
  EXPECT_EQ(b.Failed(t).wait, 40ms);
  b.Succeeded();
  EXPECT_EQ(b.Failed(t).wait, 5ms);
}

// 10,000 failures within a few seconds make one line per period, and each line counts
// the failures since the previous one.
TEST(AcceptBackoffTest, OneLogLinePerPeriodCountingTheRest) {
  AcceptBackoff b({1ms, 1ms, 5'000ms});
  auto t = AcceptBackoff::Clock::now();
  int lines = 0;
  uint64_t counted = 0;
  for (int i = 0; i < 10'000; ++i) {
    auto step = b.Failed(t + std::chrono::milliseconds(i));  // 10 s of failures, 1 per ms
    if (step.log) {
      ++lines;
      counted += step.failures;
    }
  }
  EXPECT_EQ(lines, 2);  // at 0 s and at 5 s
  auto last = b.Failed(t + 10'000ms);
  EXPECT_TRUE(last.log);
  EXPECT_EQ(counted + last.failures, 10'001u);
}

}  // namespace
}  // namespace caseledger::api
