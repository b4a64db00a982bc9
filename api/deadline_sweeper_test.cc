// The sweeper expires exactly the deadlines whose operation is pending past their point,
// within a tick, and lets its io_context end once no deadline is left.
#include "api/deadline_sweeper.h"

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include <gtest/gtest.h>

namespace caseledger::api {
namespace {

using namespace std::chrono_literals;
using Clock = Deadline::Clock;

TEST(DeadlineSweeperTest, ExpiresOnlyPendingOperationsPastTheirPointWithinATick) {
  boost::asio::io_context ioc;
  DeadlineSweeper sweeper(ioc, 200ms);
  ASSERT_EQ(sweeper.tick(), 20ms);
  Clock::time_point slow_expired{}, idle_expired{}, quick_expired{};
  auto slow = std::make_unique<Deadline>(sweeper, [&] { slow_expired = Clock::now(); });
  auto idle = std::make_unique<Deadline>(sweeper, [&] { idle_expired = Clock::now(); });
  auto quick = std::make_unique<Deadline>(sweeper, [&] { quick_expired = Clock::now(); });
  const auto start = Clock::now();
  slow->ExpiresAfter(200ms);
  slow->Begin();  // an operation that never completes
  idle->ExpiresAfter(200ms);  // past its point with nothing pending: left alone
  quick->ExpiresAfter(200ms);
  quick->Begin();
  boost::asio::steady_timer done_quickly(ioc, 50ms);
  done_quickly.async_wait([&](boost::system::error_code) { quick->End(); });
  boost::asio::steady_timer stop(ioc, 500ms);
  stop.async_wait([&](boost::system::error_code) { ioc.stop(); });
  ioc.run();

  ASSERT_NE(slow_expired, Clock::time_point{});
  EXPECT_TRUE(slow->expired());
  EXPECT_GE(slow_expired - start, 200ms);
  EXPECT_LE(slow_expired - start, 200ms + 20ms + 100ms);  // a tick, and a loaded machine
  EXPECT_EQ(idle_expired, Clock::time_point{});
  EXPECT_FALSE(idle->expired());
  EXPECT_EQ(quick_expired, Clock::time_point{});
  EXPECT_FALSE(quick->expired());
}

TEST(DeadlineSweeperTest, TheIoContextEndsWhenTheLastDeadlineIsGone) {
  boost::asio::io_context ioc;
  DeadlineSweeper sweeper(ioc, 10s);  // a tick of 1 s
  auto a = std::make_unique<Deadline>(sweeper, [] {});
  auto b = std::make_unique<Deadline>(sweeper, [] {});
  EXPECT_EQ(sweeper.size(), 2u);
  boost::asio::post(ioc, [&] {
    a.reset();
    b.reset();
  });
  const auto start = Clock::now();
  ioc.run();  // returns only when nothing is pending: the sweeper's timer was cancelled
  EXPECT_LT(Clock::now() - start, 500ms);
  EXPECT_EQ(sweeper.size(), 0u);
}

// As when the server's sweepers go before the io_contexts that hold sessions' frames: the
// sweeper's cancelled wait runs once, touching nothing, and a deadline destroyed afterwards
// only leaves the list it shared (the sanitizer build sees a use after free otherwise).
TEST(DeadlineSweeperTest, ADeadlineMayOutliveItsSweeper) {
  boost::asio::io_context ioc;
  auto sweeper = std::make_unique<DeadlineSweeper>(ioc, 1s);
  bool expired = false;
  auto d = std::make_unique<Deadline>(*sweeper, [&] { expired = true; });
  d->ExpiresAfter(0s);
  d->Begin();
  sweeper.reset();
  EXPECT_EQ(ioc.run(), 1u);  // the cancelled wait, at once: no sweep is left to run
  EXPECT_FALSE(expired);
  d.reset();
}

}  // namespace
}  // namespace caseledger::api
