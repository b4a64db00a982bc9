#include "projections/log_prefetch.h"

#include "projections/views_test_support.h"

#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <mutex>

#include <string>
#include <thread>
#include <vector>

namespace caseledger::projections {
namespace {

using testing::At;
using testing::D;
using testing::PersonId;
using testing::TestLog;

class LogPrefetcherTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (int n = 0; n < 23; ++n) {
      const std::string p = PersonId(n);
      log_.Person(p, {{domain::PersonRegistered{p, domain::Sex::kFemale, "001272", {}}, At("2020-10-20", 8)}});
    }
  }
  // The positions of every batch Next() hands out until the empty one, recycling each.
  std::vector<std::vector<uint64_t>> Drain(LogPrefetcher& reader) {
    std::vector<std::vector<uint64_t>> out;
    for (;;) {
      auto batch = reader.Next();
      EXPECT_TRUE(batch) << batch.error().message;
      if (!batch || batch->empty()) return out;
      EXPECT_EQ(batch->events.size(), batch->envelopes.size());
      std::vector<uint64_t> positions;
      for (const auto& env : batch->envelopes) positions.push_back(env.position);
      out.push_back(positions);
      reader.Recycle(std::move(*batch));
    }
  }
  // What one reader reading in turn hands out: [from, to] in batches of `max_batch`.
  static std::vector<std::vector<uint64_t>> InTurn(uint64_t from, uint64_t to, size_t max_batch) {
    std::vector<std::vector<uint64_t>> out;
    for (uint64_t at = from; at <= to; at += max_batch) {
      out.emplace_back();
      for (uint64_t p = at; p < at + max_batch && p <= to; ++p) out.back().push_back(p);
    }
    return out;
  }
  TestLog log_;
};

TEST_F(LogPrefetcherTest, BatchesComeOutInOrderWhateverTheDepthAndReaders) {
  for (size_t readers : {1, 2, 3}) {
    for (size_t depth : {1, 2, 5}) {
      for (size_t max_batch : {1, 4, 7, 23, 100}) {
        for (uint64_t from : {1, 6}) {
          LogPrefetcher reader(log_.store(), from, 23, max_batch, depth, readers);
          EXPECT_EQ(Drain(reader), InTurn(from, 23, max_batch))
              << readers << " readers, depth " << depth << ", batches of " << max_batch << " from " << from;
        }
      }
    }
  }
}

TEST_F(LogPrefetcherTest, ALogShorterThanTheRangeEndsAtItsLastPosition) {
  for (size_t readers : {1, 2}) {
    for (size_t depth : {1, 4}) {
      LogPrefetcher reader(log_.store(), 3, 1000, 4, depth, readers);
      EXPECT_EQ(Drain(reader), InTurn(3, 23, 4)) << readers << " readers, depth " << depth;
    }
  }
}

TEST_F(LogPrefetcherTest, AnEventThatDoesNotDecodeIsTheLastBatchHandedOut) {
  eventstore::AppendRequest bad;
  bad.stream = domain::PersonStream(PersonId(0));
  bad.events.push_back({"SwabCollected", 1, "\x01\x02", "", At("2020-10-23", 9)});  // position 24
  ASSERT_TRUE(log_.store().Append(bad));
  for (int n = 23; n < 40; ++n) {
    const std::string p = PersonId(n);
    log_.Person(p, {{domain::PersonRegistered{p, domain::Sex::kFemale, "001272", {}}, At("2020-10-20", 8)}});
  }
  // Several readers read the batches after it meanwhile: none of them is handed out.
  for (size_t readers : {1, 2, 3}) {
    for (size_t depth : {1, 6}) {
      LogPrefetcher reader(log_.store(), 1, 41, 5, depth, readers);
      std::vector<uint64_t> last;
      size_t batches = 0;
      for (;;) {
        auto batch = reader.Next();
        ASSERT_TRUE(batch);
        if (batch->empty()) break;
        ++batches;
        last.clear();
        for (const auto& env : batch->envelopes) last.push_back(env.position);
        if (!batch->decode_error.empty()) {
          EXPECT_EQ(batch->events.size(), 3u) << "depth " << depth;  // 21-23 decoded, 24 not
        }
        reader.Recycle(std::move(*batch));
      }
      EXPECT_EQ(batches, 5u) << readers << " readers, depth " << depth;  // 1-5, ..., 21-25: none after it
      EXPECT_EQ(last, (std::vector<uint64_t>{21, 22, 23, 24, 25})) << readers << " readers, depth " << depth;
    }
  }
}

// The pipeline takes each event's person, hashed, from the batch (its partition, its
// partition's tables) rather than finding and hashing it on the runner's thread.
TEST_F(LogPrefetcherTest, ABatchHoldsEachEventsPersonHashed) {
  log_.Append("school-001272-A", {{domain::PersonRegistered{"x", domain::Sex::kMale, "001272", {}}, At("2020-10-21", 8)}});
  eventstore::AppendRequest bad;  // position 25, after which the batch decodes nothing
  bad.stream = domain::PersonStream(PersonId(3));
  bad.events.push_back({"SwabCollected", 1, "\x01\x02", "", At("2020-10-23", 9)});
  ASSERT_TRUE(log_.store().Append(bad));
  log_.Person(PersonId(30), {{domain::PersonRegistered{PersonId(30), domain::Sex::kFemale, "001272", {}}, At("2020-10-24", 8)}});
  LogPrefetcher reader(log_.store(), 20, 26, 100);
  auto batch = reader.Next();
  ASSERT_TRUE(batch);
  ASSERT_EQ(batch->envelopes.size(), 7u);  // 20-26
  EXPECT_FALSE(batch->decode_error.empty());
  ASSERT_EQ(batch->persons.size(), 7u);  // the events after the one that does not decode too
  EXPECT_EQ(batch->in_order, 7u);
  const std::vector<std::string> expected = {PersonId(19), PersonId(20), PersonId(21), PersonId(22), "",
                                             PersonId(3), PersonId(30)};
  for (size_t i = 0; i < 7; ++i) {
    EXPECT_EQ(batch->persons[i].id, expected[i]) << "position " << batch->envelopes[i].position;
    EXPECT_EQ(batch->persons[i].hash, expected[i].empty() ? 0 : HashedId::Of(expected[i]).hash);
  }
  DecodedBatch built;  // built otherwise: indexed on demand, its order not vouched for
  built.envelopes = batch->envelopes;
  EXPECT_EQ(built.in_order, 0u);
  built.IndexPersons();
  ASSERT_EQ(built.persons.size(), 7u);
  for (size_t i = 0; i < 7; ++i) EXPECT_EQ(built.persons[i].id, expected[i]);
}

// The keys the fold and the views take from the batch (LogEvent::keys): each decoded event's
// effective day in Italy (a UTC instant late in the evening falls on the next
// day), the day of its own instant (a swab's collection, a result's report) and its swab
// id's hash, 0 for an event that names no swab; none for what does not decode.
TEST_F(LogPrefetcherTest, ABatchHoldsEachEventsDaysAndSwabHash) {
  const std::string p = PersonId(3);
  log_.Person(p, {{domain::SwabRequested{"SW-1", domain::SwabKind::kMolecular, "contact", "gp-1", {}}, At("2020-10-23", 23, 30)},
                  {domain::SwabCollected{"SW-1", At("2020-10-24", 0, 5), "site", "lab"}, At("2020-10-24", 0, 10)},
                  {domain::ResultRecorded{"SW-1", domain::Outcome::kPositive, "lab", At("2020-10-25", 9)}, At("2020-10-25", 9)}});
  eventstore::AppendRequest bad;  // position 27, after which the batch decodes nothing
  bad.stream = domain::PersonStream(p);
  bad.events.push_back({"SwabCollected", 1, "\x01\x02", "", At("2020-10-26", 9)});
  ASSERT_TRUE(log_.store().Append(bad));
  LogPrefetcher reader(log_.store(), 22, 27, 100);
  auto batch = reader.Next();
  ASSERT_TRUE(batch);
  ASSERT_EQ(batch->envelopes.size(), 6u);  // 22-27
  ASSERT_EQ(batch->events.size(), 5u);
  ASSERT_EQ(batch->keys.size(), 5u);
  const std::vector<std::string> days = {"2020-10-20", "2020-10-20", "2020-10-23", "2020-10-24", "2020-10-25"};
  const std::vector<uint64_t> swabs = {0, 0, SwabIdHash("SW-1"), SwabIdHash("SW-1"), SwabIdHash("SW-1")};
  for (size_t i = 0; i < 5; ++i) {
    EXPECT_EQ(batch->keys[i].effective_day, D(days[i].c_str())) << "position " << batch->envelopes[i].position;
    EXPECT_EQ(batch->keys[i].effective_day, batch->envelopes[i].effective_at.ToDate());
    EXPECT_EQ(batch->keys[i].swab_hash, swabs[i]) << "position " << batch->envelopes[i].position;
  }
  // The day of the event's own instant: collected (the evening before in UTC), reported.
  EXPECT_EQ(batch->keys[2].own_day, domain::Date{});
  EXPECT_EQ(batch->keys[3].own_day, D("2020-10-24"));
  EXPECT_EQ(batch->keys[4].own_day, D("2020-10-25"));
  // A LogEvent without keys (tests, the sequential runner) computes the same.
  const LogEvent keyed{batch->envelopes[3], batch->events[3], p, {}, false, nullptr, &batch->keys[3]};
  const LogEvent unkeyed{batch->envelopes[3], batch->events[3], p};
  EXPECT_EQ(unkeyed.EffectiveDay(), keyed.EffectiveDay());
  EXPECT_EQ(unkeyed.SwabHash("SW-1"), keyed.SwabHash("SW-1"));
  const auto& collected = std::get<domain::SwabCollected>(batch->events[3]);
  EXPECT_EQ(unkeyed.OwnDay(collected.collected_at), keyed.OwnDay(collected.collected_at));
}

TEST_F(LogPrefetcherTest, DestroyedBeforeTheEndStopsItsReaders) {
  for (size_t readers : {1, 2}) {
    for (size_t depth : {1, 2}) {
      LogPrefetcher reader(log_.store(), 1, 23, 2, depth, readers);
      auto first = reader.Next();
      ASSERT_TRUE(first);
      EXPECT_EQ(first->envelopes.front().position, 1u);
      reader.Recycle(std::move(*first));
    }  // the readers, waiting for room, are stopped and joined
  }
}

// Once every batch is read, the readers free the batches given back as they come, and
// those they kept to read into, rather than at the destructor's join (the consumer's
// path): none kept soon after the last one handed out is given back.
TEST_F(LogPrefetcherTest, TheReadersFreeTheirBatchesOnceEveryBatchIsRead) {
  for (size_t readers : {1, 2}) {
    LogPrefetcher reader(log_.store(), 1, 23, 2, 2, readers);
    EXPECT_EQ(Drain(reader), InTurn(1, 23, 2));
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (reader.Kept() != 0 && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    EXPECT_EQ(reader.Kept(), 0u) << readers << " readers";
  }
}

TEST_F(LogPrefetcherTest, TheReadersEndOnTheirOwnOnceEveryBatchTheyReadIsGivenBack) {
  for (size_t readers : {1, 2, 3}) {
    LogPrefetcher reader(log_.store(), 1, 23, 2, 2, readers);
    EXPECT_EQ(reader.Running(), readers);
    EXPECT_EQ(Drain(reader), InTurn(1, 23, 2));
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (reader.Running() != 0 && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    EXPECT_EQ(reader.Running(), 0u) << readers << " readers";
    EXPECT_EQ(reader.Kept(), 0u);
  }
  // A batch taken and not given back keeps its reader (it would read into it again).
  LogPrefetcher reader(log_.store(), 1, 5, 2, 2, 1);
  std::vector<DecodedBatch> taken;
  for (;;) {
    auto batch = reader.Next();
    ASSERT_TRUE(batch);
    if (batch->empty()) break;
    taken.push_back(std::move(*batch));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_EQ(reader.Running(), 1u);
  for (DecodedBatch& batch : taken) reader.Recycle(std::move(batch));
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (reader.Running() != 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  EXPECT_EQ(reader.Running(), 0u);
}

// A log whose read of the first batch waits (up to 5 s) until a read of a later one starts.
class FirstReadWaits final : public eventstore::LogReader {
 public:
  explicit FirstReadWaits(const eventstore::LogReader& log) : log_(log) {}
  eventstore::StoreResult<std::vector<domain::Envelope>> ReadLog(uint64_t from, size_t max_count) const override {
    return log_.ReadLog(from, max_count);
  }
  eventstore::StoreResult<void> ReadLogInto(uint64_t from, size_t max_count, std::vector<domain::Envelope>& out,
                                            eventstore::ChainCheck check, eventstore::EnvelopeFields fields) const override {
    {
      std::unique_lock lock(mu_);
      if (from == 1) {
        overlapped_ = later_.wait_for(lock, std::chrono::seconds(5), [&] { return later_started_; });
      } else {
        later_started_ = true;
        later_.notify_all();
      }
    }
    return log_.ReadLogInto(from, max_count, out, check, fields);
  }
  uint64_t CommittedPosition() const override { return log_.CommittedPosition(); }
  bool WaitForPosition(uint64_t position, std::chrono::milliseconds timeout) const override {
    return log_.WaitForPosition(position, timeout);
  }
  bool overlapped() const {
    std::lock_guard lock(mu_);
    return overlapped_;
  }

 private:
  const eventstore::LogReader& log_;
  mutable std::mutex mu_;
  mutable std::condition_variable later_;
  mutable bool later_started_ = false, overlapped_ = false;
};

// Two readers read two batches at once: the second batch's read starts while the first's
// is still under way (one reader reads them one after the other: the first read waits 5 s
// for nothing). The batches still come out in order.
TEST_F(LogPrefetcherTest, TwoReadersReadTwoBatchesAtOnce) {
  FirstReadWaits log(log_.store());
  LogPrefetcher reader(log, 1, 23, 10, 2, 2);
  EXPECT_EQ(Drain(reader), InTurn(1, 23, 10));
  EXPECT_TRUE(log.overlapped());
}

}  // namespace
}  // namespace caseledger::projections
