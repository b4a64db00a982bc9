// Stores written by earlier formats (caseledger-log-1: tests/data/store-format-1,
// caseledger-log-2: tests/data/store-format-2; each made by `caseledger-loadgen --sink store`
// of its release, 114 events, with its master key) open with this one: the chain verifies,
// personal data still opens (keys and sealed parts of the old layouts), the marker moves to
// the current format, and new appends (layout 3-4 records with anchors every 16 positions,
// key seeds, short nonces, varint heads and index entries) run on in one chain that
// verifies and reads back, across the boundary, after a reopen.
#include "eventstore/event_store.h"
#include "eventstore/record_format.h"

#include "tests/support/temp_dir.h"
#include "tests/support/build_paths.h"

#include <gtest/gtest.h>
#include <rocksdb/db.h>

#include <filesystem>

namespace caseledger::eventstore {
namespace {

namespace fs = std::filesystem;

constexpr uint64_t kFixtureEvents = 114;  // both fixtures: the same loadgen flags
constexpr int kNewEvents = 41;             // appended after the upgrade

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

struct Fixture {
  const char* dir;
  const char* marker;
};

class FormatUpgradeTest : public ::testing::TestWithParam<Fixture> {};

TEST_P(FormatUpgradeTest, AnEarlierFormatStoreOpensVerifiesAndTakesNewAppends) {
  caseledger::testing::TempDir dir;
  fs::copy(std::string(caseledger::TestSourceDir() + "/tests/data/") + GetParam().dir, dir.path(),
           fs::copy_options::recursive);
  const std::string path = dir.Sub("store");
  ASSERT_EQ(FormatMarker(path), GetParam().marker);

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

    // More than one anchor's worth: the new records' hashes are recomputed from the anchor
    // at 128 or from the old records' stored hashes, and an old stream takes new events.
    AppendRequest r;
    r.stream = "person-after-upgrade";
    r.expected = ExpectedVersion::NoStream();
    for (int i = 0; i < kNewEvents - 1; ++i) {
      r.events.push_back({"TestEvent", 1, "body " + std::to_string(i), i % 3 == 0 ? "personal " + std::to_string(i) : "",
                          domain::Timestamp{1'700'000'000'000'000}});
    }
    auto appended = (*store)->Append(r);
    ASSERT_TRUE(appended) << appended.error().message;
    EXPECT_EQ(appended->first_position, kFixtureEvents + 1);
    AppendRequest old;
    old.stream = log->front().stream;
    old.events.push_back({"TestEvent", 1, "on an old stream", "", domain::Timestamp{1'700'000'000'000'000}});
    ASSERT_TRUE((*store)->Append(old));
  }
  EXPECT_EQ(FormatMarker(path), format::kFormatVersion);

  auto after = VerifyStore({path, {}, 1'000'000});
  ASSERT_TRUE(after);
  EXPECT_EQ(after->first_bad_position, 0u) << after->problem;
  EXPECT_EQ(after->events_checked, kFixtureEvents + kNewEvents);

  auto store = EventStore::Open(o);  // the upgraded store opens again (its tail verified)
  ASSERT_TRUE(store) << store.error().message;
  auto mine = (*store)->ReadStream("person-after-upgrade", 1, 100);
  ASSERT_TRUE(mine) << mine.error().message;
  ASSERT_EQ(mine->size(), static_cast<size_t>(kNewEvents - 1));
  auto log = (*store)->ReadLog(1, 1000);
  ASSERT_TRUE(log) << log.error().message;
  ASSERT_EQ(log->size(), kFixtureEvents + kNewEvents);
  for (size_t i = 1; i < log->size(); ++i) {
    ASSERT_EQ((*log)[i].prev_hash, (*log)[i - 1].hash) << "position " << i + 1;
  }
  for (const auto& e : *mine) {
    const int i = static_cast<int>(e.version) - 1;
    EXPECT_EQ(e.personal, i % 3 == 0 ? "personal " + std::to_string(i) : "") << e.version;
    // A stream read recomputes the hashes a log read does (records between anchors).
    EXPECT_EQ(e.hash, (*log)[e.position - 1].hash) << e.position;
    EXPECT_EQ(e.prev_hash, (*log)[e.position - 2].hash) << e.position;
  }
  EXPECT_EQ((*store)->Tip().hash, log->back().hash);
}

INSTANTIATE_TEST_SUITE_P(EarlierFormats, FormatUpgradeTest,
                         ::testing::Values(Fixture{"store-format-1", format::kFirstFormatVersion},
                                           Fixture{"store-format-2", format::kPreviousFormatVersion}),
                         [](const auto& info) { return std::string(info.param.dir).back() == '1' ? "Format1" : "Format2"; });

TEST(FormatUpgradeRefusalTest, AnUnknownFormatIsRefused) {
  caseledger::testing::TempDir dir;
  fs::copy(caseledger::TestSourceDir() + "/tests/data/store-format-2", dir.path(), fs::copy_options::recursive);
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
