// The person cache within its share of the memory budget (person_cache.h): people read by
// several threads, with their answers kept, many more than fit, never take it past its
// capacity as it counts, and what it holds as the heap counts stays within that capacity
// too; people who fit are still served from it.
#include "api/person_cache.h"

#include "domain/event_codec.h"
#include "domain/events.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_store.h"

#include <gtest/gtest.h>
#include <malloc.h>

#include <atomic>
#include <cstdio>
#include <thread>
#include <vector>

namespace caseledger::api {
namespace {

class PersonCacheBudgetTest : public ::testing::Test {
 protected:
  static constexpr int kPeople = 3000;

  void SetUp() override {
    store_ = testing::OpenTestStore(testing::StoreOptionsIn(dir_.path()));
    ASSERT_TRUE(store_);
    // Each person registered with their personal data, then swabbed twice, reported on and
    // assigned a GP: a state of a few hundred bytes, as a case's is.
    for (int p = 0; p < kPeople; ++p) {
      const std::string id = Id(p);
      std::vector<domain::Event> events;
      domain::Personal personal{"Rossi", "Maria Grazia", "RSSMGR80A41L219X", "1980-01-01",
                                "Via Po " + std::to_string(p) + ", Torino", "+39 011 555 0100"};
      events.push_back(domain::PersonRegistered{id, domain::Sex::kFemale, "001272", personal});
      for (int s = 0; s < 2; ++s) {
        const std::string swab = "SW-" + std::to_string(p) + "-" + std::to_string(s);
        events.push_back(domain::SwabRequested{swab, domain::SwabKind::kMolecular, "symptoms", "GP0001", {}});
        events.push_back(domain::SwabCollected{swab, domain::Timestamp{1'600'000'000'000'000}, "drive-in", "LAB01"});
        events.push_back(domain::ResultRecorded{swab, domain::Outcome::kNegative, "LAB01", domain::Timestamp{1'600'000'100'000'000}});
      }
      events.push_back(domain::GpAssigned{"GP0002", ""});
      eventstore::AppendRequest r;
      r.stream = domain::PersonStream(id);
      r.expected = eventstore::ExpectedVersion::NoStream();
      r.actor = {"test", "operator"};
      for (const auto& e : events) {
        auto encoded = domain::Encode(e);
        r.events.push_back({encoded.type, encoded.schema_version, encoded.body, encoded.personal,
                            domain::Timestamp{1'600'000'000'000'000}});
      }
      auto appended = store_->Append(r);
      ASSERT_TRUE(appended) << appended.error().message;
    }
  }
  static std::string Id(int p) {
    char id[32];
    std::snprintf(id, sizeof id, "01HZXK8J9Q2W3E4R%010d", p);
    return id;
  }
  // Reads every person from `from` on (step `step`), keeping an answer of ~1 KiB for each,
  // as the person route does; the cache's count checked after each.
  void ReadAll(PersonCache& cache, int from, int step, std::atomic<size_t>& most) {
    const PersonCache::RenderKey key{nullptr, 0, 18'600};
    for (int p = from; p < kPeople; p += step) {
      const std::string id = Id(p);
      auto seen = cache.Read(*store_, id, key);
      ASSERT_TRUE(seen);
      ASSERT_TRUE(seen->state->registered) << id;
      EXPECT_EQ(seen->state->swabs.size(), 2u);
      if (!seen->rendered) {
        cache.Keep(id, seen->state, key, std::make_shared<const std::string>(1000, 'x'));
      }
      size_t now = cache.Bytes(), seen_most = most.load();
      while (now > seen_most && !most.compare_exchange_weak(seen_most, now)) {
      }
    }
  }

  testing::TempDir dir_;
  std::unique_ptr<eventstore::EventStore> store_;
};

TEST_F(PersonCacheBudgetTest, ManyMorePeopleThanFitStayWithinItsCapacity) {
  constexpr size_t kCapacity = size_t{512} << 10;
  PersonCache cache(kCapacity);
  std::atomic<size_t> most{0};
  // Two threads (two fronts), each over everyone three times.
  std::vector<std::thread> threads;
  for (int t = 0; t < 2; ++t) {
    threads.emplace_back([&, t] {
      for (int round = 0; round < 3; ++round) ReadAll(cache, t, 1, most);
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_LE(most.load(), kCapacity);
  EXPECT_LE(cache.Bytes(), kCapacity);
  // It holds people, not nothing. A full shard is emptied whole (PersonCache::Put), so what
  // it holds at any one moment is a sum of 16 sawtooths: at the end it was below a third of
  // the capacity 1 run in ~20 (163,200 bytes against 174,762). Its most over the run, at
  // least half, and an eighth at the end, say the same without that chance.
  EXPECT_GT(most.load(), kCapacity / 2);
  EXPECT_GT(cache.Bytes(), kCapacity / 8);
}

TEST_F(PersonCacheBudgetTest, WhatTheHeapHoldsForItIsWithinItsCapacity) {
  // The store's blocks read once first (through a cache that keeps nothing), so that what the heap
  // gains below is the cache's.
  {
    PersonCache warm(0);  // keeps nothing: this thread's front holds none of it after
    std::atomic<size_t> most{0};
    ReadAll(warm, 0, 1, most);
  }
  constexpr size_t kCapacity = size_t{1} << 20;
  std::atomic<size_t> most{0};
  const size_t before = mallinfo2().uordblks;
  auto cache = std::make_unique<PersonCache>(kCapacity);
  ReadAll(*cache, 0, 1, most);
  const size_t held = mallinfo2().uordblks - before;
  const size_t counted = cache->Bytes();
  std::printf("the cache counts %zu bytes, the heap holds %zu more (capacity %zu)\n", counted, held, kCapacity);
  EXPECT_LE(most.load(), kCapacity);
  EXPECT_LE(held, kCapacity);
  // The count is an estimate that errs high, not a bound that means nothing.
  EXPECT_LE(held, counted + (counted >> 3));
  EXPECT_GE(held, counted / 3);
}

TEST_F(PersonCacheBudgetTest, PeopleWhoFitAreServedFromIt) {
  PersonCache cache(size_t{4} << 20);
  std::atomic<size_t> most{0};
  ReadAll(cache, 0, 10, most);  // 300 people
  const size_t counted = cache.Bytes();
  ASSERT_GT(counted, 0u);
  std::printf("300 people with an answer of 1,000 bytes each: %zu bytes counted\n", counted);
  // Read again: their answers come back as kept, and nothing more is counted.
  const PersonCache::RenderKey key{nullptr, 0, 18'600};
  for (int p = 0; p < kPeople; p += 10) {
    auto seen = cache.Read(*store_, Id(p), key);
    ASSERT_TRUE(seen);
    ASSERT_TRUE(seen->rendered) << Id(p);
    EXPECT_EQ(seen->rendered->size(), 1000u);
  }
  EXPECT_EQ(cache.Bytes(), counted);
}

}  // namespace
}  // namespace caseledger::api
