// The grant table's look-ups: a grant or revocation is seen by the next look-up of the same
// subject on the same thread (which otherwise answers from what it kept, also after appends
// to other streams), and each thread answers from grants of its own.
#include "api/grant_table.h"

#include "domain/event_codec.h"
#include "domain/events.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_store.h"

#include <gtest/gtest.h>

#include <thread>

namespace caseledger::api {
namespace {

class GrantTableTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = testing::OpenTestStore(testing::StoreOptionsIn(dir_.path()));
    ASSERT_TRUE(store_);
  }
  void Append(const domain::Event& event) {
    auto encoded = domain::Encode(event);
    eventstore::AppendRequest r;
    r.stream = kUsersStream;
    r.events.push_back({encoded.type, encoded.schema_version, encoded.body, encoded.personal, domain::Timestamp{1}});
    auto appended = store_->Append(r);
    ASSERT_TRUE(appended) << appended.error().message;
  }
  void Grant(const std::string& user, const std::string& scope) { Append(domain::AccessGranted{user, "operator", scope}); }
  void Revoke(const std::string& user, const std::string& scope) { Append(domain::AccessRevoked{user, "operator", scope}); }

  testing::TempDir dir_;
  std::unique_ptr<eventstore::EventStore> store_;
};

TEST_F(GrantTableTest, AGrantOrARevocationIsSeenByTheNextLookUpOfTheSameSubject) {
  GrantTable table(*store_);
  Grant("alice", "TO3");
  EXPECT_TRUE(table.For("alice").Holds(domain::Role::kOperator, "TO3"));
  EXPECT_TRUE(table.For("alice").Holds(domain::Role::kOperator, "TO3"));  // kept by this thread
  EXPECT_TRUE(table.For("bob").empty());
  Grant("alice", "TO4");
  EXPECT_TRUE(table.For("alice").Holds(domain::Role::kOperator, "TO4"));
  Revoke("alice", "TO3");
  auto after = table.For("alice");
  EXPECT_FALSE(after.Holds(domain::Role::kOperator, "TO3"));
  EXPECT_TRUE(after.Holds(domain::Role::kOperator, "TO4"));
  EXPECT_EQ(after.grants().size(), 1u);
  Revoke("alice", "TO4");
  EXPECT_TRUE(table.For("alice").empty());
}

// Another thread's look-up refreshes the table; this thread's kept grants are not served
// after it, though the store's position does not move between the two look-ups.
TEST_F(GrantTableTest, GrantsKeptByAThreadAreNotServedAfterAnotherThreadFoldedAChange) {
  GrantTable table(*store_);
  Grant("alice", "TO3");
  EXPECT_FALSE(table.For("alice").Holds(domain::Role::kOperator, "TO4"));
  Grant("alice", "TO4");
  std::thread([&] { EXPECT_TRUE(table.For("alice").Holds(domain::Role::kOperator, "TO4")); }).join();
  EXPECT_TRUE(table.For("alice").Holds(domain::Role::kOperator, "TO4"));
}

// Each thread's answers share a vector of its own: a request's copy is counted where no
// other thread counts.
TEST_F(GrantTableTest, EachThreadAnswersFromGrantsOfItsOwn) {
  GrantTable table(*store_);
  Grant("alice", "TO3");
  Grant("alice", "TO4");
  const auto here = table.For("alice");
  EXPECT_EQ(&table.For("alice").grants(), &here.grants());
  domain::GrantSet there;
  std::thread([&] { there = table.For("alice"); }).join();
  EXPECT_NE(&there.grants(), &here.grants());
  EXPECT_EQ(there.grants(), here.grants());
}

// Appends to other streams (every command's) move the store's position, not the users
// stream: the thread's kept grants still answer, the same vector, not a copy made again.
TEST_F(GrantTableTest, AnAppendToAnotherStreamKeepsTheThreadsGrants) {
  GrantTable table(*store_);
  Grant("alice", "TO3");
  Grant("alice", "TO4");
  const auto before = table.For("alice");
  for (int i = 0; i < 3; ++i) {
    eventstore::AppendRequest r;
    r.stream = "person-" + std::to_string(i);
    auto encoded = domain::Encode(domain::AccessGranted{"nobody", "operator", "TO1"});
    r.events.push_back({encoded.type, encoded.schema_version, encoded.body, encoded.personal, domain::Timestamp{1}});
    ASSERT_TRUE(store_->Append(r));
    const auto after = table.For("alice");
    EXPECT_EQ(&after.grants(), &before.grants());
    EXPECT_TRUE(after.Holds(domain::Role::kOperator, "TO4"));
  }
  // A grant after them is still seen by the next look-up.
  Grant("alice", "TO5");
  EXPECT_TRUE(table.For("alice").Holds(domain::Role::kOperator, "TO5"));
}

}  // namespace
}  // namespace caseledger::api
