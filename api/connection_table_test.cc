#include "api/connection_table.h"

#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

namespace caseledger::api {
namespace {

using Verdict = ConnectionTable::Verdict;

// A cancel that records which connection it was for.
struct Cancels {
  std::vector<int> ran;
  ConnectionTable::Cancel For(int n) {
    return [this, n] { ran.push_back(n); };
  }
  void Run(const std::vector<ConnectionTable::Cancel>& cs) {
    for (const auto& c : cs) c();
  }
};

TEST(ConnectionTableTest, BusyConnectionsAreNeverTakenAwayTheNewcomerIsRefused) {
  ConnectionTable table({2, 2});
  Cancels c;
  auto a = table.Open("10.0.0.1", c.For(1));
  auto b = table.Open("10.0.0.2", c.For(2));
  ASSERT_EQ(a.verdict, Verdict::kAdmitted);
  ASSERT_EQ(b.verdict, Verdict::kAdmitted);
  auto full = table.Open("10.0.0.3", c.For(3));
  EXPECT_EQ(full.verdict, Verdict::kServerFull);
  EXPECT_TRUE(full.evict.empty());
  EXPECT_EQ(table.size(), 2u);
  table.Close(a.id);
  EXPECT_EQ(table.Open("10.0.0.3", c.For(3)).verdict, Verdict::kAdmitted);
}

TEST(ConnectionTableTest, AtTheCapTheLongestIdleMakesRoom) {
  ConnectionTable table({2, 2});
  Cancels c;
  auto a = table.Open("10.0.0.1", c.For(1));
  auto b = table.Open("10.0.0.2", c.For(2));
  ASSERT_TRUE(table.SetIdle(b.id, true));
  std::this_thread::sleep_for(std::chrono::milliseconds(2));
  ASSERT_TRUE(table.SetIdle(a.id, true));  // b has been idle longer
  auto d = table.Open("10.0.0.3", c.For(3));
  ASSERT_EQ(d.verdict, Verdict::kAdmitted);
  c.Run(d.evict);
  EXPECT_EQ(c.ran, std::vector<int>{2});
  EXPECT_EQ(table.idle(), 1u);  // a; b is on its way out
  table.Close(b.id);            // its session ends: counted once only
  EXPECT_EQ(table.size(), 2u);
  EXPECT_EQ(table.Open("10.0.0.4", c.For(4)).verdict, Verdict::kAdmitted);  // a makes room
  EXPECT_EQ(table.Open("10.0.0.5", c.For(5)).verdict, Verdict::kServerFull);
}

TEST(ConnectionTableTest, PerClientCapTakesTheClientsOwnIdleFirst) {
  ConnectionTable table({100, 2});
  Cancels c;
  auto other = table.Open("10.0.0.9", c.For(9));
  ASSERT_TRUE(table.SetIdle(other.id, true));
  auto a = table.Open("10.0.0.1", c.For(1));
  auto b = table.Open("10.0.0.1", c.For(2));
  auto refused = table.Open("10.0.0.1", c.For(3));
  EXPECT_EQ(refused.verdict, Verdict::kClientFull);  // both of its own are busy
  EXPECT_TRUE(refused.evict.empty());
  ASSERT_TRUE(table.SetIdle(a.id, true));
  auto d = table.Open("10.0.0.1", c.For(4));
  ASSERT_EQ(d.verdict, Verdict::kAdmitted);
  c.Run(d.evict);
  EXPECT_EQ(c.ran, std::vector<int>{1});  // its own idle one, not 10.0.0.9's
  // Another client is not limited by this one.
  EXPECT_EQ(table.Open("10.0.0.2", c.For(5)).verdict, Verdict::kAdmitted);
  (void)b;
}

TEST(ConnectionTableTest, EvictOldestIdleForDescriptorsAndStop) {
  ConnectionTable table({10, 10});
  Cancels c;
  EXPECT_FALSE(table.EvictOldestIdle());
  auto a = table.Open("10.0.0.1", c.For(1));
  auto b = table.Open("10.0.0.1", c.For(2));
  ASSERT_TRUE(table.SetIdle(a.id, true));
  auto evict = table.EvictOldestIdle();
  ASSERT_TRUE(evict);
  evict();
  EXPECT_EQ(c.ran, std::vector<int>{1});
  EXPECT_FALSE(table.EvictOldestIdle());  // b is busy
  auto idle = table.Stop();
  EXPECT_TRUE(idle.empty());
  EXPECT_FALSE(table.SetIdle(b.id, true)) << "after Stop a connection closes instead of waiting";
  EXPECT_EQ(table.Open("10.0.0.3", c.For(3)).verdict, Verdict::kStopping);
}

TEST(ConnectionTableTest, StopHandsBackTheIdleOnes) {
  ConnectionTable table({10, 10});
  Cancels c;
  auto a = table.Open("10.0.0.1", c.For(1));
  table.Open("10.0.0.1", c.For(2));
  ASSERT_TRUE(table.SetIdle(a.id, true));
  c.Run(table.Stop());
  EXPECT_EQ(c.ran, std::vector<int>{1});
}

// The slots a session holds: idle and busy without the table's lock, the table's choice by
// the idle time it last saw, and an evicted connection that went idle again is handed back
// at Stop (it is still open) but never taken or counted a second time.
TEST(ConnectionTableTest, SlotsMarkIdleAndBusyAndAnEvictedOneIsTakenOnce) {
  ConnectionTable table({3, 3});
  Cancels c;
  auto a = table.Open("10.0.0.1", c.For(1));
  auto b = table.Open("10.0.0.2", c.For(2));
  ASSERT_NE(a.slot, nullptr);
  ASSERT_NE(b.slot, nullptr);
  ASSERT_TRUE(table.SetIdle(a.slot, true));
  ASSERT_TRUE(table.SetIdle(b.slot, true));
  ASSERT_TRUE(table.SetIdle(a.slot, false));  // a began a request: b is the only idle one
  EXPECT_EQ(table.idle(), 1u);
  auto evict = table.EvictOldestIdle();
  ASSERT_TRUE(evict);
  evict();
  EXPECT_EQ(c.ran, std::vector<int>{2});
  EXPECT_EQ(table.idle(), 0u);
  EXPECT_FALSE(table.EvictOldestIdle()) << "a is busy, b already taken";
  // b's cancel lost the race (it read a request first), then waits again: idle to nobody,
  // and its place stays free for a newcomer.
  ASSERT_TRUE(table.SetIdle(b.slot, false));
  ASSERT_TRUE(table.SetIdle(b.slot, true));
  EXPECT_FALSE(table.EvictOldestIdle());
  EXPECT_EQ(table.Open("10.0.0.3", c.For(3)).verdict, Verdict::kAdmitted);
  EXPECT_EQ(table.Open("10.0.0.4", c.For(4)).verdict, Verdict::kAdmitted);
  EXPECT_EQ(table.Open("10.0.0.5", c.For(5)).verdict, Verdict::kServerFull);
  c.ran.clear();
  c.Run(table.Stop());
  EXPECT_EQ(c.ran, std::vector<int>{2}) << "the open, idle, evicted b is cancelled at shutdown";
  EXPECT_FALSE(table.SetIdle(a.slot, true)) << "after Stop a connection closes instead of waiting";
  EXPECT_EQ(table.idle(), 0u);
}

// Connections flipping between idle and busy on other threads while the table evicts:
// every eviction takes a connection at an idle time it saw, each connection at most once,
// and the counts stay exact.
TEST(ConnectionTableTest, EvictionsRaceConnectionsThatComeAndGo) {
  constexpr int kConnections = 8;
  ConnectionTable table({kConnections, kConnections});
  std::vector<std::atomic<int>> cancelled(kConnections);
  std::vector<ConnectionTable::Decision> opened;
  for (int i = 0; i < kConnections; ++i) {
    opened.push_back(table.Open("10.0.0." + std::to_string(i), [&cancelled, i] { ++cancelled[i]; }));
    ASSERT_EQ(opened.back().verdict, Verdict::kAdmitted);
  }
  std::atomic<bool> done{false};
  std::vector<std::thread> flippers;
  for (int i = 0; i < kConnections; ++i) {
    flippers.emplace_back([&, i] {
      while (!done) {
        table.SetIdle(opened[i].slot, true);
        table.SetIdle(opened[i].slot, false);
      }
    });
  }
  int taken = 0;
  for (int round = 0; round < 20000 && taken < kConnections; ++round) {
    if (auto evict = table.EvictOldestIdle()) {
      evict();
      ++taken;
    }
  }
  done = true;
  for (auto& t : flippers) t.join();
  for (int i = 0; i < kConnections; ++i) EXPECT_LE(cancelled[i].load(), 1) << i;
  int total = 0;
  for (auto& n : cancelled) total += n;
  EXPECT_EQ(total, taken);
  // The taken ones no longer count: as many newcomers fit, and one more does not.
  for (int i = 0; i < taken; ++i) EXPECT_EQ(table.Open("10.1.0.1", [] {}).verdict, Verdict::kAdmitted);
  EXPECT_EQ(table.Open("10.1.0.2", [] {}).verdict, Verdict::kServerFull);
}

}  // namespace
}  // namespace caseledger::api
