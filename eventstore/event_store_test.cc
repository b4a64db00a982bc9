#include "eventstore/event_store.h"

#include "eventstore/record_format.h"
#include "tests/support/temp_dir.h"

#include <gtest/gtest.h>
#include <rocksdb/write_batch.h>

#include <algorithm>
#include <condition_variable>
#include <mutex>
#include <set>
#include <string>
#include <thread>

namespace caseledger::eventstore {
namespace {

using caseledger::testing::TempDir;

NewEvent MakeEvent(std::string type, std::string body) {
  NewEvent e;
  e.type = std::move(type);
  e.body = std::move(body);
  e.effective_at = Timestamp{1'600'000'000'000'000};
  return e;
}

AppendRequest Request(std::string stream, ExpectedVersion expected, int events = 1) {
  AppendRequest r;
  r.stream = std::move(stream);
  r.expected = expected;
  for (int i = 0; i < events; ++i) r.events.push_back(MakeEvent("TestEvent", "payload-" + std::to_string(i)));
  r.actor = {"op-1", "operator"};
  r.correlation_id = "corr-1";
  return r;
}

class EventStoreTest : public ::testing::Test {
 protected:
  void SetUp() override { Reopen(); }
  void Reopen() {
    store_.reset();
    StoreOptions o;
    o.path = dir_.Sub("db");
    o.master_key_path = dir_.Sub("master.key");
    o.clock = [this] { return Timestamp{clock_}; };
    auto s = EventStore::Open(o);
    ASSERT_TRUE(s) << s.error().message;
    store_ = std::move(*s);
  }
  TempDir dir_;
  int64_t clock_ = 1'700'000'000'000'000;
  std::unique_ptr<EventStore> store_;
};

TEST_F(EventStoreTest, AppendAssignsGapFreePositionsAndStreamVersions) {
  auto a = store_->Append(Request("person-a", ExpectedVersion::NoStream(), 2));
  ASSERT_TRUE(a);
  EXPECT_EQ(a->first_position, 1u);
  EXPECT_EQ(a->last_position, 2u);
  EXPECT_EQ(a->version, 2u);
  auto b = store_->Append(Request("person-b", ExpectedVersion::NoStream()));
  ASSERT_TRUE(b);
  EXPECT_EQ(b->first_position, 3u);
  EXPECT_EQ(store_->CommittedPosition(), 3u);

  StoreStats stats = store_->Stats();
  EXPECT_EQ(stats.appends, 2u);
  EXPECT_EQ(stats.events, 3u);
  EXPECT_EQ(stats.group_commits, 2u);  // sequential appends: one sync each
  EXPECT_EQ(stats.max_group_size, 1u);

  auto log = store_->ReadLog(1, 100);
  ASSERT_TRUE(log);
  ASSERT_EQ(log->size(), 3u);
  EXPECT_EQ((*log)[0].stream, "person-a");
  EXPECT_EQ((*log)[0].version, 1u);
  EXPECT_EQ((*log)[1].body, "payload-1");
  EXPECT_EQ((*log)[2].stream, "person-b");
  EXPECT_EQ((*log)[1].prev_hash, (*log)[0].hash);
  EXPECT_EQ((*log)[2].actor.role, "operator");
  EXPECT_EQ((*log)[2].recorded_at.micros, clock_);
  EXPECT_EQ((*log)[2].effective_at.micros, 1'600'000'000'000'000);
}

TEST_F(EventStoreTest, ReadLogIntoReusedEnvelopesEqualsReadLog) {
  ASSERT_TRUE(store_->Append(Request("person-a", ExpectedVersion::NoStream(), 3)));
  ASSERT_TRUE(store_->Append(Request("person-bb", ExpectedVersion::NoStream(), 2)));
  auto fresh = store_->ReadLog(2, 3);
  ASSERT_TRUE(fresh);
  ASSERT_EQ(fresh->size(), 3u);
  // Into envelopes that hold other values (longer strings, other hashes): every field is
  // replaced, whether `out` held more envelopes than read or fewer.
  domain::Envelope junk;
  junk.stream = std::string(100, 'x');
  junk.personal = "left over";
  junk.idempotency_key = "k";
  junk.hash[0] = 7;
  for (size_t held : {0u, 1u, 5u}) {
    std::vector<domain::Envelope> out(held, junk);
    ASSERT_TRUE(store_->ReadLogInto(2, 3, out, eventstore::ChainCheck::kVerify,
                                    eventstore::EnvelopeFields::kAll));
    EXPECT_EQ(out, *fresh) << held << " envelopes held before";
  }
  std::vector<domain::Envelope> out(4, junk);
  // Past the end.
  ASSERT_TRUE(store_->ReadLogInto(9, 3, out, eventstore::ChainCheck::kVerify,
                                  eventstore::EnvelopeFields::kAll));
  EXPECT_TRUE(out.empty());
}

TEST_F(EventStoreTest, ALogReadThatTrustsTheChainReadsTheSameEventsWithoutHashes) {
  // Past an anchor (every 16th position stores its whole hash) so that both kinds of
  // record are read: the views' reads leave every hash zero, the rest is ReadLog's.
  for (int i = 0; i < 40; ++i) {
    ASSERT_TRUE(store_->Append(Request("person-" + std::to_string(i % 7), ExpectedVersion::Any(), 1)));
  }
  auto checked = store_->ReadLog(3, 30);
  ASSERT_TRUE(checked);
  ASSERT_EQ(checked->size(), 30u);
  domain::Envelope junk;
  junk.hash[0] = 7;
  junk.prev_hash[1] = 9;
  std::vector<domain::Envelope> trusted(2, junk);
  ASSERT_TRUE(store_->ReadLogInto(3, 30, trusted, eventstore::ChainCheck::kTrust,
                                  eventstore::EnvelopeFields::kAll));
  ASSERT_EQ(trusted.size(), 30u);
  for (size_t i = 0; i < trusted.size(); ++i) {
    EXPECT_EQ(trusted[i].hash, domain::Hash{}) << i;
    EXPECT_EQ(trusted[i].prev_hash, domain::Hash{}) << i;
    domain::Envelope expected = (*checked)[i];
    expected.hash = {};
    expected.prev_hash = {};
    EXPECT_EQ(trusted[i], expected) << i;
  }
}

TEST_F(EventStoreTest, ConflictingVersionIsRejectedWithTheCurrentVersion) {
  ASSERT_TRUE(store_->Append(Request("s", ExpectedVersion::NoStream(), 3)));
  auto again = store_->Append(Request("s", ExpectedVersion::NoStream()));
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, StoreErrorCode::kWrongExpectedVersion);
  EXPECT_EQ(again.error().current_version, 3u);
  auto stale = store_->Append(Request("s", ExpectedVersion::Exactly(2)));
  ASSERT_FALSE(stale);
  EXPECT_EQ(stale.error().current_version, 3u);
  EXPECT_TRUE(store_->Append(Request("s", ExpectedVersion::Exactly(3))));
  EXPECT_TRUE(store_->Append(Request("s", ExpectedVersion::Any())));
  EXPECT_EQ(*store_->StreamVersion("s"), 5u);
  EXPECT_EQ(store_->CommittedPosition(), 5u);
}

TEST_F(EventStoreTest, IdempotentRetryReturnsTheFirstAnswerAndAppendsNothing) {
  auto r = Request("s", ExpectedVersion::NoStream());
  r.idempotency_key = "user-1/key-1";
  r.request_digest = "digest-A";
  auto first = store_->Append(r);
  ASSERT_TRUE(first);
  EXPECT_FALSE(first->replayed);
  auto retry = store_->Append(r);  // NoStream would now conflict: the key answers first
  ASSERT_TRUE(retry);
  EXPECT_TRUE(retry->replayed);
  EXPECT_EQ(retry->first_position, first->first_position);
  EXPECT_EQ(retry->version, first->version);
  EXPECT_EQ(store_->CommittedPosition(), 1u);

  auto found = store_->FindIdempotencyKey("user-1/key-1");
  ASSERT_TRUE(found && found->has_value());
  EXPECT_EQ((*found)->digest, "digest-A");
  EXPECT_EQ((*found)->result.first_position, first->first_position);
  EXPECT_FALSE(store_->FindIdempotencyKey("user-1/other")->has_value());

  r.request_digest = "digest-B";
  auto other = store_->Append(r);
  ASSERT_FALSE(other);
  EXPECT_EQ(other.error().code, StoreErrorCode::kIdempotencyKeyReused);

  Reopen();  // keys survive a restart
  r.request_digest = "digest-A";
  auto after = store_->Append(r);
  ASSERT_TRUE(after);
  EXPECT_TRUE(after->replayed);
  EXPECT_EQ(store_->CommittedPosition(), 1u);
}

TEST_F(EventStoreTest, ClaimsAreUniqueAcrossStreams) {
  auto a = Request("person-a", ExpectedVersion::Any());
  a.claims = {"swab/X1"};
  ASSERT_TRUE(store_->Append(a));
  auto b = Request("person-b", ExpectedVersion::Any());
  b.claims = {"swab/X2", "swab/X1"};
  auto rb = store_->Append(b);
  ASSERT_FALSE(rb);
  EXPECT_EQ(rb.error().code, StoreErrorCode::kClaimTaken);
  EXPECT_EQ(rb.error().claim, "swab/X1");
  EXPECT_EQ(rb.error().claim_owner, "person-a");
  // Nothing of the rejected request was written, not even its first claim.
  EXPECT_FALSE(store_->ClaimOwner("swab/X2")->has_value());
  EXPECT_EQ(**store_->ClaimOwner("swab/X1"), "person-a");
  // The owner may claim again (a retry of its own command).
  EXPECT_TRUE(store_->Append(a));
}

// A swab's owner is kept in memory once written or read (written_claims.h): a release and
// a new owner after it are what ClaimOwner answers next, in this process and after a reopen.
TEST_F(EventStoreTest, AClaimOwnerReadAgainFollowsItsReleaseAndItsNextOwner) {
  auto a = Request("person-a", ExpectedVersion::Any());
  a.claims = {"swab/R1"};
  ASSERT_TRUE(store_->Append(a));
  EXPECT_EQ(**store_->ClaimOwner("swab/R1"), "person-a");  // as written by the group commit
  Reopen();
  EXPECT_EQ(**store_->ClaimOwner("swab/R1"), "person-a");  // read from the database, kept
  EXPECT_EQ(**store_->ClaimOwner("swab/R1"), "person-a");  // from memory
  auto release = Request("person-a", ExpectedVersion::Any());
  release.released_claims = {"swab/R1"};
  ASSERT_TRUE(store_->Append(release));
  EXPECT_FALSE(store_->ClaimOwner("swab/R1")->has_value());
  auto b = Request("person-b", ExpectedVersion::Any());
  b.claims = {"swab/R1"};
  ASSERT_TRUE(store_->Append(b));
  EXPECT_EQ(**store_->ClaimOwner("swab/R1"), "person-b");
  Reopen();
  EXPECT_EQ(**store_->ClaimOwner("swab/R1"), "person-b");
}

TEST_F(EventStoreTest, ReadStreamFromVersion) {
  ASSERT_TRUE(store_->Append(Request("a", ExpectedVersion::Any(), 2)));
  ASSERT_TRUE(store_->Append(Request("b", ExpectedVersion::Any(), 1)));
  ASSERT_TRUE(store_->Append(Request("a", ExpectedVersion::Any(), 2)));
  auto all = store_->ReadStream("a", 1, 100);
  ASSERT_TRUE(all);
  ASSERT_EQ(all->size(), 4u);
  EXPECT_EQ((*all)[2].position, 4u);
  auto log = store_->ReadLog(3, 2);  // positions 3 and 4
  EXPECT_EQ((*all)[2].prev_hash, (*log)[0].hash) << "stream reads carry the log's previous hash";
  auto tail = store_->ReadStream("a", 3, 1);
  ASSERT_TRUE(tail);
  ASSERT_EQ(tail->size(), 1u);
  EXPECT_EQ((*tail)[0].version, 3u);
  EXPECT_TRUE(store_->ReadStream("nope", 1, 10)->empty());
  // A stream whose id is a prefix of another does not see the other's events.
  EXPECT_EQ(store_->ReadStream("", 1, 10)->size(), 0u);
}

TEST_F(EventStoreTest, ReopenRecoversPositionHeadsAndChainTip) {
  ASSERT_TRUE(store_->Append(Request("a", ExpectedVersion::Any(), 3)));
  ChainTip before = store_->Tip();
  Reopen();
  EXPECT_EQ(store_->CommittedPosition(), 3u);
  EXPECT_EQ(store_->Tip().hash, before.hash);
  EXPECT_EQ(*store_->StreamVersion("a"), 3u);
  auto next = store_->Append(Request("a", ExpectedVersion::Exactly(3)));
  ASSERT_TRUE(next);
  EXPECT_EQ(next->first_position, 4u);
  // The head read from the database after the reopen was kept; the append's newer one
  // replaced it.
  EXPECT_EQ(*store_->StreamVersion("a"), 4u);
  auto stale = store_->Append(Request("a", ExpectedVersion::Exactly(3)));
  ASSERT_FALSE(stale);
  EXPECT_EQ(stale.error().current_version, 4u);
  auto log = store_->ReadLog(4, 1);
  ASSERT_TRUE(log);
  EXPECT_EQ((*log)[0].prev_hash, before.hash);
}

TEST_F(EventStoreTest, RecordedAtNeverGoesBackwards) {
  ASSERT_TRUE(store_->Append(Request("a", ExpectedVersion::Any())));
  clock_ -= 10'000'000;  // the system clock steps back
  ASSERT_TRUE(store_->Append(Request("a", ExpectedVersion::Any())));
  auto log = store_->ReadLog(1, 2);
  EXPECT_LE((*log)[0].recorded_at, (*log)[1].recorded_at);
}

TEST_F(EventStoreTest, InvalidRequestsChangeNothing) {
  auto empty = Request("a", ExpectedVersion::Any(), 0);
  EXPECT_EQ(store_->Append(empty).error().code, StoreErrorCode::kInvalidArgument);
  auto nostream = Request("", ExpectedVersion::Any());
  EXPECT_EQ(store_->Append(nostream).error().code, StoreErrorCode::kInvalidArgument);
  EXPECT_EQ(store_->CommittedPosition(), 0u);
}

TEST_F(EventStoreTest, CheckpointsPersist) {
  EXPECT_EQ(*store_->GetCheckpoint("relay"), 0u);
  ASSERT_TRUE(store_->PutCheckpoint("relay", 42));
  Reopen();
  EXPECT_EQ(*store_->GetCheckpoint("relay"), 42u);
}

TEST_F(EventStoreTest, WaitForPositionWakesOnCommit) {
  EXPECT_FALSE(store_->WaitForPosition(1, std::chrono::milliseconds(10)));
  std::vector<uint64_t> seen;
  store_->AddCommitListener([&](uint64_t p) { seen.push_back(p); });
  std::thread t([&] { ASSERT_TRUE(store_->Append(Request("a", ExpectedVersion::Any()))); });
  EXPECT_TRUE(store_->WaitForPosition(1, std::chrono::seconds(10)));
  t.join();
  EXPECT_EQ(seen, std::vector<uint64_t>{1});
}

// The group commit writes a group's heads, claims and idempotency records once per key, in
// key order, when the group is written (AddKeyedWrites): what the database holds after a
// reopen must be what the requests, in their order, left. Appends sent back to back without
// waiting share groups; each takes a claim and releases the one before it, so a claim taken
// and released within one group must end released, and the stream's head must be the last.
TEST(GroupCommitTest, KeyedWritesOfRequestsSharingAGroupLeaveTheLastState) {
  TempDir dir;
  StoreOptions o;
  o.path = dir.Sub("db");
  constexpr int kAppends = 200;
  uint64_t last_position = 0;
  {
    auto opened = EventStore::Open(o);
    ASSERT_TRUE(opened);
    EventStore& store = **opened;
    std::mutex mu;
    std::condition_variable cv;
    int answered = 0, failed = 0;
    for (int i = 0; i < kAppends; ++i) {
      AppendRequest r = Request(i % 2 == 0 ? "stream-a" : "stream-b", ExpectedVersion::Any());
      // Claims alternate between the two streams' chains: stream-a holds claim/a-i, ...
      const std::string chain = i % 2 == 0 ? "a" : "b";
      r.claims = {"claim/" + chain + "-" + std::to_string(i)};
      if (i >= 2) r.released_claims = {"claim/" + chain + "-" + std::to_string(i - 2)};
      r.idempotency_key = "key-" + std::to_string(i);
      r.request_digest = "digest-" + std::to_string(i);
      store.AppendAsync(std::move(r), [&](StoreResult<AppendResult> res) {
        std::lock_guard l(mu);
        if (!res) ++failed;
        else last_position = std::max(last_position, res->last_position);
        ++answered;
        cv.notify_all();
      });
    }
    std::unique_lock l(mu);
    ASSERT_TRUE(cv.wait_for(l, std::chrono::seconds(60), [&] { return answered == kAppends; }));
    EXPECT_EQ(failed, 0);
    EXPECT_GT(store.Stats().max_group_size, 1u) << "no group held more than one append";
  }
  auto reopened = EventStore::Open(o);  // nothing cached: every answer comes from the files
  ASSERT_TRUE(reopened);
  EventStore& store = **reopened;
  EXPECT_EQ(last_position, static_cast<uint64_t>(kAppends));
  EXPECT_EQ(store.StreamVersion("stream-a").value(), static_cast<uint64_t>(kAppends / 2));
  EXPECT_EQ(store.StreamVersion("stream-b").value(), static_cast<uint64_t>(kAppends / 2));
  for (int i = 0; i < kAppends; ++i) {
    const std::string chain = i % 2 == 0 ? "a" : "b";
    auto owner = store.ClaimOwner("claim/" + chain + "-" + std::to_string(i));
    ASSERT_TRUE(owner);
    if (i >= kAppends - 2) {
      ASSERT_TRUE(owner->has_value()) << i;
      EXPECT_EQ(**owner, "stream-" + chain);
    } else {
      EXPECT_FALSE(owner->has_value()) << "claim " << i << " was released";
    }
    auto found = store.FindIdempotencyKey("key-" + std::to_string(i));
    ASSERT_TRUE(found);
    ASSERT_TRUE(found->has_value()) << i;
    EXPECT_EQ((*found)->digest, "digest-" + std::to_string(i));
    EXPECT_EQ((*found)->result.stream, "stream-" + chain);
    EXPECT_EQ((*found)->result.version, static_cast<uint64_t>(i / 2 + 1));
    EXPECT_EQ((*found)->result.first_position, static_cast<uint64_t>(i + 1));
  }
}

// A group's stream index entries go into its write batch with its records, in the order its
// requests came (the streams family's memtable is hashed by stream: no order buys anything).
// Appends to 37 streams sent without waiting, so that they share groups; every batch of the
// WAL is read back for its index entries; the live store (its index in the memtable) and a
// reopened one (replayed from the WAL) find every stream's events through them.
// Every stream "s-0".."s-<n-1>" reads back whole, in version order, from version 1 and
// from its middle.
void ExpectEveryStreamRead(EventStore& store, int streams) {
  uint64_t events_read = 0;
  for (int s = 0; s < streams; ++s) {
    const std::string stream = "s-" + std::to_string(s);
    auto events = store.ReadStream(stream, 1, 1000);
    ASSERT_TRUE(events);
    ASSERT_EQ(store.StreamVersion(stream).value(), events->size());
    ASSERT_FALSE(events->empty()) << stream;
    for (size_t v = 0; v < events->size(); ++v) EXPECT_EQ((*events)[v].version, v + 1);
    auto tail = store.ReadStream(stream, events->size() / 2 + 1, 1000);
    ASSERT_TRUE(tail);
    EXPECT_EQ(tail->size(), events->size() - events->size() / 2);
    events_read += events->size();
  }
  EXPECT_EQ(events_read, store.CommittedPosition());
}

TEST(GroupCommitTest, IndexEntriesOfAGroupGoIntoItsBatchAndFindEachStreamsEvents) {
  TempDir dir;
  StoreOptions o;
  o.path = dir.Sub("db");
  constexpr int kAppends = 300, kStreams = 37;
  auto stream_of = [](int i) { return "s-" + std::to_string((i * 17) % kStreams); };
  {
    auto opened = EventStore::Open(o);
    ASSERT_TRUE(opened);
    EventStore& store = **opened;
    const uint64_t from = store.LatestSequence() + 1;
    std::mutex mu;
    std::condition_variable cv;
    int answered = 0, failed = 0;
    for (int i = 0; i < kAppends; ++i) {
      store.AppendAsync(Request(stream_of(i), ExpectedVersion::Any(), 1 + i % 2), [&](StoreResult<AppendResult> res) {
        std::lock_guard l(mu);
        if (!res) ++failed;
        ++answered;
        cv.notify_all();
      });
    }
    {
      std::unique_lock l(mu);
      ASSERT_TRUE(cv.wait_for(l, std::chrono::seconds(60), [&] { return answered == kAppends; }));
    }
    EXPECT_EQ(failed, 0);
    auto shipped = store.ReadWalSince(from, 64 << 20);
    ASSERT_TRUE(shipped) << shipped.error().message;
    uint32_t streams_id = UINT32_MAX;
    for (const auto& [id, name] : shipped->families) {
      if (name == format::kStreams) streams_id = id;
    }
    ASSERT_NE(streams_id, UINT32_MAX);
    struct IndexKeys : rocksdb::WriteBatch::Handler {
      uint32_t family = 0;
      std::vector<std::string> keys;
      rocksdb::Status PutCF(uint32_t cf, const rocksdb::Slice& key, const rocksdb::Slice&) override {
        if (cf == family) keys.push_back(key.ToString());
        return rocksdb::Status::OK();
      }
    };
    size_t entries = 0, batches_of_several_streams = 0;
    for (const std::string& rep : shipped->batches) {
      rocksdb::WriteBatch batch(rep);
      IndexKeys index;
      index.family = streams_id;
      ASSERT_TRUE(batch.Iterate(&index).ok());
      entries += index.keys.size();
      std::set<std::string> streams;
      for (const std::string& k : index.keys) streams.insert(k.substr(0, k.find('\0')));
      if (streams.size() > 2) ++batches_of_several_streams;
    }
    EXPECT_EQ(entries, static_cast<size_t>(kAppends + kAppends / 2));  // 1 or 2 events each
    EXPECT_GT(batches_of_several_streams, 0u) << "no group held appends to several streams";
    ExpectEveryStreamRead(store, kStreams);
  }
  auto reopened = EventStore::Open(o);
  ASSERT_TRUE(reopened);
  ExpectEveryStreamRead(**reopened, kStreams);
}

// The answer hooks bracket each group's answers on the sync thread: every answer, a
// rejection too, runs between a `before` and its `after`, and no two groups' brackets nest.
TEST_F(EventStoreTest, AnswerHooksBracketEachGroupsAnswersOnTheSyncThread) {
  std::mutex mu;
  std::condition_variable cv;
  std::string trace;  // '(' before, 'a' an answer, ')' after
  std::set<std::thread::id> threads;
  auto note = [&](char c) {
    std::lock_guard l(mu);
    trace.push_back(c);
    threads.insert(std::this_thread::get_id());
    cv.notify_all();
  };
  store_->AddAnswerHooks({[&] { note('('); }, [&] { note(')'); }});
  store_->AddAnswerHooks({{}, {}});  // empty hooks are skipped
  constexpr int kAppends = 100;
  for (int i = 0; i < kAppends; ++i) {
    // Every tenth expects a stream that does not exist: rejected, answered all the same.
    AppendRequest r = Request("stream-" + std::to_string(i % 7),
                              i % 10 == 9 ? ExpectedVersion::Exactly(1000) : ExpectedVersion::Any());
    store_->AppendAsync(std::move(r), [&](StoreResult<AppendResult>) { note('a'); });
  }
  std::unique_lock l(mu);
  ASSERT_TRUE(cv.wait_for(l, std::chrono::seconds(60), [&] {
    return std::count(trace.begin(), trace.end(), 'a') == kAppends && trace.back() == ')';
  })) << trace;
  int open = 0, groups = 0;
  for (char c : trace) {
    if (c == '(') {
      EXPECT_EQ(open, 0) << trace;
      ++open;
      ++groups;
    } else if (c == ')') {
      EXPECT_EQ(open, 1) << trace;
      --open;
    } else {
      EXPECT_EQ(open, 1) << "an answer outside its group's hooks: " << trace;
    }
  }
  EXPECT_GE(groups, 1);
  EXPECT_LE(groups, kAppends);
  // The store's commit threads (two since the pipelined group commit), never the caller's.
  ASSERT_GE(threads.size(), 1u);
  ASSERT_LE(threads.size(), 2u);
  EXPECT_EQ(threads.count(std::this_thread::get_id()), 0u);
}

}  // namespace
}  // namespace caseledger::eventstore
