// The pipelined group commit (group_commit.cc, memtable_hook.h): a group is handed to
// RocksDB only once the group ahead of it is synced, so a group waiting behind a failed
// sync is never written, whatever RocksDB makes of the failure. Here the sync fails with
// Busy, which RocksDB does not treat as a reason to stop writing (DBImpl::IOStatusCheck
// clears the WAL writer's error and writes on): only the store's own sticky failure keeps
// the next group out of the WAL. And the memtable hook the hand-over rests on fires after
// the WAL sync, never for a write whose sync failed.
#include "eventstore/event_store.h"
#include "eventstore/memtable_hook.h"

#include "tests/support/temp_dir.h"

#include <gtest/gtest.h>
#include <rocksdb/db.h>
#include <rocksdb/env.h>
#include <rocksdb/file_system.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace caseledger::eventstore {
namespace {

using caseledger::testing::TempDir;

// WAL files (*.log) whose next sync, once armed, waits until released and then fails with
// Busy; it counts the WAL appends made after that failure and notes every sync that
// returned OK.
class HeldWalFs : public rocksdb::FileSystemWrapper {
 public:
  struct State {
    std::mutex mu;
    std::condition_variable cv;
    bool armed = false, held = false, released = false, failed = false;
    int appends_after_failure = 0;
    int syncs_ok = 0;
  };
  HeldWalFs(std::shared_ptr<rocksdb::FileSystem> target, std::shared_ptr<State> state)
      : FileSystemWrapper(std::move(target)), state_(std::move(state)) {}
  const char* Name() const override { return "HeldWalFs"; }

  rocksdb::IOStatus NewWritableFile(const std::string& name, const rocksdb::FileOptions& options,
                                    std::unique_ptr<rocksdb::FSWritableFile>* file,
                                    rocksdb::IODebugContext* dbg) override {
    rocksdb::IOStatus s = target()->NewWritableFile(name, options, file, dbg);
    if (s.ok() && name.ends_with(".log")) *file = std::make_unique<File>(std::move(*file), state_);
    return s;
  }

 private:
  class File : public rocksdb::FSWritableFileOwnerWrapper {
   public:
    File(std::unique_ptr<rocksdb::FSWritableFile> f, std::shared_ptr<State> state)
        : FSWritableFileOwnerWrapper(std::move(f)), state_(std::move(state)) {}
    rocksdb::IOStatus Append(const rocksdb::Slice& data, const rocksdb::IOOptions& o,
                             rocksdb::IODebugContext* d) override {
      Count();
      return FSWritableFileOwnerWrapper::Append(data, o, d);
    }
    rocksdb::IOStatus Append(const rocksdb::Slice& data, const rocksdb::IOOptions& o,
                             const rocksdb::DataVerificationInfo& v, rocksdb::IODebugContext* d) override {
      Count();
      return FSWritableFileOwnerWrapper::Append(data, o, v, d);
    }
    rocksdb::IOStatus Sync(const rocksdb::IOOptions& o, rocksdb::IODebugContext* d) override {
      if (auto held = Hold()) return *held;
      auto s = FSWritableFileOwnerWrapper::Sync(o, d);
      Synced(s);
      return s;
    }
    rocksdb::IOStatus Fsync(const rocksdb::IOOptions& o, rocksdb::IODebugContext* d) override {
      if (auto held = Hold()) return *held;
      auto s = FSWritableFileOwnerWrapper::Fsync(o, d);
      Synced(s);
      return s;
    }

   private:
    void Count() {
      std::lock_guard l(state_->mu);
      if (state_->failed) ++state_->appends_after_failure;
    }
    void Synced(const rocksdb::IOStatus& s) {
      std::lock_guard l(state_->mu);
      if (s.ok()) ++state_->syncs_ok;
    }
    std::optional<rocksdb::IOStatus> Hold() {
      std::unique_lock l(state_->mu);
      if (!state_->armed) return std::nullopt;
      state_->armed = false;
      state_->held = true;
      state_->cv.notify_all();
      state_->cv.wait(l, [&] { return state_->released; });
      state_->failed = true;
      return rocksdb::IOStatus::Busy("injected: WAL sync busy");
    }
    std::shared_ptr<State> state_;
  };
  std::shared_ptr<State> state_;
};

AppendRequest Request(const std::string& stream, const std::string& body) {
  AppendRequest r;
  r.stream = stream;
  r.events.push_back({"TestEvent", 1, body, "", Timestamp{1'600'000'000'000'000}});
  r.actor = {"op-1", "operator"};
  return r;
}

TEST(PipelinedCommitTest, AGroupFormedBehindAFailedSyncIsNeverWritten) {
  TempDir dir;
  auto state = std::make_shared<HeldWalFs::State>();
  std::vector<uint64_t> acked;
  {
    StoreOptions o;
    o.path = dir.Sub("db");
    o.env = std::shared_ptr<rocksdb::Env>(
        rocksdb::NewCompositeEnv(std::make_shared<HeldWalFs>(rocksdb::FileSystem::Default(), state)));
    auto opened = EventStore::Open(o);
    ASSERT_TRUE(opened) << opened.error().message;
    auto& store = **opened;
    for (int i = 0; i < 3; ++i) {
      auto r = store.Append(Request("s", "ok-" + std::to_string(i)));
      ASSERT_TRUE(r) << r.error().message;
      acked.push_back(r->first_position);
    }

    std::mutex mu;
    std::condition_variable cv;
    std::vector<std::optional<StoreResult<AppendResult>>> answers(4);
    auto answer = [&](size_t i) {
      return [&, i](StoreResult<AppendResult> r) {
        std::lock_guard l(mu);
        answers[i] = std::move(r);
        cv.notify_all();
      };
    };
    {
      std::lock_guard l(state->mu);
      state->armed = true;
    }
    // The first group's sync is held; the next groups form behind it meanwhile.
    store.AppendAsync(Request("a", "held"), answer(0));
    {
      std::unique_lock l(state->mu);
      state->cv.wait(l, [&] { return state->held; });
    }
    store.AppendAsync(Request("b", "behind-1"), answer(1));
    store.AppendAsync(Request("c", "behind-2"), answer(2));
    store.AppendAsync(Request("a", "behind-3"), answer(3));
    {
      std::lock_guard l(state->mu);
      state->released = true;
    }
    state->cv.notify_all();
    {
      std::unique_lock l(mu);
      cv.wait(l, [&] { return std::all_of(answers.begin(), answers.end(), [](const auto& a) { return a.has_value(); }); });
    }
    for (size_t i = 0; i < answers.size(); ++i) {
      ASSERT_FALSE(*answers[i]) << "append " << i << " was acknowledged after a failed sync";
      EXPECT_EQ(answers[i]->error().code, StoreErrorCode::kWritesRefused) << answers[i]->error().message;
    }
    {
      std::lock_guard l(state->mu);
      EXPECT_EQ(state->appends_after_failure, 0) << "a group was written to the WAL after the failed sync";
    }
    auto refused = store.Append(Request("d", "after"));
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().code, StoreErrorCode::kWritesRefused);
    EXPECT_EQ(store.CommittedPosition(), 3u);
  }
  // Reopened without the fault: the acknowledged appends, no gap, the chain whole. (The held
  // group's record reached the WAL file before its sync failed and may be recovered: it was
  // never acknowledged either way.)
  StoreOptions o;
  o.path = dir.Sub("db");
  {
    auto reopened = EventStore::Open(o);
    ASSERT_TRUE(reopened) << reopened.error().message;
    const uint64_t committed = (*reopened)->CommittedPosition();
    EXPECT_LE(committed, 4u) << "a group behind the failed sync reached the database";
    auto log = (*reopened)->ReadLog(1, committed + 1);
    ASSERT_TRUE(log);
    ASSERT_EQ(log->size(), committed) << "gap in the log";
    for (uint64_t pos : acked) EXPECT_EQ((*log)[pos - 1].position, pos);
  }
  auto report = VerifyStore({dir.Sub("db"), {}, 1'000'000});
  ASSERT_TRUE(report);
  EXPECT_EQ(report->first_bad_position, 0u) << report->problem;
}

// The premise of the hand-over: with pipelined writes, a batch's first memtable insert comes
// after its WAL sync returned OK, and a batch whose sync failed never reaches the memtable.
TEST(PipelinedCommitTest, TheMemtableHookFiresAfterTheSyncAndNeverForAFailedOne) {
  TempDir dir;
  auto state = std::make_shared<HeldWalFs::State>();
  auto env = std::shared_ptr<rocksdb::Env>(
      rocksdb::NewCompositeEnv(std::make_shared<HeldWalFs>(rocksdb::FileSystem::Default(), state)));
  rocksdb::Options options;
  options.create_if_missing = true;
  options.env = env.get();
  options.enable_pipelined_write = true;
  options.memtable_factory = NewHookedSkipListFactory();
  rocksdb::DB* raw = nullptr;
  ASSERT_TRUE(rocksdb::DB::Open(options, dir.Sub("raw"), &raw).ok());
  std::unique_ptr<rocksdb::DB> db(raw);

  struct Seen {
    std::shared_ptr<HeldWalFs::State> state;
    int fired = 0;
    int syncs_ok_at_fire = -1;
  } seen{state};
  auto fire = [](void* arg) {
    auto* s = static_cast<Seen*>(arg);
    std::lock_guard l(s->state->mu);
    ++s->fired;
    s->syncs_ok_at_fire = s->state->syncs_ok;
  };
  rocksdb::WriteOptions wo;
  wo.sync = true;
  int syncs_at_start = 0;
  {
    std::lock_guard l(state->mu);
    syncs_at_start = state->syncs_ok;
  }
  ArmMemtableInsertHook(fire, &seen);
  ASSERT_TRUE(db->Put(wo, "k1", "v1").ok());
  DisarmMemtableInsertHook();
  EXPECT_EQ(seen.fired, 1);
  EXPECT_GT(seen.syncs_ok_at_fire, syncs_at_start) << "the hook fired before the WAL sync returned";

  int syncs_before = 0;
  {
    std::lock_guard l(state->mu);
    state->armed = true;
    state->released = true;  // fails at once
    syncs_before = state->syncs_ok;
  }
  ArmMemtableInsertHook(fire, &seen);
  EXPECT_FALSE(db->Put(wo, "k2", "v2").ok());
  DisarmMemtableInsertHook();
  EXPECT_EQ(seen.fired, 1) << "a batch whose sync failed reached the memtable";
  std::lock_guard l(state->mu);
  EXPECT_EQ(state->syncs_ok, syncs_before);
}

}  // namespace
}  // namespace caseledger::eventstore
