#include "eventstore/access_log.h"

#include "domain/string_archive.h"
#include "eventstore/access_record.h"
#include "eventstore/record_format.h"
#include "tests/support/small_volume.h"
#include "tests/support/temp_dir.h"

#include <cereal/types/string.hpp>

#include <gtest/gtest.h>
#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>

#include <atomic>
#include <vector>

namespace caseledger::eventstore {
namespace {

using caseledger::testing::TempDir;
using caseledger::testing::SmallVolume;

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

// A person read many times between two writes gets one index entry per write; the report
// lists every read, in order, and pages through them with `after` and the count.
TEST_F(AccessLogTest, ManyReadsOfOnePersonInOneWriteAreListedAndPaged) {
  auto log = Open();
  std::vector<uint64_t> p1_seqs;
  uint64_t seq = 0;
  for (int write = 0; write < 3; ++write) {
    for (int i = 0; i < 40; ++i) {
      const std::string person = i % 3 == 0 ? "P1" : (i % 3 == 1 ? "P2" : "P10");
      log->Record(Read("u" + std::to_string(write) + "-" + std::to_string(i), person, now_ + i));
      ++seq;
      if (person == "P1") p1_seqs.push_back(seq);
    }
    ASSERT_TRUE(log->Flush());
  }
  auto all = log->ForPerson("P1", 0, 1000);
  ASSERT_TRUE(all) << all.error().message;
  ASSERT_EQ(all->size(), p1_seqs.size());
  for (size_t i = 0; i < all->size(); ++i) {
    EXPECT_EQ((*all)[i].sequence, p1_seqs[i]);
    EXPECT_EQ((*all)[i].record.person_id, "P1");
  }
  // Pages of 5, each starting after the last sequence of the one before.
  std::vector<uint64_t> paged;
  uint64_t after = 0;
  for (;;) {
    auto page = log->ForPerson("P1", after, 5);
    ASSERT_TRUE(page);
    if (page->empty()) break;
    ASSERT_LE(page->size(), 5u);
    for (const auto& r : *page) paged.push_back(r.sequence);
    after = page->back().sequence;
  }
  EXPECT_EQ(paged, p1_seqs);
  // `after` inside a write's entry.
  auto tail = log->ForPerson("P1", p1_seqs[3], 2);
  ASSERT_TRUE(tail);
  ASSERT_EQ(tail->size(), 2u);
  EXPECT_EQ((*tail)[0].sequence, p1_seqs[4]);
  EXPECT_EQ((*tail)[1].sequence, p1_seqs[5]);
}

// The index as written before one entry per person per write (one empty entry per read)
// is read as it was.
TEST_F(AccessLogTest, IndexOfOneEntryPerReadIsStillRead) {
  {
    auto log = Open();
    for (int i = 1; i <= 4; ++i) log->Record(Read("u" + std::to_string(i), i == 3 ? "P2" : "P1", now_ + i));
    ASSERT_TRUE(log->Flush());
  }
  {
    rocksdb::DB* raw = nullptr;
    ASSERT_TRUE(rocksdb::DB::Open(rocksdb::Options(), dir_.Sub("access"), &raw).ok());
    std::unique_ptr<rocksdb::DB> db(raw);
    auto key = [](const std::string& person, int seq) {
      std::string k = "p" + person;
      k.push_back('\0');
      for (int i = 7; i >= 0; --i) k.push_back(static_cast<char>(i == 0 ? seq : 0));
      return k;
    };
    rocksdb::WriteBatch wb;
    wb.Delete(key("P1", 4));  // this write's entry for P1 (1, 2, 4)
    wb.Delete(key("P2", 3));
    for (int seq : {1, 2, 4}) wb.Put(key("P1", seq), "");
    wb.Put(key("P2", 3), "");
    ASSERT_TRUE(db->Write(rocksdb::WriteOptions(), &wb).ok());
  }
  auto log = Open();
  auto p1 = log->ForPerson("P1", 1, 10);
  ASSERT_TRUE(p1);
  ASSERT_EQ(p1->size(), 2u);
  EXPECT_EQ((*p1)[0].sequence, 2u);
  EXPECT_EQ((*p1)[1].sequence, 4u);
  EXPECT_EQ((*p1)[1].record.subject, "u4");
  auto p2 = log->ForPerson("P2", 0, 10);
  ASSERT_TRUE(p2);
  ASSERT_EQ(p2->size(), 1u);
  EXPECT_EQ((*p2)[0].sequence, 3u);
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

// Reads queued while the volume is below the free-space floor are held, not lost: once
// space is back they are written in the order they were made, before the reads queued
// while they waited, each listed for its person and in the chain.
TEST_F(AccessLogTest, ReadsHeldBelowTheFloorAreWrittenInOrderOnceSpaceIsBack) {
  SmallVolume volume(16);
  ASSERT_TRUE(volume.mounted()) << volume.error();
  AccessLogOptions o;
  o.path = volume.Sub("access");
  o.flush_interval = std::chrono::milliseconds(20);
  o.clock = [this] { return domain::Timestamp{now_.load()}; };
  o.min_free_bytes = 4 << 20;
  auto opened = AccessLog::Open(o);
  ASSERT_TRUE(opened) << opened.error().message;
  auto& log = *opened;
  log->Record(Read("before", "P1", now_ + 1));
  ASSERT_TRUE(log->Flush());

  volume.FillLeaving("filler", 1 << 20);
  for (int i = 0; i < 3; ++i) log->Record(Read("held" + std::to_string(i), i == 1 ? "P2" : "P1", now_ + 2 + i));
  auto held = log->Flush();
  ASSERT_FALSE(held);
  EXPECT_EQ(held.error().code, StoreErrorCode::kNoSpace);
  auto refusal = log->WriteRefusal();  // reads are refused meanwhile (looked at without the lock)
  ASSERT_TRUE(refusal);
  EXPECT_EQ(refusal->code, StoreErrorCode::kNoSpace);
  log->Record(Read("later", "P1", now_ + 5));
  ASSERT_FALSE(log->Flush());  // held again, with the one queued meanwhile behind them
  EXPECT_EQ(log->Pending(), 4u);
  EXPECT_EQ(log->LastSequence(), 1u);

  volume.Remove("filler");
  ASSERT_TRUE(log->Flush());
  EXPECT_FALSE(log->WriteRefusal());
  EXPECT_EQ(log->Pending(), 0u);
  EXPECT_EQ(log->LastSequence(), 5u);
  auto p1 = log->ForPerson("P1", 0, 10);
  ASSERT_TRUE(p1);
  std::vector<std::pair<uint64_t, std::string>> got;
  for (const auto& r : *p1) got.emplace_back(r.sequence, r.record.subject);
  EXPECT_EQ(got, (std::vector<std::pair<uint64_t, std::string>>{{1, "before"}, {2, "held0"}, {4, "held2"}, {5, "later"}}));
  auto p2 = log->ForPerson("P2", 0, 10);
  ASSERT_TRUE(p2);
  ASSERT_EQ(p2->size(), 1u);
  EXPECT_EQ((*p2)[0].sequence, 3u);
  EXPECT_EQ((*p2)[0].record, Read("held1", "P2", now_ + 3));
  auto chain = log->VerifyChain();
  ASSERT_TRUE(chain);
  EXPECT_EQ(chain->first_bad_sequence, 0u);
  EXPECT_EQ(chain->records, 5u);
}

// An access record's fields as cereal serializes them (access_record.cc's format 1).
struct CerealFields {
  int64_t at;
  std::string subject, role, person_id, endpoint;
  int32_t status;
  template <class A> void serialize(A& ar) { ar(at, subject, role, person_id, endpoint, status); }
};

std::string Format1Bytes(const AccessRecord& r) {
  return std::string(1, '\x01') +
         domain::EncodeCereal(CerealFields{r.at.micros, r.subject, r.role, r.person_id, r.endpoint, r.status});
}

// Format 2, byte by byte: a server's read record in 54 bytes (format 1 took 111), appended
// after what the buffer held; the returned offset is where the person's id starts.
TEST(AccessRecordTest, Format2IsVarintsSizedStringsAndCodes) {
  const AccessRecord r{domain::Timestamp{1'700'000'000'123'456}, "bench-loadgen", "operator",
                       "01HZXK8J9Q2W3E4R5T6Y7U8I9O", "GET /v1/people/{id}", 200};
  std::string out = "prefix";
  const size_t person_at = AppendAccessRecord(r, out);
  std::string expected = "\x02";
  uint64_t at = uint64_t{1'700'000'000'123'456} * 2;  // zigzag of a positive number
  while (at >= 0x80) {
    expected.push_back(static_cast<char>(at | 0x80));
    at >>= 7;
  }
  expected.push_back(static_cast<char>(at));
  expected += "\x0d" "bench-loadgen";
  expected += "\x01";  // operator
  expected += "\x1a" "01HZXK8J9Q2W3E4R5T6Y7U8I9O";
  expected += std::string(1, '\0');  // GET /v1/people/{id}
  expected += "\x90\x03";  // zigzag(200) = 400
  EXPECT_EQ(out, "prefix" + expected);
  EXPECT_EQ(expected.size(), 54u);
  EXPECT_EQ(Format1Bytes(r).size(), 111u);
  EXPECT_EQ(out.substr(person_at, r.person_id.size()), r.person_id);
  EXPECT_EQ(EncodeAccessRecord(r), expected);
  auto decoded = DecodeAccessRecord(expected);
  ASSERT_TRUE(decoded);
  EXPECT_EQ(*decoded, r);
}

// Texts without a code go literally; negative numbers and empty strings come back as
// they were; every role a server records and every endpoint has its one-byte code.
TEST(AccessRecordTest, Format2RoundTripsLiteralsAndEdgeValues) {
  const std::string long_endpoint(300, 'e');
  std::vector<AccessRecord> records = {
      {domain::Timestamp{-5}, "", "", "P", long_endpoint, -1},
      {domain::Timestamp{0}, std::string(200, 's'), "superuser", "", "GET /v1/people/{id}/access-log", 0},
      {domain::Timestamp{INT64_MIN}, "x", "auditor", "P2", "", INT32_MIN},
      {domain::Timestamp{INT64_MAX}, "y", "admin", "P3", "GET /v1/people?tax_code", INT32_MAX}};
  for (const char* role : {"operator", "lab", "gp", "school", "mayor", "auditor", "admin"}) {
    records.push_back({domain::Timestamp{1}, "z", role, "P", "GET /v1/people/{id}/history", 304});
  }
  for (const AccessRecord& r : records) {
    const std::string bytes = EncodeAccessRecord(r);
    auto decoded = DecodeAccessRecord(bytes);
    ASSERT_TRUE(decoded) << r.role << " " << r.endpoint.size();
    EXPECT_EQ(*decoded, r);
    std::string out;
    const size_t person_at = AppendAccessRecord(r, out);
    EXPECT_EQ(out, bytes);
    EXPECT_EQ(out.substr(person_at, r.person_id.size()), r.person_id);
  }
  EXPECT_EQ(EncodeAccessRecord(records[4]).size(), 1 + 1 + 2 + 1 + 2 + 1 + 2u);  // operator and history coded
}

// Records written before format 2 (cereal's bytes, format byte 1) read as they were.
TEST(AccessRecordTest, Format1RecordsAreStillRead) {
  for (const AccessRecord& r : {AccessRecord{domain::Timestamp{1'700'000'000'123'456}, "bench-loadgen", "operator",
                                             "01HZXK8J9Q2W3E4R5T6Y7U8I9O", "GET /v1/people/{id}", 200},
                                AccessRecord{domain::Timestamp{-5}, "", "", "P", std::string(300, 'e'), -1}}) {
    const std::string old = Format1Bytes(r);
    EXPECT_EQ(EncodeAccessRecord(r, 1), old);
    auto decoded = DecodeAccessRecord(old);
    ASSERT_TRUE(decoded);
    EXPECT_EQ(*decoded, r);
  }
}

// One encoding per record: anything the encoder would not have written is refused.
TEST(AccessRecordTest, Format2RefusesWhatTheEncoderNeverWrites) {
  const AccessRecord r{domain::Timestamp{7}, "s", "operator", "P", "GET /v1/people/{id}", 200};
  const std::string good = EncodeAccessRecord(r);
  ASSERT_EQ(good, std::string("\x02\x0e\x01s\x01\x01P\x00\x90\x03", 10));
  ASSERT_TRUE(DecodeAccessRecord(good));
  auto refused = [](std::string bytes) { return !DecodeAccessRecord(bytes).has_value(); };
  EXPECT_TRUE(refused(""));
  EXPECT_TRUE(refused("\x03"));
  EXPECT_TRUE(refused(good + "x"));                                     // bytes left over
  EXPECT_TRUE(refused(good.substr(0, good.size() - 1)));                // short
  EXPECT_TRUE(refused(std::string("\x02\x8e\x00\x01s\x01\x01P\x00\x90\x03", 11)));  // at in two bytes
  EXPECT_TRUE(refused(std::string("\x02\x0e\x01s\x08\x01P\x00\x90\x03", 10)));      // role code 8
  EXPECT_TRUE(refused(std::string("\x02\x0e\x01s\x01\x01P\x04\x90\x03", 10)));      // endpoint code 4
  EXPECT_TRUE(refused(std::string("\x02\x0e\x01s\xff\x08operator\x01P\x00\x90\x03", 19)));  // a coded text literally
  EXPECT_TRUE(refused(std::string("\x02\x0e\x01s\x01\x05P\x00\x90\x03", 10)));      // person longer than the bytes
  // status 2^31: zigzag 2^32, beyond an int
  EXPECT_TRUE(refused(std::string("\x02\x0e\x01s\x01\x01P\x00\x80\x80\x80\x80\x10", 13)));
  EXPECT_TRUE(refused(std::string("\x02\xff\xff\xff\xff\xff\xff\xff\xff\xff\x02\x01s\x01\x01P\x00\x90\x03", 19)));  // 65 bits
  const std::string literal = EncodeAccessRecord({domain::Timestamp{7}, "s", "nurse", "P", "GET /x", 200});
  ASSERT_TRUE(DecodeAccessRecord(literal));
  EXPECT_EQ(DecodeAccessRecord(literal)->role, "nurse");
}

// The writer's queue: each record's bytes and person as they were added; a write that could
// not be made puts its records back before the ones queued meanwhile (Append), in order.
TEST(AccessRecordQueueTest, RecordsComeBackInOrderAfterAHeldWriteIsPutBeforeTheLaterOnes) {
  const std::vector<AccessRecord> records = {
      {domain::Timestamp{1}, "alice", "operator", "01HZXK8J9Q2W3E4R5T6Y7U8I9O", "GET /v1/people/{id}", 200},
      {domain::Timestamp{2}, "bob", "gp", "P2", "GET /v1/people/{id}/history", 404},
      {domain::Timestamp{3}, "carol", "", "", "GET /v1/people?tax_code", 200},
      {domain::Timestamp{4}, "dave", "auditor", "P4", "GET /v1/people/{id}/access-log", 200}};
  AccessRecordQueue held, later;
  held.Add(records[0]);
  held.Add(records[1]);
  later.Add(records[2]);
  later.Add(records[3]);
  held.Append(later);
  ASSERT_EQ(held.size(), 4u);
  for (size_t i = 0; i < records.size(); ++i) {
    EXPECT_EQ(held.Body(i), EncodeAccessRecord(records[i])) << i;
    EXPECT_EQ(held.Person(i), records[i].person_id) << i;
  }
  held.Clear();
  EXPECT_TRUE(held.empty());
  held.Add(records[3]);
  EXPECT_EQ(held.Body(0), EncodeAccessRecord(records[3]));
}

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
