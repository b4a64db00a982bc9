// The person cache's answers: a query's one look-up hands out the answer kept for the
// person's current state under the query's key, and nothing else.
#include "api/person_cache.h"

#include "domain/events.h"
#include "tests/support/temp_dir.h"

#include <gtest/gtest.h>

namespace caseledger::api {
namespace {

class PersonCacheReadTest : public ::testing::Test {
 protected:
  void SetUp() override {
    eventstore::StoreOptions o;
    o.path = dir_.Sub("store");
    o.master_key_path = dir_.Sub("master.key");
    auto store = eventstore::EventStore::Open(o);
    ASSERT_TRUE(store) << store.error().message;
    store_ = std::move(*store);
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

  auto body = std::make_shared<const std::string>("answer of version 1");
  cache.Keep(kId, first->state, today, body);
  auto again = cache.Read(*store_, kId, today);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->state, first->state);
  EXPECT_EQ(again->rendered, body);
  auto other_day = cache.Read(*store_, kId, tomorrow);
  ASSERT_TRUE(other_day);
  EXPECT_EQ(other_day->state, first->state);
  EXPECT_EQ(other_day->rendered, nullptr);
  auto current = cache.Current(*store_, kId);
  ASSERT_TRUE(current);
  EXPECT_EQ(*current, first->state);

  // The person moves on: the answer of the state before is not handed out with the new one,
  // nor kept for it when it comes late.
  Append(2);
  cache.Remember(kId, State(2));
  auto moved = cache.Read(*store_, kId, today);
  ASSERT_TRUE(moved);
  EXPECT_EQ(moved->state->version, 2u);
  EXPECT_EQ(moved->rendered, nullptr);
  cache.Keep(kId, first->state, today, body);
  auto still = cache.Read(*store_, kId, today);
  ASSERT_TRUE(still);
  EXPECT_EQ(still->rendered, nullptr);
}

}  // namespace
}  // namespace caseledger::api
