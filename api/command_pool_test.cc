// CommandPool: every job runs, blocking jobs run side by side, Join() finishes the queue.
#include "api/command_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>

namespace caseledger::api {
namespace {

TEST(CommandPoolTest, RunsEveryJobOnce) {
  std::atomic<int> runs{0};
  {
    CommandPool pool(4);
    for (int i = 0; i < 10'000; ++i) pool.Submit([&] { runs.fetch_add(1); });
  }  // the destructor joins after the queue is done
  EXPECT_EQ(runs.load(), 10'000);
}

TEST(CommandPoolTest, BlockingJobsRunSideBySide) {
  // Eight jobs that each wait for all eight to have started: only eight threads at once
  // can finish them (as appends waiting in one group commit).
  constexpr int kJobs = 8;
  CommandPool pool(kJobs);
  std::mutex mu;
  std::condition_variable cv;
  int started = 0, finished = 0;
  for (int i = 0; i < kJobs; ++i) {
    pool.Submit([&] {
      std::unique_lock l(mu);
      ++started;
      cv.notify_all();
      bool all = cv.wait_for(l, std::chrono::seconds(10), [&] { return started == kJobs; });
      if (all) ++finished;
      cv.notify_all();
    });
  }
  std::unique_lock l(mu);
  ASSERT_TRUE(cv.wait_for(l, std::chrono::seconds(20), [&] { return finished == kJobs; }));
}

TEST(CommandPoolTest, JoinRunsWhatIsQueued) {
  std::atomic<int> runs{0};
  CommandPool pool(1);
  std::mutex gate;
  gate.lock();
  pool.Submit([&] { std::lock_guard g(gate); runs.fetch_add(1); });  // holds the only thread
  for (int i = 0; i < 50; ++i) pool.Submit([&] { runs.fetch_add(1); });
  gate.unlock();
  pool.Join();
  EXPECT_EQ(runs.load(), 51);
}

}  // namespace
}  // namespace caseledger::api
