// A run of the bulk import's stream index or claims that fails on the pool thread writing
// it fails the whole import (bulk_import_runs.cc): an Add or Commit answers the error, and
// the store holds nothing of the import, as before it began. Faults come from a RocksDB
// FileSystem whose run files fail to write (the seam is StoreOptions::env, which the
// import's runs are written through).
#include "eventstore/bulk_import.h"
#include "eventstore/event_store.h"

#include "tests/support/temp_dir.h"

#include <gtest/gtest.h>
#include <rocksdb/env.h>
#include <rocksdb/file_system.h>

#include <atomic>
#include <filesystem>

namespace caseledger::eventstore {
namespace {

using caseledger::testing::TempDir;

constexpr int64_t kStart = 1'700'000'000'000'000;

// Files whose name holds `part` ("claim-run-", "index-run-") fail every append with an I/O
// error; `written` counts the appends to them that were let through before (none expected).
class FailingRunFs : public rocksdb::FileSystemWrapper {
 public:
  FailingRunFs(std::shared_ptr<rocksdb::FileSystem> target, std::string part, std::shared_ptr<std::atomic<int>> failed)
      : FileSystemWrapper(std::move(target)), part_(std::move(part)), failed_(std::move(failed)) {}
  const char* Name() const override { return "FailingRunFs"; }

  rocksdb::IOStatus NewWritableFile(const std::string& name, const rocksdb::FileOptions& options,
                                    std::unique_ptr<rocksdb::FSWritableFile>* file,
                                    rocksdb::IODebugContext* dbg) override {
    rocksdb::IOStatus s = target()->NewWritableFile(name, options, file, dbg);
    if (s.ok() && name.find(part_) != std::string::npos) *file = std::make_unique<File>(std::move(*file), failed_);
    return s;
  }

 private:
  class File : public rocksdb::FSWritableFileOwnerWrapper {
   public:
    File(std::unique_ptr<rocksdb::FSWritableFile> f, std::shared_ptr<std::atomic<int>> failed)
        : FSWritableFileOwnerWrapper(std::move(f)), failed_(std::move(failed)) {}
    rocksdb::IOStatus Append(const rocksdb::Slice&, const rocksdb::IOOptions&, rocksdb::IODebugContext*) override {
      ++*failed_;
      return rocksdb::IOStatus::IOError("injected: a run's write failed");
    }
    rocksdb::IOStatus Append(const rocksdb::Slice&, const rocksdb::IOOptions&, const rocksdb::DataVerificationInfo&,
                             rocksdb::IODebugContext*) override {
      ++*failed_;
      return rocksdb::IOStatus::IOError("injected: a run's write failed");
    }

   private:
    std::shared_ptr<std::atomic<int>> failed_;
  };
  std::string part_;
  std::shared_ptr<std::atomic<int>> failed_;
};

// Person streams of three events each, every one with a claim of its own.
AppendRequest Request(int i) {
  AppendRequest r;
  r.stream = "person-" + std::to_string(i);
  r.actor = {"op-1", "operator"};
  for (int e = 0; e < 3; ++e) r.events.push_back({"Something", 1, "body-" + std::to_string(e), "", Timestamp{kStart}});
  r.claims = {"swab/SW-" + std::to_string(1000 + i)};
  r.expected = ExpectedVersion::NoStream();
  return r;
}

void ExpectAFailedRunFailsTheImport(const std::string& run_file, uint64_t index_run_entries,
                                    uint64_t claim_run_entries) {
  TempDir dir;
  auto failed = std::make_shared<std::atomic<int>>(0);
  StoreOptions so;
  so.path = dir.Sub("db");
  so.master_key_path = dir.Sub("master.key");
  so.env = std::shared_ptr<rocksdb::Env>(
      rocksdb::NewCompositeEnv(std::make_shared<FailingRunFs>(rocksdb::FileSystem::Default(), run_file, failed)));
  auto store = EventStore::Open(so);
  ASSERT_TRUE(store) << store.error().message;
  ASSERT_TRUE((*store)->Append(Request(0)));  // before the import: kept
  const uint64_t before = (*store)->CommittedPosition();
  BulkImportOptions options;
  options.work_dir = dir.Sub("work");
  options.events_per_file = 4;
  options.index_run_entries = index_run_entries;
  options.claim_run_entries = claim_run_entries;
  {
    auto bulk = BulkImport::Begin(**store, options);
    ASSERT_TRUE(bulk) << bulk.error().message;
    // The first run goes to the pool and fails there; an Add after it, or the Commit,
    // answers the error.
    std::optional<StoreError> error;
    for (int i = 1; i <= 200 && !error; ++i) {
      auto added = (*bulk)->Add(Request(i), Timestamp{});  // recorded now
      if (!added) error = added.error();
    }
    auto committed = (*bulk)->Commit();
    ASSERT_FALSE(committed) << "a failed run was committed";
    if (!error) error = committed.error();
    EXPECT_NE(error->message.find("injected: a run's write failed"), std::string::npos) << error->message;
    EXPECT_NE(error->message.find(run_file), std::string::npos) << error->message;
  }
  EXPECT_GT(failed->load(), 0);
  EXPECT_FALSE(std::filesystem::exists(options.work_dir));
  // Nothing of the import: no event, no stream, no claim.
  EXPECT_EQ((*store)->CommittedPosition(), before);
  EXPECT_EQ((*store)->StreamVersion("person-1").value(), 0u);
  EXPECT_EQ((*store)->StreamVersion("person-200").value(), 0u);
  EXPECT_FALSE((*store)->ClaimOwner("swab/SW-1001").value().has_value());
  EXPECT_EQ(*(*store)->ClaimOwner("swab/SW-1000").value(), "person-0");
  // And the store takes appends after it.
  auto next = (*store)->Append(Request(1));
  ASSERT_TRUE(next) << next.error().message;
  EXPECT_EQ(next->first_position, before + 1);
}

TEST(BulkImportFaultTest, AClaimsRunFailingOnThePoolFailsTheWholeImport) {
  ExpectAFailedRunFailsTheImport("claim-run-", 1 << 20, 10);
}

TEST(BulkImportFaultTest, AnIndexRunFailingOnThePoolFailsTheWholeImport) {
  ExpectAFailedRunFailsTheImport("index-run-", 30, 1 << 20);
}

}  // namespace
}  // namespace caseledger::eventstore
