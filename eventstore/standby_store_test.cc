// The store's side of a warm standby (standby.h): what a primary ships from its WAL is
// applied byte for byte on a standby, checked batch by batch and record by record; a gap,
// a fork, an altered record or another master key is refused with nothing written; a
// promoted standby writes on from the primary's chain; a fenced primary writes no more.
#include "eventstore/event_store.h"
#include "eventstore/standby_frame.h"
#include "eventstore/standby_seed.h"
#include "tests/support/temp_dir.h"

#include <gtest/gtest.h>
#include <rocksdb/db.h>

#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

namespace caseledger::eventstore {
namespace {

std::unique_ptr<EventStore> OpenStore(const std::string& path, const std::string& key, uint64_t archive_seconds = 0) {
  StoreOptions o;
  o.path = path;
  o.master_key_path = key;
  o.wal_archive_seconds = archive_seconds;
  auto s = EventStore::Open(o);
  EXPECT_TRUE(s) << s.error().message;
  return s ? std::move(*s) : nullptr;
}

AppendRequest Registration(const std::string& stream, const std::string& tax_code, const std::string& key = "") {
  AppendRequest r;
  r.stream = stream;
  r.expected = ExpectedVersion::NoStream();
  r.events.push_back({"PersonRegistered", 1, "public-" + stream, "personal " + tax_code, {}});
  r.claims = {"taxcode/" + tax_code, "swab/" + stream};
  r.idempotency_key = key;
  r.request_digest = key.empty() ? "" : "digest-" + key;
  return r;
}

// Every key and value of every column family, in order.
std::vector<std::string> Dump(const std::string& path) {
  std::vector<std::string> names;
  EXPECT_TRUE(rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), path, &names).ok());
  std::vector<rocksdb::ColumnFamilyDescriptor> families;
  for (const std::string& n : names) families.emplace_back(n, rocksdb::ColumnFamilyOptions());
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* db = nullptr;
  rocksdb::DBOptions o;
  EXPECT_TRUE(rocksdb::DB::OpenForReadOnly(o, path, families, &handles, &db).ok());
  std::vector<std::string> out;
  for (auto* h : handles) {
    std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions(), h));
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      const std::string key = it->key().ToString();
      if (h->GetName() == "default" && (key == "role" || key == "epoch" || key == "standby-applied" || key == "standby-seeding")) continue;
      out.push_back(h->GetName() + "/" + key + "=" + it->value().ToString());
    }
    db->DestroyColumnFamilyHandle(h);
  }
  delete db;
  return out;
}

class StandbyStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    primary_ = OpenStore(dir_.Sub("primary"), dir_.Sub("master.key"), 3600);
    std::filesystem::copy_file(dir_.Sub("master.key"), dir_.Sub("standby.key"));
    standby_ = OpenStore(dir_.Sub("standby"), dir_.Sub("standby.key"));
    ASSERT_TRUE(primary_ && standby_);
    ASSERT_TRUE(standby_->BecomeStandby());
  }
  // Everything the primary's WAL holds from the standby's next sequence on.
  StoreResult<StandbyApplied> Ship(EventStore& from, EventStore& to) {
    auto shipped = from.ReadWalSince(to.Role().applied_sequence + 1, 64 << 20);
    if (!shipped) return shipped.error();
    return to.ApplyShipped(*shipped, to.Role().stream_sequence + 1);
  }
  testing::TempDir dir_;
  std::unique_ptr<EventStore> primary_, standby_;
};

TEST_F(StandbyStoreTest, TheStandbyHoldsThePrimarysStoreByteForByte) {
  for (int i = 0; i < 40; ++i) {
    ASSERT_TRUE(primary_->Append(Registration("person-" + std::to_string(i), "TAX" + std::to_string(i), "k" + std::to_string(i))));
  }
  AppendRequest erase;
  erase.stream = "person-3";
  erase.events.push_back({"PersonalDataErased", 1, "reason", "", {}});
  erase.released_claims = {"taxcode/TAX3"};
  erase.erase_personal_data = true;
  ASSERT_TRUE(primary_->Append(erase));
  ASSERT_TRUE(primary_->PutCheckpoint("nats-relay", 12));

  auto applied = Ship(*primary_, *standby_);
  ASSERT_TRUE(applied) << applied.error().message;
  EXPECT_EQ(applied->position, 41u);
  EXPECT_EQ(standby_->CommittedPosition(), primary_->CommittedPosition());
  EXPECT_EQ(standby_->Tip().hash, primary_->Tip().hash);
  EXPECT_EQ(standby_->Role().applied_sequence, primary_->LatestSequence());
  // Shipping again applies nothing twice.
  auto again = primary_->ReadWalSince(1, 64 << 20);
  ASSERT_TRUE(again);
  ASSERT_TRUE(standby_->ApplyShipped(*again, 2));
  EXPECT_EQ(standby_->CommittedPosition(), 41u);

  // Personal data reads back with the same master key; the erased person's does not.
  auto stream = standby_->ReadStream("person-7", 1, 10);
  ASSERT_TRUE(stream);
  ASSERT_EQ(stream->size(), 1u);
  EXPECT_EQ(stream->front().personal, "personal TAX7");
  EXPECT_EQ(stream->front().personal_form, domain::PersonalForm::kOpen);
  auto erased = standby_->ReadStream("person-3", 1, 10);
  ASSERT_TRUE(erased);
  EXPECT_EQ(erased->front().personal_form, domain::PersonalForm::kErased);
  auto owner = standby_->ClaimOwner("taxcode/TAX7");
  ASSERT_TRUE(owner && *owner);
  EXPECT_EQ(**owner, "person-7");
  EXPECT_EQ(*standby_->GetCheckpoint("nats-relay"), 12u);
  // Appends are refused until promoted.
  auto refused = standby_->Append(Registration("person-x", "TAXX"));
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, StoreErrorCode::kWritesRefused);

  // Byte for byte: every family, every key and value (the role markers aside).
  primary_.reset();
  standby_.reset();
  EXPECT_EQ(Dump(dir_.Sub("standby")), Dump(dir_.Sub("primary")));
  auto report = VerifyStore(VerifyOptions{dir_.Sub("standby"), nullptr, 1'000'000});
  ASSERT_TRUE(report);
  EXPECT_EQ(report->first_bad_position, 0u) << report->problem;
}

TEST_F(StandbyStoreTest, PromotedItContinuesThePrimarysChainAndClaims) {
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(primary_->Append(Registration("person-" + std::to_string(i), "TAX" + std::to_string(i), "k" + std::to_string(i))));
  ASSERT_TRUE(Ship(*primary_, *standby_));
  auto role = standby_->Promote();
  ASSERT_TRUE(role) << role.error().message;
  EXPECT_FALSE(role->standby);
  EXPECT_EQ(role->epoch, 1u);
  EXPECT_FALSE(standby_->Promote()) << "promoted once";
  // The primary's claims and idempotency records hold on the promoted node.
  auto taken = standby_->Append(Registration("person-new", "TAX5"));
  ASSERT_FALSE(taken);
  EXPECT_EQ(taken.error().code, StoreErrorCode::kClaimTaken);
  auto replay = standby_->Append(Registration("person-4", "TAX4", "k4"));
  ASSERT_TRUE(replay);
  EXPECT_TRUE(replay->replayed);
  auto next = standby_->Append(Registration("person-20", "TAX20"));
  ASSERT_TRUE(next) << next.error().message;
  EXPECT_EQ(next->first_position, 21u);
  // It stays a primary across a restart, and its chain verifies.
  standby_.reset();
  standby_ = OpenStore(dir_.Sub("standby"), dir_.Sub("standby.key"));
  EXPECT_EQ(standby_->Role().epoch, 1u);
  EXPECT_FALSE(standby_->BecomeStandby()) << "a primary never becomes a standby again";
  ASSERT_TRUE(standby_->Append(Registration("person-21", "TAX21")));
  auto report = VerifyStore(VerifyOptions{dir_.Sub("standby"), nullptr, 1'000'000});
  ASSERT_TRUE(report);
  EXPECT_EQ(report->events_checked, 22u);
  EXPECT_EQ(report->first_bad_position, 0u) << report->problem;
}

// Whether the thread whose id `tid` will hold goes to sleep (state S in /proc) within 10 s.
bool WaitUntilSleeping(const std::atomic<long>& tid) {
  for (int i = 0; i < 10'000; ++i) {
    if (const long t = tid.load(); t != 0) {
      std::ifstream stat("/proc/self/task/" + std::to_string(t) + "/stat");
      std::string line;
      std::getline(stat, line);
      const size_t close = line.rfind(')');  // the name may hold spaces; the state follows it
      if (close != std::string::npos && close + 2 < line.size() && line[close + 2] == 'S') return true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return false;
}

// As on a primary (EventStoreTest.WaitForPositionWakesOnCommit): a waiter woken by the
// applied position finds the commit listeners told of it, so that what it does next (the
// live views' catch-up, a test's return) does not run beside a listener still at work.
TEST_F(StandbyStoreTest, AWaiterWokenByAnAppliedPositionFindsTheListenersToldOfIt) {
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(primary_->Append(Registration("person-" + std::to_string(i), "TAX" + std::to_string(i))));
  std::atomic<uint64_t> told{0};
  standby_->AddCommitListener([&](uint64_t position) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));  // a listener at work
    told.store(position);
  });
  std::atomic<uint64_t> told_when_woken{99};
  std::atomic<long> waiter_tid{0};
  std::thread waiter([&] {
    waiter_tid.store(syscall(SYS_gettid));
    EXPECT_TRUE(standby_->WaitForPosition(3, std::chrono::seconds(10)));
    told_when_woken.store(told.load());
  });
  // The waiter must be parked before anything is applied: one that arrives while the
  // listener works finds the position already visible and does not wait (the contract is
  // about waiters woken). A fixed sleep was not enough on a loaded machine (1 run in 30-60
  // failed there), so wait until the kernel says the thread sleeps.
  ASSERT_TRUE(WaitUntilSleeping(waiter_tid));
  ASSERT_TRUE(Ship(*primary_, *standby_));
  waiter.join();
  EXPECT_EQ(told_when_woken.load(), 3u);
}

TEST_F(StandbyStoreTest, AForkAGapAnAlteredRecordOrAnotherKeyIsRefusedWithNothingWritten) {
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(primary_->Append(Registration("person-" + std::to_string(i), "TAX" + std::to_string(i))));
  ASSERT_TRUE(Ship(*primary_, *standby_));
  const ChainTip before = standby_->Tip();
  const StoreRole role = standby_->Role();

  // A fork: another primary (same master key) with a log of its own.
  std::filesystem::copy_file(dir_.Sub("master.key"), dir_.Sub("other.key"));
  auto other = OpenStore(dir_.Sub("other"), dir_.Sub("other.key"));
  for (int i = 0; i < 8; ++i) ASSERT_TRUE(other->Append(Registration("other-" + std::to_string(i), "OTH" + std::to_string(i))));
  auto fork = other->ReadWalSince(role.applied_sequence + 1, 64 << 20);
  ASSERT_TRUE(fork);
  ASSERT_FALSE(fork->batches.empty());
  auto forked = standby_->ApplyShipped(*fork, 99);
  ASSERT_FALSE(forked);
  EXPECT_EQ(forked.error().code, StoreErrorCode::kCorruption);
  EXPECT_NE(forked.error().message.find("position"), std::string::npos) << forked.error().message;

  // A gap: the primary's next batches without the first of them.
  ASSERT_TRUE(primary_->Append(Registration("person-5", "TAX5")));
  ASSERT_TRUE(primary_->Append(Registration("person-6", "TAX6")));
  auto next = primary_->ReadWalSince(role.applied_sequence + 1, 64 << 20);
  ASSERT_TRUE(next);
  ASSERT_EQ(next->batches.size(), 2u);
  ShippedBatches gap = *next;
  gap.batches.erase(gap.batches.begin());
  auto gapped = standby_->ApplyShipped(gap, 99);
  ASSERT_FALSE(gapped);
  EXPECT_NE(gapped.error().message.find("gap"), std::string::npos) << gapped.error().message;

  // An altered record: one byte of the sealed personal part flipped.
  ShippedBatches altered = *next;
  const size_t at = altered.batches[0].find("PersonRegistered");
  ASSERT_NE(at, std::string::npos);
  altered.batches[0][at + 40] ^= 1;
  auto tampered = standby_->ApplyShipped(altered, 99);
  ASSERT_FALSE(tampered);
  EXPECT_EQ(tampered.error().code, StoreErrorCode::kCorruption);

  // Nothing of any of them was written.
  EXPECT_EQ(standby_->Tip().position, before.position);
  EXPECT_EQ(standby_->Tip().hash, before.hash);
  EXPECT_EQ(standby_->Role().applied_sequence, role.applied_sequence);
  EXPECT_FALSE(*standby_->ClaimOwner("taxcode/OTH1"));
  // The real batches still apply.
  auto applied = standby_->ApplyShipped(*next, 99);
  ASSERT_TRUE(applied) << applied.error().message;
  EXPECT_EQ(standby_->Tip().hash, primary_->Tip().hash);

  // A standby with another master key takes nothing of this primary.
  auto stranger = OpenStore(dir_.Sub("stranger"), dir_.Sub("stranger.key"));
  ASSERT_TRUE(stranger->BecomeStandby());
  auto all = primary_->ReadWalSince(1, 64 << 20);
  ASSERT_TRUE(all);
  auto wrong_key = stranger->ApplyShipped(*all, 1);
  ASSERT_FALSE(wrong_key);
  EXPECT_NE(wrong_key.error().message.find("master key"), std::string::npos) << wrong_key.error().message;
  EXPECT_EQ(stranger->CommittedPosition(), 0u);
}

TEST_F(StandbyStoreTest, AFencedPrimaryRefusesAppendsEvenAfterARestart) {
  ASSERT_TRUE(primary_->Append(Registration("person-1", "TAX1")));
  ASSERT_FALSE(primary_->Fence(0)) << "a fence of the primary's own epoch stops nothing";
  ASSERT_TRUE(primary_->Fence(1));
  auto refused = primary_->Append(Registration("person-2", "TAX2"));
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, StoreErrorCode::kWritesRefused);
  EXPECT_NE(refused.error().message.find("promoted"), std::string::npos);
  primary_.reset();
  primary_ = OpenStore(dir_.Sub("primary"), dir_.Sub("master.key"));
  EXPECT_EQ(primary_->Role().fenced_by, 1u);
  EXPECT_FALSE(primary_->Append(Registration("person-2", "TAX2")));
  EXPECT_EQ(primary_->CommittedPosition(), 1u);
}

TEST_F(StandbyStoreTest, TheArchivedWalLetsAStandbyCatchUpAfterFlushesAndIsReleasedOnceShipped) {
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(primary_->Append(Registration("person-" + std::to_string(i), "TAX" + std::to_string(i))));
  ASSERT_TRUE(primary_->CompactAll());  // flushes: the WAL files retire to the archive
  for (int i = 10; i < 20; ++i) ASSERT_TRUE(primary_->Append(Registration("person-" + std::to_string(i), "TAX" + std::to_string(i))));
  auto applied = Ship(*primary_, *standby_);
  ASSERT_TRUE(applied) << applied.error().message;
  EXPECT_EQ(standby_->CommittedPosition(), 20u);
  EXPECT_TRUE(std::filesystem::exists(dir_.Sub("primary/archive")));
  size_t archived = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir_.Sub("primary/archive"))) archived += e.is_regular_file();
  EXPECT_GT(archived, 0u);
  primary_->ReleaseWalBefore(standby_->Role().applied_sequence + 1);
  size_t left = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir_.Sub("primary/archive"))) left += e.is_regular_file();
  EXPECT_LT(left, archived);
}

TEST(StandbyStoreSeedTest, AStandbyIsSeededFromASnapshotWhenTheWalNoLongerHoldsTheStart) {
  testing::TempDir dir;
  // A primary that never kept its WAL: flushed and reopened, its first sequences are gone.
  auto primary = OpenStore(dir.Sub("primary"), dir.Sub("master.key"));
  for (int i = 0; i < 30; ++i) ASSERT_TRUE(primary->Append(Registration("person-" + std::to_string(i), "TAX" + std::to_string(i), "k" + std::to_string(i))));
  ASSERT_TRUE(primary->CompactAll());
  primary.reset();
  primary = OpenStore(dir.Sub("primary"), dir.Sub("master.key"), 3600);
  auto gone = primary->ReadWalSince(1, 1 << 20);
  ASSERT_TRUE(!gone || gone->batches.empty() || gone->first_sequence > 1) << "the WAL still starts at 1";
  std::filesystem::copy_file(dir.Sub("master.key"), dir.Sub("standby.key"));
  auto standby = OpenStore(dir.Sub("standby"), dir.Sub("standby.key"));
  ASSERT_TRUE(standby->BecomeStandby());
  // Some of the snapshot in the primary's memtables: the seed reads every family whole, the
  // stream index (hashed by stream) in total order too.
  for (int i = 30; i < 35; ++i) ASSERT_TRUE(primary->Append(Registration("person-" + std::to_string(i), "TAX" + std::to_string(i))));
  ASSERT_EQ(primary->CommittedPosition(), 35u);  // the last one's inserts done: in the snapshot

  auto seed = BeginSeed(*primary);
  ASSERT_TRUE(seed);
  const uint64_t at = (*seed)->sequence();
  // Appends after the snapshot come through the WAL.
  for (int i = 35; i < 40; ++i) ASSERT_TRUE(primary->Append(Registration("person-" + std::to_string(i), "TAX" + std::to_string(i))));
  int parts = 0;
  uint64_t stream_seq = 0;
  while (!(*seed)->done()) {
    auto part = (*seed)->Next(2048);  // small parts: a seed in many frames
    ASSERT_TRUE(part) << part.error().message;
    ++parts;
    if (!(*seed)->done()) {
      EXPECT_EQ(part->end_sequence, 0u);
      auto applied = standby->ApplyShipped(*part, ++stream_seq);
      ASSERT_TRUE(applied) << applied.error().message;
      EXPECT_FALSE(standby->Promote()) << "no promotion in the middle of a seed";
    } else {
      EXPECT_EQ(part->end_sequence, at + 1);
      auto applied = standby->ApplyShipped(*part, ++stream_seq);
      ASSERT_TRUE(applied) << applied.error().message;
    }
  }
  EXPECT_GT(parts, 3);
  EXPECT_EQ(standby->Role().applied_sequence, at);
  EXPECT_EQ(standby->CommittedPosition(), 35u);
  seed->reset();
  auto wal = primary->ReadWalSince(at + 1, 1 << 20);
  ASSERT_TRUE(wal) << wal.error().message;
  ASSERT_EQ(wal->first_sequence, at + 1);
  ASSERT_TRUE(standby->ApplyShipped(*wal, ++stream_seq));
  EXPECT_EQ(standby->CommittedPosition(), 40u);
  EXPECT_EQ(standby->Tip().hash, primary->Tip().hash);
  // A second seed into a standby that holds a log is refused.
  auto again = BeginSeed(*primary);
  ASSERT_TRUE(again);
  auto part = (*again)->Next(1 << 20);
  ASSERT_TRUE(part);
  part->first_sequence = at + 1000;
  EXPECT_FALSE(standby->ApplyShipped(*part, 99));
  again->reset();
  for (int i : {12, 32, 37}) {
    auto stream = standby->ReadStream("person-" + std::to_string(i), 1, 1);
    ASSERT_TRUE(stream && stream->size() == 1) << i;
    EXPECT_EQ(stream->front().personal, "personal TAX" + std::to_string(i));
  }
  ASSERT_TRUE(standby->Promote());
  primary.reset();
  standby.reset();
  EXPECT_EQ(Dump(dir.Sub("standby")), Dump(dir.Sub("primary")));
}

TEST(StandbyFrameTest, FramesRoundTripInPartsAndAnAlteredByteFailsTheMac) {
  const FrameMac mac = [](std::string_view b) { return std::optional<std::string>(std::string(32, char(b.size() % 251))); };
  Frame f;
  f.shipped.epoch = 2;
  f.shipped.primary_committed = 77;
  f.shipped.first_sequence = 10;
  f.shipped.end_sequence = 20;
  f.shipped.last_position = 76;
  f.shipped.families = {{0, "default"}, {1, "events"}};
  f.shipped.batches = {std::string(5000, 'a'), std::string(300, 'b')};
  auto bytes = EncodeFrame(f, mac);
  ASSERT_TRUE(bytes);
  auto parts = SplitFrame(*bytes, 1024);
  ASSERT_GT(parts.size(), 1u);
  FrameAssembler a;
  std::optional<std::string> whole;
  std::string why;
  for (const std::string& p : parts) {
    ASSERT_FALSE(whole);
    whole = a.Add(p, &why);
    EXPECT_TRUE(why.empty()) << why;
  }
  ASSERT_TRUE(whole);
  auto back = DecodeFrame(*whole, mac, &why);
  ASSERT_TRUE(back) << why;
  EXPECT_EQ(back->shipped.batches, f.shipped.batches);
  EXPECT_EQ(back->shipped.families, f.shipped.families);
  EXPECT_EQ(back->shipped.end_sequence, 20u);
  const FrameMac real = [](std::string_view b) {
    std::string tag(32, '\0');
    for (size_t i = 0; i < b.size(); ++i) tag[i % 32] = char(tag[i % 32] * 31 + b[i]);
    return std::optional<std::string>(tag);
  };
  auto signed_bytes = EncodeFrame(f, real);
  ASSERT_TRUE(signed_bytes);
  (*signed_bytes)[60] ^= 1;
  EXPECT_FALSE(DecodeFrame(*signed_bytes, real, &why));
  EXPECT_NE(why.find("MAC"), std::string::npos);
  // A part out of order restarts the assembly and says so.
  FrameAssembler b;
  why.clear();
  EXPECT_FALSE(b.Add(parts[1], &why));
  EXPECT_FALSE(why.empty());
}

}  // namespace
}  // namespace caseledger::eventstore
