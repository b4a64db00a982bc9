// A request that takes its stream to be new reads the stream's head before the write lock
// (head_reads.cc, PreLoadHead). A head that reached the database between that read and the
// lock must not be missed: the request is checked against the head found again, so a
// second "first" append of a stream is refused, never given version 1 twice.
#include "eventstore/rocks_event_store.h"

#include "tests/support/temp_dir.h"
#include "tests/support/test_store.h"

#include <gtest/gtest.h>

#include <atomic>
#include <string>

namespace caseledger::eventstore {
namespace {

using caseledger::testing::OneEventRequest;
using caseledger::testing::OpenTestStore;
using caseledger::testing::StoreOptionsIn;
using caseledger::testing::TempDir;

// Runs `request` with, between its reads before the lock and the lock, another append of
// `stream`'s first event that is synced, answered and completed (a read waits for it).
StoreResult<AppendResult> AppendAfterAnotherFirstAppend(EventStore& store, const std::string& stream,
                                                        const AppendRequest& request) {
  auto* rocks = dynamic_cast<RocksEventStore*>(&store);
  EXPECT_NE(rocks, nullptr);
  std::atomic<bool> armed{true};
  rocks->SetBeforeWriteLockForTest([&] {
    if (!armed.exchange(false)) return;  // the nested append's own turn
    auto first = store.Append(OneEventRequest(stream, 0));
    EXPECT_TRUE(first) << first.error().message;
    auto version = store.StreamVersion(stream);  // waits until its group is completed
    EXPECT_TRUE(version && *version == 1);
  });
  auto result = store.Append(request);
  rocks->SetBeforeWriteLockForTest(nullptr);
  return result;
}

TEST(HeadReadBeforeLockTest, AStreamWrittenAfterItsHeadWasReadIsNotTakenForNew) {
  TempDir dir;
  auto store = OpenTestStore(StoreOptionsIn(dir.path()));
  ASSERT_TRUE(store);
  ASSERT_TRUE(store->Append(OneEventRequest("other", 0)));  // a group completed before: no effect
  auto second = AppendAfterAnotherFirstAppend(*store, "person-1", OneEventRequest("person-1", 0));
  ASSERT_FALSE(second);
  EXPECT_EQ(second.error().code, StoreErrorCode::kWrongExpectedVersion) << second.error().message;
  EXPECT_EQ(second.error().current_version, 1u);

  // Exactly(0) is read before the lock the same way.
  AppendRequest exact = OneEventRequest("person-2", 0);
  exact.expected = ExpectedVersion::Exactly(0);
  auto third = AppendAfterAnotherFirstAppend(*store, "person-2", exact);
  ASSERT_FALSE(third);
  EXPECT_EQ(third.error().code, StoreErrorCode::kWrongExpectedVersion);

  for (const std::string stream : {"person-1", "person-2"}) {
    auto events = store->ReadStream(stream, 1, 10);
    ASSERT_TRUE(events) << events.error().message;
    ASSERT_EQ(events->size(), 1u) << stream;
    EXPECT_EQ(events->front().version, 1u);
  }
  EXPECT_EQ(store->CommittedPosition(), 3u);
}

TEST(HeadReadBeforeLockTest, NewStreamsAreAppendedWithTheirHeadReadBeforeTheLock) {
  TempDir dir;
  {
    auto store = OpenTestStore(StoreOptionsIn(dir.path()));
    ASSERT_TRUE(store);
    for (int i = 0; i < 20; ++i) {
      const std::string stream = "person-" + std::to_string(i);
      auto first = store->Append(OneEventRequest(stream, 0));
      ASSERT_TRUE(first) << first.error().message;
      EXPECT_EQ(first->version, 1u);
      auto again = store->Append(OneEventRequest(stream, 0));  // its head is in the database now
      ASSERT_FALSE(again);
      EXPECT_EQ(again.error().code, StoreErrorCode::kWrongExpectedVersion);
      ASSERT_TRUE(store->Append(OneEventRequest(stream, 1)));
    }
  }
  auto reopened = OpenTestStore(StoreOptionsIn(dir.path()));
  ASSERT_TRUE(reopened);
  auto again = reopened->Append(OneEventRequest("person-3", 0));  // read from the files
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, StoreErrorCode::kWrongExpectedVersion);
  EXPECT_EQ(again.error().current_version, 2u);
  EXPECT_EQ(reopened->CommittedPosition(), 40u);
}

}  // namespace
}  // namespace caseledger::eventstore
