// The access log's stored formats: a log written by an older writer goes on in the
// current format, its records listed and pruned beside the new ones, its chain intact.
#include "eventstore/access_log_test_fixture.h"
#include "eventstore/access_record.h"

#include <rocksdb/write_batch.h>

namespace caseledger::eventstore {
namespace {

// A log written before format 2 (format-1 records, chained as the old writer chained
// them) opens as it is: its records are listed and pruned beside the new ones, and the
// chain verifies across both formats.
TEST_F(AccessLogTest, ALogOfFormat1RecordsGoesOnInFormat2WithItsChainIntact) {
  const std::vector<AccessRecord> old = {Read("alice", "P1", now_ - 40 * kDay), Read("bob", "P1", now_ + 1),
                                         Read("carol", "P2", now_ + 2)};
  {
    rocksdb::Options o;
    o.create_if_missing = true;
    rocksdb::DB* raw = nullptr;
    ASSERT_TRUE(rocksdb::DB::Open(o, dir_.Sub("access"), &raw).ok());
    std::unique_ptr<rocksdb::DB> db(raw);
    rocksdb::WriteBatch wb;
    domain::Hash hash{};
    for (uint64_t seq = 1; seq <= old.size(); ++seq) {
      std::string record = EncodeAccessRecord(old[seq - 1], 1);
      hash = format::ChainHash(hash, seq, record);
      format::AppendTrailer(record, hash);
      std::string key = "r";
      format::PutFixed64BE(key, seq);
      wb.Put(key, record);
      std::string index = "p" + old[seq - 1].person_id;
      index.push_back('\0');
      format::PutFixed64BE(index, seq);
      wb.Put(index, "");
    }
    ASSERT_TRUE(db->Write(rocksdb::WriteOptions(), &wb).ok());
  }
  auto log = Open();  // prunes alice's record (40 days old, retention 30)
  EXPECT_EQ(log->LastSequence(), 3u);
  log->Record(Read("dave", "P1", now_ + 3));
  ASSERT_TRUE(log->Flush());
  auto p1 = log->ForPerson("P1", 0, 10);
  ASSERT_TRUE(p1);
  ASSERT_EQ(p1->size(), 2u);
  EXPECT_EQ((*p1)[0].sequence, 2u);
  EXPECT_EQ((*p1)[0].record, old[1]);
  EXPECT_EQ((*p1)[1].sequence, 4u);
  EXPECT_EQ((*p1)[1].record, Read("dave", "P1", now_ + 3));
  auto p2 = log->ForPerson("P2", 0, 10);
  ASSERT_TRUE(p2);
  ASSERT_EQ(p2->size(), 1u);
  EXPECT_EQ((*p2)[0].record, old[2]);
  auto chain = log->VerifyChain();
  ASSERT_TRUE(chain);
  EXPECT_EQ(chain->first_bad_sequence, 0u);
  EXPECT_EQ(chain->records, 3u);  // 2 and 3 in format 1, 4 in format 2; 1 pruned
}

// A log written by the last writer (one format-2 record per key, chained record by record,
// an index entry per person per write with deltas) goes on in format 3: its records are
// listed beside the new ones, pruned one by one, and the chain verifies across both.
TEST_F(AccessLogTest, ALogOfFormat2RecordsGoesOnInFormat3WithItsChainIntact) {
  const int64_t t0 = now_.load();
  const std::vector<AccessRecord> old = {Read("alice", "P1", t0 - 40 * kDay), Read("bob", "P1", t0 - 40 * kDay + 10),
                                         Read("carol", "P2", t0 - 20 * kDay), Read("dan", "P1", t0 - 20 * kDay + 10)};
  {
    rocksdb::Options o;
    o.create_if_missing = true;
    rocksdb::DB* raw = nullptr;
    ASSERT_TRUE(rocksdb::DB::Open(o, dir_.Sub("access"), &raw).ok());
    std::unique_ptr<rocksdb::DB> db(raw);
    rocksdb::WriteBatch wb;
    domain::Hash hash{};
    for (uint64_t seq = 1; seq <= old.size(); ++seq) {
      std::string record = EncodeAccessRecord(old[seq - 1]);
      ASSERT_EQ(record.front(), '\x02');
      hash = format::ChainHash(hash, seq, record);
      format::AppendTrailer(record, hash);
      std::string key = "r";
      format::PutFixed64BE(key, seq);
      wb.Put(key, record);
    }
    // Two writes: {1, 2} and {3, 4}; P1 read twice in the first (2, delta 1 to 1).
    auto index = [&](const std::string& person, uint64_t seq, std::string deltas) {
      std::string k = "p" + person;
      k.push_back('\0');
      format::PutFixed64BE(k, seq);
      wb.Put(k, deltas);
    };
    index("P1", 2, "\x01");
    index("P2", 3, "");
    index("P1", 4, "");
    ASSERT_TRUE(db->Write(rocksdb::WriteOptions(), &wb).ok());
  }
  auto log = Open();  // prunes alice's and bob's records (40 days old, retention 30)
  EXPECT_EQ(log->LastSequence(), 4u);
  for (int i = 0; i < 3; ++i) log->Record(Read("new" + std::to_string(i), i == 1 ? "P2" : "P1", t0 + i));
  ASSERT_TRUE(log->Flush());
  auto entries = RecordEntries(dir_.Sub("access"));
  ASSERT_EQ(entries.size(), 3u);  // 3 and 4 as they were, 5-7 in one entry
  EXPECT_EQ(entries[2].first, 5u);
  auto p1 = log->ForPerson("P1", 0, 10);
  ASSERT_TRUE(p1);
  ASSERT_EQ(p1->size(), 3u);
  EXPECT_EQ((*p1)[0].sequence, 4u);
  EXPECT_EQ((*p1)[0].record, old[3]);
  EXPECT_EQ((*p1)[1].sequence, 5u);
  EXPECT_EQ((*p1)[2].sequence, 7u);
  EXPECT_EQ((*p1)[2].record, Read("new2", "P1", t0 + 2));
  auto p2 = log->ForPerson("P2", 0, 10);
  ASSERT_TRUE(p2);
  ASSERT_EQ(p2->size(), 2u);
  EXPECT_EQ((*p2)[0].record, old[2]);
  EXPECT_EQ((*p2)[1].sequence, 6u);
  auto chain = log->VerifyChain();
  ASSERT_TRUE(chain);
  EXPECT_EQ(chain->first_bad_sequence, 0u);
  EXPECT_EQ(chain->records, 5u);  // 3 and 4 in format 2, 5-7 in format 3; 1 and 2 pruned
  now_ += 15 * kDay;  // carol's and dan's past the retention, one by one
  auto pruned = log->Prune();
  ASSERT_TRUE(pruned);
  EXPECT_EQ(*pruned, 2u);
  p1 = log->ForPerson("P1", 0, 10);
  ASSERT_TRUE(p1);
  ASSERT_EQ(p1->size(), 2u);
  EXPECT_EQ((*p1)[0].sequence, 5u);
  chain = log->VerifyChain();
  ASSERT_TRUE(chain);
  EXPECT_EQ(chain->first_bad_sequence, 0u);
  EXPECT_EQ(chain->records, 3u);
}

}  // namespace
}  // namespace caseledger::eventstore
