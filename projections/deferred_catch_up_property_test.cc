// A deferred catch-up that does not start from zero, against the sequential runner (the
// reference): views checkpointed part way (by the sequential runner, the pipeline one
// batch at a time, or a deferred catch-up from scratch with its spill), then far behind a
// log rich in events that span people, caught up by CatchUpOverlapped writing every few
// batches (RunnerOptions::catch_up_write_every) through the views database with a
// checkpoint each time (no spill: the database holds people already). Killed in the
// middle (a view throws), reopened with another partition count at the last write, stopped
// on the way, reopened again and finished, with caches of a record or three and a tiny
// of the views database: every view answers exactly as the sequential runner's, and what
// they stored is the same, byte for byte.
//
// pipeline_property_test's crashes are in catch-ups from zero, which spill and reopen at
// zero; its last stretch, the only one it defers from past zero, neither crashes nor (but
// for one shape) writes before its end.
#include "projections/cross_history_test_support.h"
#include "projections/runner_test_support.h"
#include "projections/views_test_support.h"

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <thread>

namespace caseledger::projections {
namespace {

using namespace caseledger::projections::testing;
using domain::Date;

// How the views got to their first checkpoint, past zero.
enum class Start { kSequential, kOneBatchAtATime, kDeferredFromScratch };

struct Shape {
  size_t partitions, threads, batch, cache;
  size_t write_every;  // > batch: the catch-up defers
  Start start = Start::kSequential;
  bool tiny_db = false;       // a views database of 64 KiB memtables and 256 KiB block cache
  std::chrono::milliseconds slow_write{0};  // each write this long: a write behind still runs
  // Events between two writes of a deferred catch-up: whole batches, at least write_every
  // (from where the catch-up starts).
  uint64_t WrittenEvery() const { return (write_every + batch - 1) / batch * batch; }
  std::string Describe() const {
    static const char* kStarts[] = {"sequential", "one batch at a time", "deferred from scratch"};
    return "partitions " + std::to_string(partitions) + " threads " + std::to_string(threads) + " batch " +
           std::to_string(batch) + " cache " + std::to_string(cache) +
           " written every " + std::to_string(write_every) + ", started " + kStarts[static_cast<int>(start)] +
           (tiny_db ? ", tiny database" : "") + (slow_write.count() ? ", slow writes" : "");
  }
};

class DeferredCatchUpPropertyTest : public ::testing::TestWithParam<uint64_t> {};

TEST_P(DeferredCatchUpPropertyTest, AFarBehindCatchUpPastZeroBuildsTheSequentialRunnersViews) {
  TestLog log;
  // Two thousand people or so: more than the records a deferred catch-up keeps while it
  // writes (every person changed since the write before the last: BatchPipeline::Evict),
  // so that the batches read people back from what the earlier writes stored.
  CrossHistory history(GetParam(), 90, 3);
  history.Run(6000);
  AppendConcurrently(log, history.appends(), 4);
  const uint64_t last = log.store().CommittedPosition();
  struct Run {
    size_t partitions, threads, batch, cache, write_every;
    bool read_ahead, tiny_db;
    std::chrono::milliseconds slow_write{0};
  };
  auto open = [&](const std::string& name, const Run& s, uint64_t until,
                  std::vector<std::unique_ptr<View>> views = AllViews()) {
    RunnerOptions o;
    o.path = log.Path(name);
    o.rules = Rules();
    o.until = until;
    o.max_batch = s.batch;
    o.person_cache = s.cache;
    o.partitions = s.partitions;
    o.threads = s.threads;
    o.read_ahead = s.read_ahead;
    o.catch_up_write_every = s.write_every;
    if (s.tiny_db) {
      o.db.write_buffer_bytes = o.db.catch_up_write_buffer_bytes = size_t{64} << 10;
      o.db.block_cache_bytes = size_t{256} << 10;
    }
    if (s.slow_write.count() > 0) {
      o.db.before_write = [delay = s.slow_write] { std::this_thread::sleep_for(delay); };
    }
    auto r = ViewRunner::Open(log.store(), std::move(views), o);
    EXPECT_TRUE(r) << r.error().message;
    return r ? std::move(*r) : nullptr;
  };
  std::vector<Date> days;
  for (Date d = D("2020-10-13"); d <= history.today() + 20; d = d + 2) days.push_back(d);

  auto reference = open("sequential", {0, 1, 4096, 0, 0, false, false}, 0);
  ASSERT_TRUE(reference);
  ASSERT_TRUE(reference->CatchUp()) << reference->failure();
  const std::string expected = DumpAll(*reference, days);
  EXPECT_NE(expected.find("\"patients\":[{"), std::string::npos);
  EXPECT_NE(expected.find("\"status_source\":\"order\""), std::string::npos);
  reference.reset();
  const auto stored = Stored(log.Path("sequential"));
  ASSERT_GT(stored.size(), 100u);

  // Batches too small for the pool among them; caches of one or two records (nearly every
  // batch reads its people back from what the earlier writes stored) and one of them all;
  // memtables flushed every few batches; writes slower than the batches after them.
  using std::chrono::milliseconds;
  const Shape shapes[] = {
      {2, 2, 300, 1, 700, Start::kSequential},
      {3, 2, 97, 2, 500, Start::kOneBatchAtATime, true},
      {4, 2, 300, 0, 850, Start::kDeferredFromScratch},
      {1, 2, 400, 1, 401, Start::kSequential, false, milliseconds(30)},
      {5, 3, 250, 3, 600, Start::kDeferredFromScratch, true},
      {2, 2, 350, 2, 700, Start::kOneBatchAtATime, false, milliseconds(30)},
  };
  for (size_t k = 0; k < std::size(shapes); ++k) {
    const Shape& s = shapes[k];
    SCOPED_TRACE(s.Describe());
    const std::string name = "deferred-" + std::to_string(k);
    const Run deferred{s.partitions, s.threads, s.batch, s.cache, s.write_every, true, s.tiny_db,
                       s.slow_write};
    // Part way, at a position no batch size divides.
    const uint64_t first = last / 5 + 37 * k;
    {
      Run before = deferred;
      if (s.start == Start::kSequential) before = {0, 1, 4096, 0, 0, false, s.tiny_db};
      if (s.start == Start::kOneBatchAtATime) before.read_ahead = false;
      auto r = open(name, before, first);
      ASSERT_TRUE(r);
      ASSERT_TRUE(r->CatchUp()) << r->failure();
      ASSERT_EQ(r->Position(), first);
    }
    // Far behind from there: killed in the middle of a batch, every write before it stored
    // with its checkpoint (the views published stay where they were: nobody reads them).
    const uint64_t every = s.WrittenEvery();
    const uint64_t crash = (last - first) / 2;
    const uint64_t written = first + (crash - 1) / every * every;
    ASSERT_GT(written, first + every) << "the catch-up writes more than once before the crash";
    {
      auto views = AllViews();
      const size_t victim = k % views.size();
      views[victim] = std::make_unique<CrashingView>(std::move(views[victim]), static_cast<int>(crash));
      auto crashed = open(name, deferred, 0, std::move(views));
      ASSERT_TRUE(crashed);
      ASSERT_EQ(crashed->Position(), first);
      ASSERT_FALSE(crashed->CatchUp());
      EXPECT_EQ(crashed->failed_position(), first + crash);
      EXPECT_GE(crashed->Position(), first);
      EXPECT_LE(crashed->Position(), written);
    }
    EXPECT_FALSE(std::filesystem::exists(log.Path(name) + ".spill")) << "a catch-up past zero spills nothing";
    // Reopened at the last write with another partition count, stopped on the way: written
    // every few batches again, from a checkpoint no batch size divides.
    const uint64_t stop = written + 3 * (last - written) / 5;
    {
      Run other = deferred;
      other.partitions = s.partitions + 1;
      auto resumed = open(name, other, stop);
      ASSERT_TRUE(resumed);
      EXPECT_EQ(resumed->Position(), written);
      ASSERT_TRUE(resumed->CatchUp()) << resumed->failure();
      EXPECT_EQ(resumed->Position(), stop);
      EXPECT_EQ(resumed->metrics().batches_written.load(), (stop - written + every - 1) / every);
    }
    auto finished = open(name, deferred, 0);
    ASSERT_TRUE(finished);
    EXPECT_EQ(finished->Position(), stop);
    ASSERT_TRUE(finished->CatchUp()) << finished->failure();
    EXPECT_EQ(finished->Position(), last);
    EXPECT_EQ(finished->metrics().batches_written.load(), (last - stop + every - 1) / every);
    if (s.cache != 0) {
      EXPECT_LE(finished->CachedPeople(), s.cache);
    }
    EXPECT_EQ(DumpAll(*finished, days), expected);
    finished.reset();
    EXPECT_TRUE(Stored(log.Path(name)) == stored);
  }
}

INSTANTIATE_TEST_SUITE_P(Seeds, DeferredCatchUpPropertyTest, ::testing::Values(5, 17, 20230301));

}  // namespace
}  // namespace caseledger::projections
