#include "eventstore/access_log.h"

#include "eventstore/access_log_test_fixture.h"
#include "eventstore/access_record.h"
#include "eventstore/record_format.h"
#include "tests/support/small_volume.h"

#include <gtest/gtest.h>
#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>

#include <atomic>
#include <map>
#include <string>
#include <thread>
#include <vector>

namespace caseledger::eventstore {
namespace {

using caseledger::testing::SmallVolume;

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

// Threads queue their records apart (each its own queue and lock): one write takes them
// all and lists them in the order of their instants, whichever thread recorded them.
TEST_F(AccessLogTest, RecordsOfManyThreadsAreWrittenInTheOrderOfTheirInstants) {
  AccessLogOptions o;
  o.path = dir_.Sub("access");
  o.flush_interval = std::chrono::hours(1);  // one write, at Flush()
  auto log = AccessLog::Open(o);
  ASSERT_TRUE(log);
  constexpr int kThreads = 4, kEach = 300;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) (*log)->Record(Read("t" + std::to_string(t), "P1", now_ + i * kThreads + t));
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ((*log)->Pending(), uint64_t{kThreads * kEach});
  ASSERT_TRUE((*log)->Flush());
  EXPECT_EQ((*log)->Pending(), 0u);
  auto listed = (*log)->ForPerson("P1", 0, 2 * kThreads * kEach);
  ASSERT_TRUE(listed);
  ASSERT_EQ(listed->size(), size_t{kThreads * kEach});
  for (size_t i = 0; i < listed->size(); ++i) {
    const StoredAccessRecord& r = (*listed)[i];
    EXPECT_EQ(r.sequence, i + 1);
    ASSERT_EQ(r.record.at.micros, now_ + static_cast<int64_t>(i)) << "at sequence " << r.sequence;
    EXPECT_EQ(r.record.subject, "t" + std::to_string(i % kThreads));
  }
  auto chain = (*log)->VerifyChain();
  ASSERT_TRUE(chain);
  EXPECT_EQ(chain->first_bad_sequence, 0u);
}

// A Flush() returns once every record queued before it is written, whichever thread's
// queue holds it, while other threads go on recording.
TEST_F(AccessLogTest, AFlushWaitsForWhatItsThreadQueuedWhileOthersRecord) {
  auto log = Open();
  ASSERT_TRUE(log);
  constexpr int kThreads = 4, kEach = 40;
  std::atomic<int> short_lists{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      const std::string person = "P" + std::to_string(t);
      for (int i = 0; i < kEach; ++i) {
        log->Record(Read("t", person, now_ + i));
        if (!log->Flush()) return;
        auto listed = log->ForPerson(person, 0, 1000);
        if (!listed || listed->size() != static_cast<size_t>(i + 1)) ++short_lists;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(short_lists.load(), 0);
  EXPECT_EQ(log->LastSequence(), uint64_t{kThreads * kEach});
  EXPECT_EQ(log->Pending(), 0u);
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

// Index entries are one per person per write, scattered over the index: over many writes,
// people first read between people already indexed, ids that are prefixes of others, the
// report of each still lists exactly their reads in order, before and after a reopen.
TEST_F(AccessLogTest, ReadsOfPeopleInterleavedOverManyWritesAreListedPerPerson) {
  const std::vector<std::string> people = {"P5", "P1", "P9", "P3", "P7", "P2", "P10", "P8", "P4", "P6", "P55", "P0"};
  std::map<std::string, std::vector<std::string>> expected;  // person -> subjects, in order
  {
    auto log = Open();
    int64_t at = now_;
    for (int write = 0; write < 12; ++write) {
      // Write w reads the first w + 1 people (newcomers sort between those already read), twice
      // for every third person.
      for (int p = 0; p <= write; ++p) {
        for (int again = 0; again < (p % 3 == 0 ? 2 : 1); ++again) {
          const std::string who = "s" + std::to_string(write) + "-" + std::to_string(again);
          log->Record(Read(who, people[p], ++at));
          expected[people[p]].push_back(who);
        }
      }
      ASSERT_TRUE(log->Flush());
    }
    for (const auto& [person, subjects] : expected) {
      auto listed = log->ForPerson(person, 0, 1000);
      ASSERT_TRUE(listed);
      std::vector<std::string> got;
      for (const auto& r : *listed) got.push_back(r.record.subject);
      EXPECT_EQ(got, subjects) << person;
    }
  }
  auto log = Open();
  for (const auto& [person, subjects] : expected) {
    auto listed = log->ForPerson(person, 0, 1000);
    ASSERT_TRUE(listed);
    ASSERT_EQ(listed->size(), subjects.size()) << person;
    for (size_t i = 1; i < listed->size(); ++i) EXPECT_LT((*listed)[i - 1].sequence, (*listed)[i].sequence);
  }
  auto chain = log->VerifyChain();
  ASSERT_TRUE(chain);
  EXPECT_EQ(chain->first_bad_sequence, 0u);
}

// One write per record (each its own entry): the altered record is found at its sequence.
TEST_F(AccessLogTest, AlteredRecordIsFoundAtItsSequence) {
  {
    auto log = Open();
    for (int i = 1; i <= 5; ++i) {
      log->Record(Read("u" + std::to_string(i), "P1", now_ + i));
      ASSERT_TRUE(log->Flush());
    }
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

// A write's records are one entry (format 3) per 1,024 records, not one key each; the
// report finds every record inside them, and the chain counts every record.
TEST_F(AccessLogTest, AWritesRecordsAreStoredAsEntriesOfAtMost1024) {
  {
    auto log = Open();
    for (int i = 0; i < 2500; ++i) log->Record(Read("u" + std::to_string(i), i % 7 == 0 ? "P1" : "P2", now_ + i));
    ASSERT_TRUE(log->Flush());
    log->Record(Read("later", "P1", now_ + 2500));
    ASSERT_TRUE(log->Flush());
  }
  auto entries = RecordEntries(dir_.Sub("access"));
  ASSERT_EQ(entries.size(), 4u);
  const std::vector<std::pair<uint64_t, uint64_t>> expected = {{1, 1024}, {1025, 1024}, {2049, 452}, {2501, 1}};
  for (size_t i = 0; i < entries.size(); ++i) {
    EXPECT_EQ(entries[i].first, expected[i].first);
    auto split = format::Split(entries[i].second);
    ASSERT_TRUE(split);
    EXPECT_EQ(split->record_body.front(), kAccessEntryFormat);
    EXPECT_EQ(AccessRecordsIn(split->record_body), expected[i].second);
  }
  auto log = Open();  // the tip is the last entry's last record
  EXPECT_EQ(log->LastSequence(), 2501u);
  auto p1 = log->ForPerson("P1", 1020, 1000);
  ASSERT_TRUE(p1) << p1.error().message;
  std::vector<uint64_t> seqs;
  for (const auto& r : *p1) {
    seqs.push_back(r.sequence);
    const auto i = static_cast<int64_t>(r.sequence) - 1;
    if (r.sequence <= 2500) {
      EXPECT_EQ(r.record, Read("u" + std::to_string(i), "P1", now_ + i));
    }
  }
  std::vector<uint64_t> want;
  for (uint64_t seq = 1021; seq <= 2500; ++seq) {
    if ((seq - 1) % 7 == 0) want.push_back(seq);
  }
  want.push_back(2501);
  EXPECT_EQ(seqs, want);
  auto chain = log->VerifyChain();
  ASSERT_TRUE(chain);
  EXPECT_EQ(chain->first_bad_sequence, 0u);
  EXPECT_EQ(chain->records, 2501u);
}

// Records of one write more than a second apart go in entries of their own, so that each
// is pruned once it alone is past the retention; an entry goes only whole.
TEST_F(AccessLogTest, AnEntryIsPrunedOnceAllItsRecordsArePastTheRetention) {
  auto log = Open();
  const int64_t t0 = now_.load();
  log->Record(Read("a", "P1", t0 - 40 * kDay));
  log->Record(Read("b", "P2", t0 - 40 * kDay + 500'000));
  log->Record(Read("c", "P1", t0 - 30 * kDay + 1'000'000));  // a second past the first: its own entry
  log->Record(Read("d", "P1", t0 - 30 * kDay + 1'500'000));
  ASSERT_TRUE(log->Flush());
  auto entries = RecordEntries(dir_.Sub("access"));
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(entries[1].first, 3u);
  now_ += 1'200'000;  // c past the retention, d not
  auto pruned = log->Prune();
  ASSERT_TRUE(pruned);
  EXPECT_EQ(*pruned, 2u);
  auto p1 = log->ForPerson("P1", 0, 10);
  ASSERT_TRUE(p1);
  ASSERT_EQ(p1->size(), 2u);
  EXPECT_EQ((*p1)[0].record.subject, "c");
  EXPECT_EQ((*p1)[1].record.subject, "d");
  now_ += 1'000'000;
  pruned = log->Prune();
  ASSERT_TRUE(pruned);
  EXPECT_EQ(*pruned, 2u);
  p1 = log->ForPerson("P1", 0, 10);
  ASSERT_TRUE(p1);
  EXPECT_TRUE(p1->empty());
  log->Record(Read("e", "P1", now_));
  ASSERT_TRUE(log->Flush());
  auto chain = log->VerifyChain();
  ASSERT_TRUE(chain);
  EXPECT_EQ(chain->first_bad_sequence, 0u);
  EXPECT_EQ(chain->records, 1u);
  EXPECT_EQ(log->LastSequence(), 5u);
}

// A record changed inside a write's entry breaks that entry's link of the chain: found at
// the entry's first sequence, and the entries before it verify.
TEST_F(AccessLogTest, ARecordAlteredInsideAWritesEntryIsFoundAtTheEntrysFirstSequence) {
  {
    auto log = Open();
    log->Record(Read("u1", "P1", now_ + 1));
    ASSERT_TRUE(log->Flush());
    for (int i = 2; i <= 5; ++i) log->Record(Read("u" + std::to_string(i), "P1", now_ + i));
    ASSERT_TRUE(log->Flush());
  }
  {
    rocksdb::DB* raw = nullptr;
    ASSERT_TRUE(rocksdb::DB::Open(rocksdb::Options(), dir_.Sub("access"), &raw).ok());
    std::unique_ptr<rocksdb::DB> db(raw);
    std::string key = "r";
    format::PutFixed64BE(key, 2);
    std::string value;
    ASSERT_TRUE(db->Get(rocksdb::ReadOptions(), key, &value).ok());
    const size_t at = value.find("u4");
    ASSERT_NE(at, std::string::npos);
    value[at + 1] = '9';  // u4 -> u9: still a well-formed record
    ASSERT_TRUE(db->Put(rocksdb::WriteOptions(), key, value).ok());
  }
  auto log = Open();
  auto p1 = log->ForPerson("P1", 0, 10);
  ASSERT_TRUE(p1);
  ASSERT_EQ(p1->size(), 5u);
  EXPECT_EQ((*p1)[3].record.subject, "u9");
  auto chain = log->VerifyChain();
  ASSERT_TRUE(chain);
  EXPECT_EQ(chain->first_bad_sequence, 2u);
  EXPECT_EQ(chain->records, 1u);
}

}  // namespace
}  // namespace caseledger::eventstore
