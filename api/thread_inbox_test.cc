#include "api/thread_inbox.h"

#include <boost/asio/executor_work_guard.hpp>
#include <gtest/gtest.h>

#include <atomic>
#include <stdexcept>
#include <thread>
#include <vector>

namespace caseledger::api {
namespace {

TEST(ThreadInboxTest, WorkAddedWhileADrainIsQueuedRunsInOrderInThatDrain) {
  boost::asio::io_context ioc(1);
  ThreadInbox inbox(ioc);
  std::vector<int> ran;
  std::vector<std::thread::id> where;
  // Another thread adds a batch while the io_context is not running (its drain is queued).
  std::thread producer([&] {
    for (int i = 0; i < 50; ++i) {
      inbox.Add([&, i] {
        ran.push_back(i);
        where.push_back(std::this_thread::get_id());
      });
    }
  });
  producer.join();
  EXPECT_TRUE(ran.empty()) << "never inline in Add";
  EXPECT_EQ(inbox.drains_posted(), 1u) << "one post for the batch, not one per item";
  ioc.run();
  ASSERT_EQ(ran.size(), 50u);
  for (int i = 0; i < 50; ++i) EXPECT_EQ(ran[i], i);
  for (auto id : where) EXPECT_EQ(id, std::this_thread::get_id());

  // Once drained, the next item posts a drain of its own.
  inbox.Add([&] { ran.push_back(50); });
  EXPECT_EQ(inbox.drains_posted(), 2u);
  ioc.restart();
  ioc.run();
  EXPECT_EQ(ran.size(), 51u);
}

TEST(ThreadInboxTest, HeldWakesPostOneDrainPerInboxWhenReleased) {
  boost::asio::io_context ioc_a(1), ioc_b(1);
  ThreadInbox a(ioc_a), b(ioc_b);
  std::vector<int> ran_a, ran_b;
  ThreadInbox::HoldWakes();
  for (int i = 0; i < 10; ++i) {
    a.Add([&, i] { ran_a.push_back(i); });
    b.Add([&, i] { ran_b.push_back(i); });
  }
  // Another thread's item joins the held drain rather than posting one of its own.
  std::thread([&] { a.Add([&] { ran_a.push_back(10); }); }).join();
  EXPECT_EQ(a.drains_posted(), 0u) << "held: nothing posted before WakeHeld";
  EXPECT_EQ(b.drains_posted(), 0u);
  EXPECT_EQ(ioc_a.poll(), 0u);
  ThreadInbox::WakeHeld();
  EXPECT_EQ(a.drains_posted(), 1u);
  EXPECT_EQ(b.drains_posted(), 1u);
  ioc_a.restart();
  ioc_a.run();
  ioc_b.run();
  ASSERT_EQ(ran_a.size(), 11u);
  for (int i = 0; i <= 10; ++i) EXPECT_EQ(ran_a[i], i);
  ASSERT_EQ(ran_b.size(), 10u);

  // Released: the next item posts its drain at once.
  a.Add([&] { ran_a.push_back(11); });
  EXPECT_EQ(a.drains_posted(), 2u);
  ioc_a.restart();
  ioc_a.run();
  EXPECT_EQ(ran_a.size(), 12u);
}

TEST(ThreadInboxTest, AThrowingItemDoesNotStopTheBatch) {
  boost::asio::io_context ioc(1);
  ThreadInbox inbox(ioc);
  int ran = 0;
  inbox.Add([&] { ++ran; });
  inbox.Add([] { throw std::runtime_error("boom"); });
  inbox.Add([&] { ++ran; });
  ioc.run();
  EXPECT_EQ(ran, 2);
}

TEST(ThreadInboxTest, ItemsFromManyThreadsRunOnceEachInEachThreadsOrder) {
  boost::asio::io_context ioc(1);
  auto guard = boost::asio::make_work_guard(ioc);
  ThreadInbox inbox(ioc);
  std::thread io([&] { ioc.run(); });
  constexpr int kThreads = 4, kItems = 5000;
  std::vector<std::vector<int>> seen(kThreads);  // only the io thread writes
  std::atomic<int> done{0};
  std::vector<std::thread> producers;
  for (int t = 0; t < kThreads; ++t) {
    producers.emplace_back([&, t] {
      for (int i = 0; i < kItems; ++i) {
        inbox.Add([&, t, i] {
          seen[t].push_back(i);
          done.fetch_add(1);
        });
      }
    });
  }
  for (auto& p : producers) p.join();
  // The last items may still be queued: one more item, then wait for the io thread.
  std::atomic<bool> last{false};
  inbox.Add([&] { last = true; });
  for (int i = 0; i < 2000 && !last; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  guard.reset();
  io.join();
  ASSERT_TRUE(last);
  EXPECT_EQ(done.load(), kThreads * kItems);
  for (int t = 0; t < kThreads; ++t) {
    ASSERT_EQ(seen[t].size(), size_t{kItems});
    for (int i = 0; i < kItems; ++i) ASSERT_EQ(seen[t][i], i) << "thread " << t;
  }
}

}  // namespace
}  // namespace caseledger::api
