// A group is answered once synced, while its memtable inserts still run (group_commit.cc,
// step 3). Whatever an appender does on hearing its answer, it reads what it was answered:
// the store's reads wait for the watermark to pass the last answered position. Closed-loop
// appenders, each answer handed to a reader thread that reads at once, as a server's
// connection thread does after a command.
#include "eventstore/event_store.h"

#include "tests/support/temp_dir.h"
#include "tests/support/test_store.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <deque>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace caseledger::eventstore {
namespace {

using caseledger::testing::OneEventRequest;
using caseledger::testing::TempDir;

// A store in a fresh directory, opened for each test.
class EarlyAnswerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    StoreOptions o;
    o.path = dir_.Sub("db");
    auto opened = EventStore::Open(o);
    ASSERT_TRUE(opened) << opened.error().message;
    store_ = std::move(*opened);
  }

  TempDir dir_;
  std::unique_ptr<EventStore> store_;
};

TEST_F(EarlyAnswerTest, AReadBegunAfterAnAnswerSeesWhatItAnswered) {
  EventStore& store = *store_;

  constexpr int kAppenders = 64;
  constexpr int kRounds = 40;
  std::mutex mu;
  std::condition_variable cv;
  std::deque<std::pair<int, StoreResult<AppendResult>>> answers;
  auto send = [&](int a, uint64_t version) {
    store.AppendAsync(OneEventRequest("s-" + std::to_string(a), version), [&, a](StoreResult<AppendResult> r) {
      std::lock_guard l(mu);
      answers.emplace_back(a, std::move(r));
      cv.notify_one();
    });
  };
  for (int a = 0; a < kAppenders; ++a) send(a, 0);

  int unseen = 0, behind = 0, failed = 0;
  for (int done = 0; done < kAppenders * kRounds; ++done) {
    std::unique_lock l(mu);
    cv.wait(l, [&] { return !answers.empty(); });
    auto [a, r] = std::move(answers.front());
    answers.pop_front();
    l.unlock();
    if (!r) {
      ++failed;
      continue;
    }
    // Read at once, off the commit thread: the stream's new version, and the log's watermark.
    if (store.CommittedPosition() < r->last_position) ++behind;
    auto events = store.ReadStream(r->stream, r->version, 1);
    if (!events || events->size() != 1 || events->front().position != r->last_position) ++unseen;
    if (done < kAppenders * (kRounds - 1)) send(a, r->version);
  }
  EXPECT_EQ(failed, 0);
  EXPECT_EQ(behind, 0) << "the watermark was behind an answered append";
  EXPECT_EQ(unseen, 0) << "a read after the answer did not find the appended event";
}

// A group is answered inside its own RocksDB write (its memtable hook), so a callback that
// appends at once takes write_mu_ there: a fence's synced put, queued in RocksDB behind that
// write, must not be waiting under write_mu_ meanwhile. Appenders whose callbacks append
// again on the commit thread, and a fence in the middle: the fence returns, nothing asked
// after it is acknowledged, and every acknowledged append is in the log with no gap.
TEST_F(EarlyAnswerTest, AFenceAmidAnswersThatAppendWaitsForNoneOfThem) {
  EventStore& store = *store_;

  constexpr int kAppenders = 64;
  std::atomic<bool> fenced{false};
  std::atomic<int> acked{0}, acked_after_fence{0}, refused{0}, other{0}, stopped{0};
  std::function<void(int, uint64_t)> send = [&](int a, uint64_t version) {
    const bool after_fence = fenced.load();
    store.AppendAsync(OneEventRequest("s-" + std::to_string(a), version), [&, a, after_fence](StoreResult<AppendResult> r) {
      if (r) {
        acked.fetch_add(1);
        if (after_fence) acked_after_fence.fetch_add(1);
        send(a, r->version);  // on the commit thread, inside the group's write
        return;
      }
      (r.error().code == StoreErrorCode::kWritesRefused ? refused : other).fetch_add(1);
      stopped.fetch_add(1);
    });
  };
  for (int a = 0; a < kAppenders; ++a) send(a, 0);
  while (acked.load() < 20 * kAppenders) std::this_thread::sleep_for(std::chrono::milliseconds(1));

  auto fence = std::async(std::launch::async, [&] { return store.Fence(1); });
  if (fence.wait_for(std::chrono::seconds(30)) != std::future_status::ready) {
    ADD_FAILURE() << "the fence did not return in 30 s: it waits under write_mu_ behind a group answering";
    std::_Exit(1);  // its threads wait on each other: the store cannot be closed
  }
  auto result = fence.get();
  ASSERT_TRUE(result) << result.error().message;
  fenced.store(true);
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (stopped.load() < kAppenders && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ASSERT_EQ(stopped.load(), kAppenders) << "appenders still running after the fence";
  EXPECT_EQ(acked_after_fence.load(), 0) << "an append asked after the fence returned was acknowledged";
  EXPECT_EQ(refused.load(), kAppenders);
  EXPECT_EQ(other.load(), 0);
  EXPECT_EQ(store.CommittedPosition(), static_cast<uint64_t>(acked.load())) << "gap or unacknowledged event";
  auto log = store.ReadLog(1, acked.load() + 1);
  ASSERT_TRUE(log) << log.error().message;
  ASSERT_EQ(log->size(), static_cast<size_t>(acked.load()));
  for (size_t i = 0; i < log->size(); ++i) ASSERT_EQ((*log)[i].position, i + 1);
}

}  // namespace
}  // namespace caseledger::eventstore
