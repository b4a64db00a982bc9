#include "eventstore/recent_log.h"

#include "eventstore/event_store.h"
#include "tests/support/temp_dir.h"

#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace caseledger::eventstore {
namespace {

using caseledger::testing::TempDir;

// A run of `count` records from `first`, each "r<position>" padded to `size` bytes.
std::shared_ptr<RecordRun> MakeRun(uint64_t first, size_t count, size_t size = 8) {
  auto run = std::make_shared<RecordRun>();
  run->Start(first);
  for (uint64_t p = first; p < first + count; ++p) {
    std::string record = "r" + std::to_string(p);
    record.resize(std::max(size, record.size()), '.');
    run->Append(record);
  }
  return run;
}

// The records of [from, from + count) as Find's runs hold them, or nothing.
std::vector<std::string> Records(const RecentLog& log, uint64_t from, uint64_t count) {
  std::vector<std::string> out;
  for (const auto& run : log.Find(from, count)) {
    for (uint64_t p = std::max(run->first(), from); p < run->end() && p < from + count; ++p) {
      out.emplace_back(run->at(p));
    }
  }
  return out;
}

TEST(RecentLogTest, FindsARangeOnlyWhenEveryPositionOfItIsHeld) {
  RecentLog log(1 << 20);
  auto run = MakeRun(5, 3);
  log.Add(run);
  ASSERT_TRUE(run);
  EXPECT_EQ(run->size(), 0u);  // the writer gets an empty run back
  run = MakeRun(8, 4);
  log.Add(run);
  EXPECT_EQ(Records(log, 6, 4), (std::vector<std::string>{"r6......", "r7......", "r8......", "r9......"}));
  EXPECT_EQ(Records(log, 5, 7).size(), 7u);
  EXPECT_EQ(Records(log, 11, 1), (std::vector<std::string>{"r11....."}));
  EXPECT_TRUE(log.Find(4, 2).empty());   // starts before the first held
  EXPECT_TRUE(log.Find(10, 3).empty());  // ends after the last held
  EXPECT_TRUE(log.Find(6, 0).empty());
}

TEST(RecentLogTest, KeepsTheNewestRunsWithinItsBytes) {
  RecentLog log(100);  // four runs of 3 records of 10 bytes: at most three held
  for (uint64_t first = 1; first <= 10; first += 3) {
    auto run = MakeRun(first, 3, 10);
    log.Add(run);
  }
  EXPECT_EQ(log.Bytes(), 90u);
  EXPECT_TRUE(log.Find(1, 3).empty());  // the oldest run went
  EXPECT_EQ(Records(log, 4, 9).size(), 9u);
  // A run larger than the bound alone is not kept, and neither is anything before it.
  auto big = MakeRun(13, 20, 10);
  log.Add(big);
  EXPECT_EQ(log.Bytes(), 0u);
  EXPECT_TRUE(log.Find(10, 1).empty());
  auto next = MakeRun(33, 2, 10);
  log.Add(next);
  EXPECT_EQ(Records(log, 33, 2).size(), 2u);
}

TEST(RecentLogTest, ARunThatDoesNotFollowTheNewestStartsAfresh) {
  RecentLog log(1 << 20);
  auto run = MakeRun(1, 5);
  log.Add(run);
  run = MakeRun(100, 2);  // positions 6..99 written by another path (an import)
  log.Add(run);
  EXPECT_TRUE(log.Find(1, 1).empty());
  EXPECT_TRUE(log.Find(5, 96).empty());
  EXPECT_EQ(Records(log, 100, 2).size(), 2u);
}

TEST(RecentLogTest, AnEvictedRunIsReusedOnlyOnceNoReaderHoldsIt) {
  RecentLog log(20);  // one run of 2 records of 10 bytes at a time
  auto run = MakeRun(1, 2, 10);
  log.Add(run);
  auto held = log.Find(1, 2);  // a reader still decoding positions 1-2
  ASSERT_EQ(held.size(), 1u);
  run = MakeRun(3, 2, 10);
  const RecordRun* second = run.get();
  log.Add(run);  // evicts positions 1-2: the reader's copy must not be handed back
  EXPECT_NE(run.get(), held[0].get());
  run->Start(5);
  run->Append("overwrite!");
  EXPECT_EQ(std::string(held[0]->at(1)), "r1........");
  EXPECT_EQ(std::string(held[0]->at(2)), "r2........");
  held.clear();
  log.Add(run);  // evicts 3-4, which nobody holds: handed back for reuse, emptied
  EXPECT_EQ(run.get(), second);
  EXPECT_EQ(run->size(), 0u);
  EXPECT_EQ(run->bytes(), 0u);
  EXPECT_EQ(Records(log, 5, 1), (std::vector<std::string>{"overwrite!"}));
}

// The store's side: the tail a reader finds in memory is what the database holds.
class RecentLogStoreTest : public ::testing::Test {
 protected:
  void SetUp() override { Reopen(); }
  void Reopen() {
    store_.reset();
    StoreOptions o;
    o.path = dir_.Sub("db");
    o.master_key_path = dir_.Sub("master.key");
    auto s = EventStore::Open(o);
    ASSERT_TRUE(s) << s.error().message;
    store_ = std::move(*s);
  }
  // Appends `n` requests from 4 threads at once (so that groups hold several), some with
  // a personal part, some with two events; returns once every one is acknowledged.
  void AppendMany(int n, const std::string& tag) {
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
      threads.emplace_back([&, t] {
        for (int i = t; i < n; i += 4) {
          AppendRequest r;
          r.stream = "person-" + tag + "-" + std::to_string(i);
          r.expected = ExpectedVersion::NoStream();
          for (int e = 0; e < 1 + i % 2; ++e) {
            NewEvent ev;
            ev.type = "TestEvent";
            ev.body = "{\"i\":" + std::to_string(i) + ",\"e\":" + std::to_string(e) + "}";
            if (i % 3 == 0) ev.personal = "name of " + std::to_string(i);
            ev.effective_at = Timestamp{1'600'000'000'000'000 + i};
            r.events.push_back(std::move(ev));
          }
          r.actor = {"op-" + std::to_string(t), "operator"};
          auto a = store_->Append(r);
          ASSERT_TRUE(a) << a.error().message;
        }
      });
    }
    for (auto& t : threads) t.join();
  }
  std::vector<domain::Envelope> Read(uint64_t from, size_t count, ChainCheck check,
                                     EnvelopeFields fields = EnvelopeFields::kAll) {
    std::vector<domain::Envelope> out;
    auto read = store_->ReadLogInto(from, count, out, check, fields);
    EXPECT_TRUE(read) << read.error().message;
    return out;
  }
  TempDir dir_;
  std::unique_ptr<EventStore> store_;
};

TEST_F(RecentLogStoreTest, TheLogsTailIsReadFromMemoryAsTheDatabaseHoldsIt) {
  AppendMany(60, "a");
  const uint64_t first_end = store_->CommittedPosition();
  ASSERT_EQ(first_end, 90u);
  const StoreStats before = store_->Stats();
  const auto tail_trusted = Read(1, 1000, ChainCheck::kTrust);
  const auto tail_verified = Read(7, 50, ChainCheck::kVerify);
  const auto tail_for_views = Read(1, 1000, ChainCheck::kTrust, EnvelopeFields::kViews);
  const StoreStats after = store_->Stats();
  EXPECT_EQ(after.log_reads - before.log_reads, 3u);
  EXPECT_EQ(after.log_reads_in_memory - before.log_reads_in_memory, 3u);  // all from memory
  ASSERT_EQ(tail_trusted.size(), 90u);
  ASSERT_EQ(tail_verified.size(), 50u);
  ASSERT_EQ(tail_for_views.size(), 90u);
  // The trusted read, less what views never read.
  for (size_t i = 0; i < tail_for_views.size(); ++i) {
    domain::Envelope expected = tail_trusted[i];
    ASSERT_FALSE(expected.actor.id.empty());
    expected.actor = {};
    expected.correlation_id.clear();
    expected.causation_id.clear();
    expected.idempotency_key.clear();
    expected.personal.clear();
    EXPECT_EQ(tail_for_views[i], expected) << i;
  }

  // Reopened, nothing is in memory: the same reads come from the database, equal.
  Reopen();
  EXPECT_EQ(Read(1, 1000, ChainCheck::kTrust), tail_trusted);
  EXPECT_EQ(Read(7, 50, ChainCheck::kVerify), tail_verified);
  EXPECT_EQ(Read(1, 1000, ChainCheck::kTrust, EnvelopeFields::kViews), tail_for_views);
  EXPECT_EQ(store_->Stats().log_reads_in_memory, 0u);

  // After the reopen only the new groups are in memory: a range reaching before them is
  // read from the database, one within them from memory; both as the database has them.
  AppendMany(20, "b");
  const uint64_t end = store_->CommittedPosition();
  ASSERT_EQ(end, 120u);
  const auto across = Read(first_end - 4, 10, ChainCheck::kVerify);
  EXPECT_EQ(store_->Stats().log_reads_in_memory, 0u);
  const auto newest = Read(first_end + 1, 1000, ChainCheck::kVerify);
  EXPECT_EQ(store_->Stats().log_reads_in_memory, 1u);
  ASSERT_EQ(newest.size(), 30u);
  for (size_t i = 0; i < newest.size(); ++i) EXPECT_EQ(newest[i].position, first_end + 1 + i);
  Reopen();
  EXPECT_EQ(Read(first_end - 4, 10, ChainCheck::kVerify), across);
  EXPECT_EQ(Read(first_end + 1, 1000, ChainCheck::kVerify), newest);
}

TEST_F(RecentLogStoreTest, AReaderFollowingTheTailSeesEveryPositionOnceInOrder) {
  // A reader that follows the committed position while appends go on (as the views do)
  // reads every position once, with no gap, and each as the database has it after.
  std::atomic<bool> done{false};
  std::vector<domain::Envelope> followed;
  std::thread reader([&] {
    uint64_t at = 0;
    std::vector<domain::Envelope> batch;
    for (;;) {
      const bool last = done.load();
      while (store_->CommittedPosition() > at) {
        ASSERT_TRUE(
            store_->ReadLogInto(at + 1, 7, batch, ChainCheck::kTrust, EnvelopeFields::kAll));
        ASSERT_FALSE(batch.empty());
        for (auto& e : batch) {
          ASSERT_EQ(e.position, at + 1);
          at = e.position;
          followed.push_back(e);
        }
      }
      if (last) return;
      store_->WaitForPosition(at + 1, std::chrono::milliseconds(20));
    }
  });
  AppendMany(200, "c");
  done.store(true);
  reader.join();
  ASSERT_EQ(followed.size(), 300u);
  EXPECT_GT(store_->Stats().log_reads_in_memory, 0u);
  Reopen();
  EXPECT_EQ(Read(1, 1000, ChainCheck::kTrust), followed);
}

}  // namespace
}  // namespace caseledger::eventstore
