// Tamper evidence: changing or removing one stored envelope is found at its position.
#include "eventstore/event_store.h"
#include "eventstore/record_format.h"

#include "tests/support/temp_dir.h"

#include <gtest/gtest.h>
#include <rocksdb/db.h>

#include <type_traits>

namespace caseledger::eventstore {
namespace {

class VerifyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    StoreOptions o;
    o.path = dir_.Sub("db");
    o.master_key_path = dir_.Sub("master.key");
    auto store = EventStore::Open(o);
    ASSERT_TRUE(store);
    for (int i = 0; i < 20; ++i) {
      AppendRequest r;
      r.stream = "person-" + std::to_string(i % 3);
      r.events.push_back({"T", 1, "body-" + std::to_string(i), "personal", {}});
      ASSERT_TRUE((*store)->Append(r));
    }
  }

  // Position 7's body altered and stored with its own chain hash recomputed, as a forger
  // would: the chain breaks only at the next link. Position 6 stores only a check of its
  // hash (layout 4): the forger recomputes the chain from the start, as verify does.
  void ForgeSevenRehashed() {
    Tamper([](rocksdb::DB* db, rocksdb::ColumnFamilyHandle* events) {
      domain::Hash prev{};
      for (uint64_t pos = 1; pos <= 6; ++pos) {
        std::string value;
        ASSERT_TRUE(db->Get({}, events, format::PositionKey(pos), &value).ok());
        prev = format::ChainHash(prev, pos, format::Split(value)->record_body);
      }
      std::string v;
      ASSERT_TRUE(db->Get({}, events, format::PositionKey(7), &v).ok());
      auto split = format::Split(v);
      ASSERT_FALSE(split->whole);
      std::string body(split->record_body);
      body[body.find("body-6") + 5] = '9';
      ASSERT_TRUE(db->Put({}, events, format::PositionKey(7), format::EncodeValue(body, format::ChainHash(prev, 7, body)))
                      .ok());
    });
  }

  // Opens the raw RocksDB under the store and applies `change` to the events family (and,
  // for a change taking three arguments, the streams family).
  template <class F>
  void Tamper(F change) {
    std::vector<rocksdb::ColumnFamilyDescriptor> cfs;
    std::vector<std::string> names;
    ASSERT_TRUE(rocksdb::DB::ListColumnFamilies({}, dir_.Sub("db"), &names).ok());
    for (const auto& n : names) cfs.push_back({n, {}});
    std::vector<rocksdb::ColumnFamilyHandle*> handles;
    rocksdb::DB* db = nullptr;
    ASSERT_TRUE(rocksdb::DB::Open({}, dir_.Sub("db"), cfs, &handles, &db).ok());
    rocksdb::ColumnFamilyHandle* events = nullptr;
    rocksdb::ColumnFamilyHandle* streams = nullptr;
    for (size_t i = 0; i < names.size(); ++i) {
      if (names[i] == format::kEvents) events = handles[i];
      if (names[i] == format::kStreams) streams = handles[i];
    }
    if constexpr (std::is_invocable_v<F, rocksdb::DB*, rocksdb::ColumnFamilyHandle*, rocksdb::ColumnFamilyHandle*>) {
      change(db, events, streams);
    } else {
      change(db, events);
    }
    for (auto* h : handles) db->DestroyColumnFamilyHandle(h);
    delete db;
  }

  VerifyReport Verify() {
    auto r = VerifyStore({dir_.Sub("db"), {}, 1'000'000});
    EXPECT_TRUE(r);
    return r ? *r : VerifyReport{};
  }

  caseledger::testing::TempDir dir_;
};

TEST_F(VerifyTest, IntactLogVerifies) {
  VerifyReport r = Verify();
  EXPECT_EQ(r.first_bad_position, 0u) << r.problem;
  EXPECT_EQ(r.events_checked, 20u);
  EXPECT_EQ(r.index_entries_checked, 20u);
}

TEST_F(VerifyTest, AlteredEnvelopeIsFoundAtItsPosition) {
  Tamper([](rocksdb::DB* db, rocksdb::ColumnFamilyHandle* events) {
    std::string v;
    ASSERT_TRUE(db->Get({}, events, format::PositionKey(7), &v).ok());
    size_t at = v.find("body-6");
    ASSERT_NE(at, std::string::npos);
    v[at + 5] = '9';  // "body-6" -> "body-9"
    ASSERT_TRUE(db->Put({}, events, format::PositionKey(7), v).ok());
  });
  VerifyReport r = Verify();
  EXPECT_EQ(r.first_bad_position, 7u) << r.problem;
}

TEST_F(VerifyTest, RehashedForgeryBreaksTheNextLink) {
  // A forger who recomputes the altered envelope's own hash still breaks position 8.
  ForgeSevenRehashed();
  VerifyReport r = Verify();
  EXPECT_EQ(r.first_bad_position, 8u) << r.problem;
}

TEST_F(VerifyTest, MissingPositionIsFound) {
  Tamper([](rocksdb::DB* db, rocksdb::ColumnFamilyHandle* events) {
    ASSERT_TRUE(db->Delete({}, events, format::PositionKey(12)).ok());
  });
  VerifyReport r = Verify();
  EXPECT_EQ(r.first_bad_position, 12u) << r.problem;
}

TEST_F(VerifyTest, FlippedBitInAStoredHashIsFoundAtItsPosition) {
  Tamper([](rocksdb::DB* db, rocksdb::ColumnFamilyHandle* events) {
    std::string v;
    ASSERT_TRUE(db->Get({}, events, format::PositionKey(9), &v).ok());
    v[v.size() - 2] ^= 0x10;  // inside the hash check (layout 4) that ends the value
    ASSERT_TRUE(db->Put({}, events, format::PositionKey(9), v).ok());
  });
  VerifyReport r = Verify();
  EXPECT_EQ(r.first_bad_position, 9u) << r.problem;
}

TEST_F(VerifyTest, ReorderedStreamIndexEntriesAreFoundAtTheFirstEventTheyMisplace) {
  // person-0 holds positions 1, 4, 7, ...: swap its index entries for versions 2 and 3.
  Tamper([](rocksdb::DB* db, rocksdb::ColumnFamilyHandle*, rocksdb::ColumnFamilyHandle* streams) {
    std::string v2, v3;
    ASSERT_TRUE(db->Get({}, streams, format::StreamKey("person-0", 2), &v2).ok());
    ASSERT_TRUE(db->Get({}, streams, format::StreamKey("person-0", 3), &v3).ok());
    ASSERT_EQ(format::DecodePositionRef(v2), 4u);
    ASSERT_TRUE(db->Put({}, streams, format::StreamKey("person-0", 2), v3).ok());
    ASSERT_TRUE(db->Put({}, streams, format::StreamKey("person-0", 3), v2).ok());
  });
  VerifyReport r = Verify();
  EXPECT_EQ(r.first_bad_position, 4u) << r.problem;
  EXPECT_NE(r.problem.find("stream index"), std::string::npos) << r.problem;
}

// The store after Tamper, opened without re-verifying its tail (so that a tampered record
// near the end is left for the read under test to find).
std::unique_ptr<EventStore> OpenUnverified(const std::string& path, const std::string& key) {
  StoreOptions o;
  o.path = path;
  o.master_key_path = key;
  o.verify_tail_on_open = 0;
  auto store = EventStore::Open(o);
  EXPECT_TRUE(store) << store.error().message;
  return store ? std::move(*store) : nullptr;
}

TEST_F(VerifyTest, ReadStreamsSealedGivesTheLogsEnvelopesStreamByStream) {
  auto store = OpenUnverified(dir_.Sub("db"), dir_.Sub("master.key"));
  ASSERT_TRUE(store);
  auto log = store->ReadLog(1, 100);  // sealed, as the streams read must be
  ASSERT_TRUE(log);
  ASSERT_EQ(log->size(), 20u);
  // person-1 holds 2, 5, ..., 20 (across the anchor at 16); "person-" and "nobody" none.
  const std::vector<std::string> streams = {"person-2", "person-0", "nobody", "person-1", "person-"};
  for (uint64_t until : {uint64_t{20}, uint64_t{16}, uint64_t{7}, uint64_t{1000}}) {
    std::vector<std::vector<domain::Envelope>> read;
    auto r = store->ReadStreamsSealed(streams, until, read);
    ASSERT_TRUE(r) << r.error().message;
    ASSERT_EQ(read.size(), streams.size());
    for (size_t i = 0; i < streams.size(); ++i) {
      std::vector<domain::Envelope> expected;
      for (const domain::Envelope& e : *log) {
        if (e.stream == streams[i] && e.position <= until) expected.push_back(e);
      }
      EXPECT_EQ(read[i], expected) << streams[i] << " until " << until;
    }
  }
  std::vector<std::vector<domain::Envelope>> read;
  ASSERT_TRUE(store->ReadStreamsSealed({"person-0"}, 20, read));
  ASSERT_EQ(read.size(), 1u);
  ASSERT_EQ(read[0].size(), 7u);
  EXPECT_EQ(read[0][2].personal_form, domain::PersonalForm::kSealed);
  EXPECT_TRUE(read[0][2].personal.empty()) << "the personal part is not opened";
}

TEST_F(VerifyTest, ReadStreamsSealedFindsAnAlteredEnvelope) {
  Tamper([](rocksdb::DB* db, rocksdb::ColumnFamilyHandle* events) {
    std::string v;
    ASSERT_TRUE(db->Get({}, events, format::PositionKey(7), &v).ok());
    v[v.find("body-6") + 5] = '9';
    ASSERT_TRUE(db->Put({}, events, format::PositionKey(7), v).ok());
  });
  auto store = OpenUnverified(dir_.Sub("db"), dir_.Sub("master.key"));
  ASSERT_TRUE(store);
  std::vector<std::vector<domain::Envelope>> read;
  auto r = store->ReadStreamsSealed({"person-0"}, 20, read);  // 1, 4, 7, ...
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, StoreErrorCode::kCorruption);
  EXPECT_EQ(r.error().position, 7u) << r.error().message;
}

TEST_F(VerifyTest, ReadStreamsSealedFindsARehashedForgeryAtTheNextLinkItReads) {
  // As RehashedForgeryBreaksTheNextLink: position 7 forged with its own hash recomputed.
  ForgeSevenRehashed();
  auto store = OpenUnverified(dir_.Sub("db"), dir_.Sub("master.key"));
  ASSERT_TRUE(store);
  std::vector<std::vector<domain::Envelope>> read;
  // person-1 (2, 5, 8, ...) does not hold 7, but the walk from 5 to 8 hashes it.
  auto r = store->ReadStreamsSealed({"person-1"}, 20, read);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, StoreErrorCode::kCorruption);
  EXPECT_EQ(r.error().position, 8u) << r.error().message;
  // Read up to 7 only, person-1 (2, 5) is intact.
  ASSERT_TRUE(store->ReadStreamsSealed({"person-1"}, 7, read));
  EXPECT_EQ(read[0].size(), 2u);
}

TEST_F(VerifyTest, OpenRefusesALogWhoseTailWasAltered) {
  Tamper([](rocksdb::DB* db, rocksdb::ColumnFamilyHandle* events) {
    std::string v;
    ASSERT_TRUE(db->Get({}, events, format::PositionKey(20), &v).ok());
    v[3] ^= 1;
    ASSERT_TRUE(db->Put({}, events, format::PositionKey(20), v).ok());
  });
  StoreOptions o;
  o.path = dir_.Sub("db");
  auto store = EventStore::Open(o);
  ASSERT_FALSE(store);
  EXPECT_EQ(store.error().code, StoreErrorCode::kCorruption);
  EXPECT_EQ(store.error().position, 20u);
}

}  // namespace
}  // namespace caseledger::eventstore
