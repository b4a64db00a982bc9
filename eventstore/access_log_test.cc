#include "eventstore/access_log.h"

#include "tests/support/temp_dir.h"

#include <gtest/gtest.h>
#include <rocksdb/db.h>

#include <atomic>

namespace caseledger::eventstore {
namespace {

using caseledger::testing::TempDir;

constexpr int64_t kDay = 86'400'000'000;

class AccessLogTest : public ::testing::Test {
 protected:
  std::unique_ptr<AccessLog> Open() {
    AccessLogOptions o;
    o.path = dir_.Sub("access");
    o.flush_interval = std::chrono::milliseconds(20);
    o.retention_days = 30;
    o.clock = [this] { return domain::Timestamp{now_.load()}; };
    auto log = AccessLog::Open(o);
    EXPECT_TRUE(log) << (log ? "" : log.error().message);
    return log ? std::move(*log) : nullptr;
  }
  AccessRecord Read(const std::string& who, const std::string& person, int64_t at) {
    return {domain::Timestamp{at}, who, "operator", person, "GET /v1/people/{id}", 200};
  }

  TempDir dir_;
  std::atomic<int64_t> now_{1'700'000'000'000'000};
};

TEST_F(AccessLogTest, RecordsAreDurableAndListedPerPersonInOrder) {
  {
    auto log = Open();
    log->Record(Read("alice", "P1", now_ + 1));
    log->Record(Read("bob", "P2", now_ + 2));
    log->Record(Read("carol", "P1", now_ + 3));
    ASSERT_TRUE(log->Flush());
    EXPECT_EQ(log->LastSequence(), 3u);
  }
  auto log = Open();  // reopened: nothing lost, the sequence continues
  auto p1 = log->ForPerson("P1", 0, 10);
  ASSERT_TRUE(p1);
  ASSERT_EQ(p1->size(), 2u);
  EXPECT_EQ((*p1)[0].record.subject, "alice");
  EXPECT_EQ((*p1)[1].record.subject, "carol");
  EXPECT_EQ((*p1)[1].sequence, 3u);
  auto after = log->ForPerson("P1", 1, 10);
  ASSERT_TRUE(after);
  ASSERT_EQ(after->size(), 1u);
  log->Record(Read("dave", "P1", now_ + 4));
  ASSERT_TRUE(log->Flush());
  EXPECT_EQ(log->LastSequence(), 4u);
  auto chain = log->VerifyChain();
  ASSERT_TRUE(chain);
  EXPECT_EQ(chain->first_bad_sequence, 0u);
  EXPECT_EQ(chain->records, 4u);
}

TEST_F(AccessLogTest, PendingCountsRecordsQueuedButNotYetWritten) {
  AccessLogOptions o;
  o.path = dir_.Sub("access");
  o.flush_interval = std::chrono::hours(1);  // nothing is written until Flush()
  auto log = AccessLog::Open(o);
  ASSERT_TRUE(log);
  EXPECT_EQ((*log)->Pending(), 0u);
  for (int i = 0; i < 3; ++i) (*log)->Record(Read("alice", "P1", now_ + i));
  EXPECT_EQ((*log)->Pending(), 3u);
  ASSERT_TRUE((*log)->Flush());
  EXPECT_EQ((*log)->Pending(), 0u);
  EXPECT_EQ((*log)->LastSequence(), 3u);
}

TEST_F(AccessLogTest, PersonPrefixDoesNotLeakIntoAnotherPerson) {
  auto log = Open();
  log->Record(Read("alice", "P1", now_ + 1));
  log->Record(Read("bob", "P10", now_ + 2));
  ASSERT_TRUE(log->Flush());
  auto p1 = log->ForPerson("P1", 0, 10);
  ASSERT_TRUE(p1);
  ASSERT_EQ(p1->size(), 1u);
  EXPECT_EQ((*p1)[0].record.subject, "alice");
}

TEST_F(AccessLogTest, AlteredRecordIsFoundAtItsSequence) {
  {
    auto log = Open();
    for (int i = 1; i <= 5; ++i) log->Record(Read("u" + std::to_string(i), "P1", now_ + i));
    ASSERT_TRUE(log->Flush());
  }
  {
    rocksdb::DB* raw = nullptr;
    ASSERT_TRUE(rocksdb::DB::Open(rocksdb::Options(), dir_.Sub("access"), &raw).ok());
    std::unique_ptr<rocksdb::DB> db(raw);
    std::string key = "r";
    for (int i = 7; i >= 0; --i) key.push_back(static_cast<char>(i == 0 ? 3 : 0));
    std::string value;
    ASSERT_TRUE(db->Get(rocksdb::ReadOptions(), key, &value).ok());
    value[5] ^= 0x01;
    ASSERT_TRUE(db->Put(rocksdb::WriteOptions(), key, value).ok());
  }
  auto log = Open();
  auto chain = log->VerifyChain();
  ASSERT_TRUE(chain);
  EXPECT_EQ(chain->first_bad_sequence, 3u);
}

TEST_F(AccessLogTest, PruneDropsOldRecordsAndTheChainStillVerifies) {
  auto log = Open();
  int64_t t0 = now_.load();
  log->Record(Read("old", "P1", t0 - 40 * kDay));
  log->Record(Read("old", "P2", t0 - 31 * kDay));
  log->Record(Read("recent", "P1", t0 - 2 * kDay));
  ASSERT_TRUE(log->Flush());
  auto pruned = log->Prune();
  ASSERT_TRUE(pruned);
  EXPECT_EQ(*pruned, 2u);
  auto p1 = log->ForPerson("P1", 0, 10);
  ASSERT_TRUE(p1);
  ASSERT_EQ(p1->size(), 1u);
  EXPECT_EQ((*p1)[0].record.subject, "recent");
  auto p2 = log->ForPerson("P2", 0, 10);
  ASSERT_TRUE(p2);
  EXPECT_TRUE(p2->empty());
  auto chain = log->VerifyChain();
  ASSERT_TRUE(chain);
  EXPECT_EQ(chain->first_bad_sequence, 0u);
  EXPECT_EQ(chain->records, 1u);
  log->Record(Read("later", "P1", t0));
  ASSERT_TRUE(log->Flush());
  EXPECT_EQ(log->LastSequence(), 4u);
  chain = log->VerifyChain();
  ASSERT_TRUE(chain);
  EXPECT_EQ(chain->first_bad_sequence, 0u);
}

}  // namespace
}  // namespace caseledger::eventstore
