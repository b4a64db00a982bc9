// A store written by the previous format (caseledger-log-1: tests/data/store-format-1, made
// by `caseledger loadgen --sink store` of that release, 114 events, with its master key) opens with
// this one: its chain verifies, its personal data still opens (keys wrapped the old way),
// the marker moves to the current format, and new appends (keys wrapped the new way) sit
// beside the old records in one chain.
#include "eventstore/event_store.h"
#include "eventstore/record_format.h"

#include "tests/support/temp_dir.h"

#include <gtest/gtest.h>
#include <rocksdb/db.h>

#include <filesystem>

namespace caseledger::eventstore {
namespace {

namespace fs = std::filesystem;

constexpr uint64_t kFixtureEvents = 114;

std::string FormatMarker(const std::string& path) {
  rocksdb::DB* raw = nullptr;
  std::vector<std::string> names;
  EXPECT_TRUE(rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), path, &names).ok());
  std::vector<rocksdb::ColumnFamilyDescriptor> families;
  for (const auto& n : names) families.push_back({n, rocksdb::ColumnFamilyOptions()});
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  EXPECT_TRUE(rocksdb::DB::OpenForReadOnly(rocksdb::DBOptions(), path, families, &handles, &raw).ok());
  std::string value;
  EXPECT_TRUE(raw->Get(rocksdb::ReadOptions(), "format", &value).ok());
  for (auto* h : handles) raw->DestroyColumnFamilyHandle(h);
  delete raw;
  return value;
}

TEST(FormatUpgradeTest, APreviousFormatStoreOpensVerifiesAndTakesNewAppends) {
  caseledger::testing::TempDir dir;
  fs::copy(CASELEDGER_SOURCE_DIR "/tests/data/store-format-1", dir.path(), fs::copy_options::recursive);
  const std::string path = dir.Sub("store");
  ASSERT_EQ(FormatMarker(path), format::kPreviousFormatVersion);

  auto before = VerifyStore({path, {}, 1'000'000});
  ASSERT_TRUE(before);
  EXPECT_EQ(before->first_bad_position, 0u) << before->problem;
  EXPECT_EQ(before->events_checked, kFixtureEvents);

  StoreOptions o;
  o.path = path;
  o.master_key_path = dir.Sub("master.key");
  {
    auto store = EventStore::Open(o);
    ASSERT_TRUE(store) << store.error().message;
    ASSERT_EQ((*store)->CommittedPosition(), kFixtureEvents);

    // Every registered person's personal part opens with its old-style wrapped key.
    auto log = (*store)->ReadLog(1, kFixtureEvents);
    ASSERT_TRUE(log);
    int people = 0;
    for (const auto& e : *log) {
      if (e.type != "PersonRegistered") continue;
      auto stream = (*store)->ReadStream(e.stream, e.version, 1);
      ASSERT_TRUE(stream) << stream.error().message;
      ASSERT_EQ(stream->size(), 1u);
      EXPECT_EQ(stream->front().personal_form, domain::PersonalForm::kOpen) << e.stream;
      EXPECT_FALSE(stream->front().personal.empty()) << e.stream;
      EXPECT_EQ(stream->front().hash, e.hash);
      ++people;
    }
    EXPECT_GT(people, 0) << "the fixture should hold registrations";

    AppendRequest r;
    r.stream = "person-after-upgrade";
    r.expected = ExpectedVersion::NoStream();
    r.events.push_back({"TestEvent", 1, "body", "personal fields", domain::Timestamp{1'700'000'000'000'000}});
    auto appended = (*store)->Append(r);
    ASSERT_TRUE(appended) << appended.error().message;
    EXPECT_EQ(appended->first_position, kFixtureEvents + 1);
  }
  EXPECT_EQ(FormatMarker(path), format::kFormatVersion);

  auto after = VerifyStore({path, {}, 1'000'000});
  ASSERT_TRUE(after);
  EXPECT_EQ(after->first_bad_position, 0u) << after->problem;
  EXPECT_EQ(after->events_checked, kFixtureEvents + 1);

  auto store = EventStore::Open(o);  // the upgraded store opens again
  ASSERT_TRUE(store) << store.error().message;
  auto mine = (*store)->ReadStream("person-after-upgrade", 1, 10);
  ASSERT_TRUE(mine);
  ASSERT_EQ(mine->size(), 1u);
  EXPECT_EQ(mine->front().personal, "personal fields");
}

TEST(FormatUpgradeTest, AnUnknownFormatIsRefused) {
  caseledger::testing::TempDir dir;
  fs::copy(CASELEDGER_SOURCE_DIR "/tests/data/store-format-1", dir.path(), fs::copy_options::recursive);
  {
    rocksdb::DB* raw = nullptr;
    std::vector<std::string> names;
    ASSERT_TRUE(rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), dir.Sub("store"), &names).ok());
    std::vector<rocksdb::ColumnFamilyDescriptor> families;
    for (const auto& n : names) families.push_back({n, rocksdb::ColumnFamilyOptions()});
    std::vector<rocksdb::ColumnFamilyHandle*> handles;
    ASSERT_TRUE(rocksdb::DB::Open(rocksdb::DBOptions(), dir.Sub("store"), families, &handles, &raw).ok());
    ASSERT_TRUE(raw->Put(rocksdb::WriteOptions(), "format", "caseledger-log-99").ok());
    for (auto* h : handles) raw->DestroyColumnFamilyHandle(h);
    delete raw;
  }
  StoreOptions o;
  o.path = dir.Sub("store");
  auto store = EventStore::Open(o);
  ASSERT_FALSE(store);
  EXPECT_NE(store.error().message.find("caseledger-log-99"), std::string::npos) << store.error().message;
}

}  // namespace
}  // namespace caseledger::eventstore
