// The person cache's answers: a query's one look-up hands out the answer kept for the
// person's current state under the query's key, and nothing else; from each thread's own
// front, without a reference counted per read on the state, and the answer a thread's own.
#include "api/person_cache.h"

#include "domain/event_codec.h"
#include "domain/events.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_store.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

namespace caseledger::api {
namespace {

class PersonCacheReadTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = testing::OpenTestStore(testing::StoreOptionsIn(dir_.path()));
    ASSERT_TRUE(store_);
  }
  // One more event on the person's stream (the cache reads only its version here: each
  // state below is handed to Remember() as a command would).
  void Append(uint64_t version) {
    eventstore::AppendRequest r;
    r.stream = domain::PersonStream(kId);
    r.expected = eventstore::ExpectedVersion::Exactly(version - 1);
    r.events.push_back({"test.event", 1, "{}", "", domain::Timestamp{1}});
    auto appended = store_->Append(r);
    ASSERT_TRUE(appended) << appended.error().message;
  }
  // Events a fold decodes: the registration, then a GP per version after it.
  void AppendDecodable(uint64_t version) {
    domain::Event event = domain::GpAssigned{"GP-" + std::to_string(version), ""};
    if (version == 1) event = domain::PersonRegistered{kId, domain::Sex::kFemale, "001272", {}};
    auto encoded = domain::Encode(event);
    eventstore::AppendRequest r;
    r.stream = domain::PersonStream(kId);
    r.expected = eventstore::ExpectedVersion::Exactly(version - 1);
    r.events.push_back({encoded.type, encoded.schema_version, encoded.body, encoded.personal, domain::Timestamp{1}});
    auto appended = store_->Append(r);
    ASSERT_TRUE(appended) << appended.error().message;
  }
  domain::PersonState State(uint64_t version) {
    domain::PersonState s;
    s.registered = true;
    s.version = version;
    return s;
  }

  static constexpr const char* kId = "01HZXK8J9Q2W3E4R5T6Y7V8W9X";
  testing::TempDir dir_;
  std::unique_ptr<eventstore::EventStore> store_;
};

TEST_F(PersonCacheReadTest, TheKeptAnswerComesWithItsStateUnderItsKeyOnly) {
  PersonCache cache;
  Append(1);
  cache.Remember(kId, State(1));
  const PersonCache::RenderKey today{nullptr, 0, 18'600}, tomorrow{nullptr, 0, 18'601};

  auto first = cache.Read(*store_, kId, today);
  ASSERT_TRUE(first);
  ASSERT_TRUE(first->state);
  EXPECT_EQ(first->state->version, 1u);
  EXPECT_EQ(first->rendered, nullptr);  // nothing rendered yet
  auto held = cache.Current(*store_, kId);  // the state of version 1, held past the reads below
  ASSERT_TRUE(held);
  EXPECT_EQ(held->get(), first->state);

  auto body = std::make_shared<const std::string>("answer of version 1");
  cache.Keep(kId, first->state, today, body);
  auto again = cache.Read(*store_, kId, today);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->state, held->get());
  EXPECT_EQ(again->rendered, body);  // this thread kept it: its front holds that one
  auto other_day = cache.Read(*store_, kId, tomorrow);
  ASSERT_TRUE(other_day);
  EXPECT_EQ(other_day->state, held->get());
  EXPECT_EQ(other_day->rendered, nullptr);

  // The person moves on: the answer of the state before is not handed out with the new one,
  // nor kept for it when it comes late.
  Append(2);
  cache.Remember(kId, State(2));
  auto moved = cache.Read(*store_, kId, today);
  ASSERT_TRUE(moved);
  EXPECT_EQ(moved->state->version, 2u);
  EXPECT_EQ(moved->rendered, nullptr);
  cache.Keep(kId, held->get(), today, body);
  auto still = cache.Read(*store_, kId, today);
  ASSERT_TRUE(still);
  EXPECT_EQ(still->state->version, 2u);
  EXPECT_EQ(still->rendered, nullptr);
}

// What a reader derives from a state (the residence's ASL) is kept beside it in the
// thread's front: handed back on the next reads of that state, whether the front or the
// shard served them; emptied when the person moves on; not kept for another source.
TEST_F(PersonCacheReadTest, WhatIsDerivedFromAStateStaysBesideItUntilThePersonMovesOn) {
  PersonCache cache;
  Append(1);
  cache.Remember(kId, State(1));
  const PersonCache::RenderKey today{nullptr, 0, 18'600};
  const int reference = 0, other_reference = 0;
  auto first = cache.Read(*store_, kId, today);
  ASSERT_TRUE(first);
  ASSERT_NE(first->derived, nullptr);
  EXPECT_FALSE(first->derived->Get(&reference));
  first->derived->Set(&reference, "TO3");
  auto again = cache.Read(*store_, kId, today);  // from the shard (no answer kept): the same state
  ASSERT_TRUE(again);
  ASSERT_NE(again->derived, nullptr);
  EXPECT_EQ(again->derived->Get(&reference), "TO3");
  EXPECT_FALSE(again->derived->Get(&other_reference));
  cache.Keep(kId, again->state, today, std::make_shared<const std::string>("answer"));
  auto hit = cache.Read(*store_, kId, today);  // from the front
  ASSERT_TRUE(hit);
  ASSERT_TRUE(hit->rendered);
  EXPECT_EQ(hit->derived->Get(&reference), "TO3");

  Append(2);
  cache.Remember(kId, State(2));
  auto moved = cache.Read(*store_, kId, today);
  ASSERT_TRUE(moved);
  EXPECT_EQ(moved->state->version, 2u);
  ASSERT_NE(moved->derived, nullptr);
  EXPECT_FALSE(moved->derived->Get(&reference));
  moved->derived->Set(&reference, std::string(16, 'x'));  // too long to keep: derived again
  EXPECT_FALSE(cache.Read(*store_, kId, today)->derived->Get(&reference));
}

// A read served from a thread's front counts no reference on the state, and the answer it
// hands out (which the response holds until written) is the thread's own: reads on two
// threads hand out the one kept state, the thread that kept the answer that answer, the
// other its own copy of it; neither thread's held reads move a count the other's reads move
// (cache lines both threads wrote on every query).
TEST_F(PersonCacheReadTest, ReadsOnTwoThreadsShareTheKeptStateAndEachCountsItsOwnAnswer) {
  PersonCache cache;
  Append(1);
  cache.Remember(kId, State(1));
  const PersonCache::RenderKey today{nullptr, 0, 18'600};
  auto first = cache.Read(*store_, kId, today);
  ASSERT_TRUE(first);
  auto body = std::make_shared<const std::string>("answer of version 1");
  cache.Keep(kId, first->state, today, body);
  auto held = cache.Current(*store_, kId);
  ASSERT_TRUE(held);

  // The counts after a thread's first read (its front takes its references) and after
  // 1,000 more whose results it still holds: of the state, and of the answer this thread
  // kept (which the other thread's front holds a copy of).
  struct Counts {
    long state_before = 0, body_before = 0, state_after = 0, body_after = 0;
  };
  auto read_many = [&](std::vector<PersonCache::Seen>& seen, Counts& counts) {
    ASSERT_TRUE(cache.Read(*store_, kId, today));
    counts.state_before = held->use_count();
    counts.body_before = body.use_count();
    for (int i = 0; i < 1000; ++i) {
      auto s = cache.Read(*store_, kId, today);
      ASSERT_TRUE(s);
      seen.push_back(std::move(*s));
    }
    counts.state_after = held->use_count();
    counts.body_after = body.use_count();
  };
  std::vector<PersonCache::Seen> seen_here, seen_there;
  Counts here, there;
  read_many(seen_here, here);
  std::thread other([&] { read_many(seen_there, there); });
  other.join();
  EXPECT_EQ(here.state_after, here.state_before);
  EXPECT_EQ(there.state_after, there.state_before);
  EXPECT_EQ(here.body_after, here.body_before + 1000);  // this thread's reads hold its answer
  EXPECT_EQ(there.body_after, there.body_before);       // the other's, its own copy
  ASSERT_EQ(seen_here.size(), 1000u);
  ASSERT_EQ(seen_there.size(), 1000u);
  const std::shared_ptr<const std::string> theirs = seen_there.front().rendered;
  ASSERT_NE(theirs, nullptr);
  EXPECT_NE(theirs, body);
  EXPECT_EQ(*theirs, *body);
  EXPECT_EQ(theirs.use_count(), 1000 + 1);  // the reads held, and `theirs`: no other holder
  for (const auto& s : seen_here) {
    EXPECT_EQ(s.state, held->get());
    EXPECT_EQ(s.rendered, body);
    EXPECT_EQ(s.unkept, nullptr);
  }
  for (const auto& s : seen_there) {
    EXPECT_EQ(s.state, held->get());
    EXPECT_EQ(s.rendered, theirs);
    EXPECT_EQ(s.unkept, nullptr);
  }
  // An unknown id is handed out with its own (unregistered) state, kept nowhere.
  auto unknown = cache.Read(*store_, "01HZXK8J9Q2W3E4R5T6Y7V8W90", today);
  ASSERT_TRUE(unknown);
  EXPECT_FALSE(unknown->state->registered);
  EXPECT_EQ(unknown->unkept.get(), unknown->state);
}

// While a command thread moves the person on, readers on two threads, each keeping the
// answer of what it read, are never served a state older than the last append that
// returned before their read began, nor an answer of another state than the one handed out.
TEST_F(PersonCacheReadTest, FrontsNeverServeAStateOlderThanTheLastAppendBeforeTheRead) {
  PersonCache cache;
  const PersonCache::RenderKey today{nullptr, 0, 18'600};
  constexpr uint64_t kVersions = 150;
  std::atomic<uint64_t> appended{0};
  AppendDecodable(1);
  appended = 1;
  auto answer_of = [](uint64_t v) { return "answer of version " + std::to_string(v); };
  auto reader = [&](int& stale, int& mismatched, int& reads) {
    for (uint64_t before = 0; before < kVersions;) {
      before = appended.load();
      auto seen = cache.Read(*store_, kId, today);
      ASSERT_TRUE(seen);
      ++reads;
      if (seen->state->version < before) ++stale;
      if (seen->rendered && *seen->rendered != answer_of(seen->state->version)) ++mismatched;
      if (!seen->rendered) {
        cache.Keep(kId, seen->state, today, std::make_shared<const std::string>(answer_of(seen->state->version)));
      }
    }
  };
  int stale[2] = {0, 0}, mismatched[2] = {0, 0}, reads[2] = {0, 0};
  std::thread a([&] { reader(stale[0], mismatched[0], reads[0]); });
  std::thread b([&] { reader(stale[1], mismatched[1], reads[1]); });
  // Every other state left by a "command" (Remember), the others found by the readers'
  // point read and fold.
  for (uint64_t v = 2; v <= kVersions; ++v) {
    AppendDecodable(v);
    if (v % 2 == 0) cache.Remember(kId, State(v));
    appended = v;
  }
  a.join();
  b.join();
  for (int t = 0; t < 2; ++t) {
    EXPECT_EQ(stale[t], 0) << "thread " << t << " of " << reads[t] << " reads";
    EXPECT_EQ(mismatched[t], 0) << "thread " << t;
  }
}

// One thread reading through two caches (as tests do) is served each cache's own entries.
TEST_F(PersonCacheReadTest, AThreadsFrontServesOnlyTheCacheItWasFilledFrom) {
  PersonCache mine, other;
  Append(1);
  domain::PersonState with_gp = State(1), without = State(1);
  with_gp.gp_id = "GP-1";
  mine.Remember(kId, with_gp);
  other.Remember(kId, without);
  const PersonCache::RenderKey today{nullptr, 0, 18'600};
  for (int i = 0; i < 3; ++i) {
    for (PersonCache* cache : {&mine, &other}) {
      auto seen = cache->Read(*store_, kId, today);
      ASSERT_TRUE(seen);
      const std::string expected = cache == &mine ? "GP-1" : "";
      EXPECT_EQ(seen->state->gp_id, expected);
      if (seen->rendered) {
        EXPECT_EQ(*seen->rendered, expected);
      } else {
        cache->Keep(kId, seen->state, today, std::make_shared<const std::string>(expected));
      }
    }
  }
}

}  // namespace
}  // namespace caseledger::api
