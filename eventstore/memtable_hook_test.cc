// The hashed memtable (memtable_hook.h) as a family of a RocksDB database uses it: RocksDB
// keeps it (a factory under the hash link list's own name is swapped for a skip list in a
// family without a prefix extractor), reads from it by whole key and in total order, calls
// the hook on a batch's first insert, and a database written with it opens again.
#include "eventstore/memtable_hook.h"

#include "eventstore/event_store.h"
#include "tests/support/temp_dir.h"

#include <gtest/gtest.h>
#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <vector>

namespace caseledger::eventstore {
namespace {

using caseledger::testing::TempDir;

struct HashedDb {
  std::unique_ptr<rocksdb::DB> db;
  std::vector<rocksdb::ColumnFamilyHandle*> handles;  // default, then the hashed family
  ~HashedDb() {
    for (auto* h : handles) db->DestroyColumnFamilyHandle(h);
  }
};

std::unique_ptr<HashedDb> OpenHashed(const std::string& path) {
  rocksdb::DBOptions o;
  o.create_if_missing = true;
  o.create_missing_column_families = true;
  o.allow_concurrent_memtable_write = false;
  rocksdb::ColumnFamilyOptions hashed;
  hashed.memtable_factory = NewHookedHashedFactory(64);  // few buckets: lists of several keys
  std::vector<rocksdb::ColumnFamilyDescriptor> families = {{rocksdb::kDefaultColumnFamilyName, {}},
                                                           {"hashed", hashed}};
  auto out = std::make_unique<HashedDb>();
  rocksdb::DB* raw = nullptr;
  rocksdb::Status s = rocksdb::DB::Open(o, path, families, &out->handles, &raw);
  EXPECT_TRUE(s.ok()) << s.ToString();
  if (!s.ok()) return nullptr;
  out->db.reset(raw);
  return out;
}

std::vector<std::string> Keys(int n) {
  std::vector<std::string> keys;
  for (int i = 0; i < n; ++i) keys.push_back("stream-" + std::to_string(i * 7919 % 1000));
  std::shuffle(keys.begin(), keys.end(), std::mt19937(29));
  return keys;
}

std::vector<std::pair<std::string, std::string>> ScanInOrder(rocksdb::DB& db, rocksdb::ColumnFamilyHandle* family) {
  std::vector<std::pair<std::string, std::string>> seen;
  std::unique_ptr<rocksdb::Iterator> it(db.NewIterator(rocksdb::ReadOptions(), family));
  for (it->SeekToFirst(); it->Valid(); it->Next()) seen.emplace_back(it->key().ToString(), it->value().ToString());
  EXPECT_TRUE(it->status().ok()) << it->status().ToString();
  return seen;
}

TEST(HashedMemtableTest, KeptByRocksDBReadByKeyAndInOrderAndReopened) {
  TempDir dir;
  const std::string path = dir.Sub("db");
  const std::vector<std::string> keys = Keys(300);
  std::map<std::string, std::string> expected;
  {
    auto opened = OpenHashed(path);
    ASSERT_TRUE(opened);
    rocksdb::DB& db = *opened->db;
    rocksdb::ColumnFamilyHandle* family = opened->handles[1];
    EXPECT_STREQ(db.GetOptions(family).memtable_factory->Name(), "CaseledgerHashedWholeKey");

    // Each key written twice, in random order: a Get finds the later value.
    for (int round = 0; round < 2; ++round) {
      for (const std::string& k : keys) {
        const std::string v = k + "@" + std::to_string(round);
        ASSERT_TRUE(db.Put(rocksdb::WriteOptions(), family, k, v).ok());
        expected[k] = v;
      }
    }
    ASSERT_TRUE(db.Delete(rocksdb::WriteOptions(), family, keys[0]).ok());
    expected.erase(keys[0]);
    std::string v;
    for (const auto& [k, want] : expected) {
      ASSERT_TRUE(db.Get(rocksdb::ReadOptions(), family, k, &v).ok()) << k;
      EXPECT_EQ(v, want);
    }
    EXPECT_TRUE(db.Get(rocksdb::ReadOptions(), family, keys[0], &v).IsNotFound());
    EXPECT_TRUE(db.Get(rocksdb::ReadOptions(), family, "stream-never", &v).IsNotFound());
    // The whole family in key order from the memtable (no prefix extractor: total order).
    const std::vector<std::pair<std::string, std::string>> in_order(expected.begin(), expected.end());
    EXPECT_EQ(ScanInOrder(db, family), in_order);

    // The hook fires once, before the batch's first insert, which is into the hashed family.
    int fired = 0;
    ArmMemtableInsertHook([](void* n) { ++*static_cast<int*>(n); }, &fired);
    rocksdb::WriteBatch batch;
    ASSERT_TRUE(batch.Put(family, "stream-hooked", "h").ok());
    ASSERT_TRUE(batch.Put(family, "stream-hooked-2", "h").ok());
    ASSERT_TRUE(db.Write(rocksdb::WriteOptions(), &batch).ok());
    DisarmMemtableInsertHook();
    EXPECT_EQ(fired, 1);
    expected["stream-hooked"] = expected["stream-hooked-2"] = "h";
  }
  {
    // Reopened: the OPTIONS file names the factory, and the WAL replays into a hashed
    // memtable; then flushed, the table file holds the same in order.
    auto opened = OpenHashed(path);
    ASSERT_TRUE(opened);
    rocksdb::DB& db = *opened->db;
    rocksdb::ColumnFamilyHandle* family = opened->handles[1];
    const std::vector<std::pair<std::string, std::string>> in_order(expected.begin(), expected.end());
    EXPECT_EQ(ScanInOrder(db, family), in_order);
    ASSERT_TRUE(db.Flush(rocksdb::FlushOptions(), family).ok());
    EXPECT_EQ(ScanInOrder(db, family), in_order);
    std::string v;
    ASSERT_TRUE(db.Get(rocksdb::ReadOptions(), family, keys[1], &v).ok());
    EXPECT_EQ(v, expected[keys[1]]);
  }
}

// The store's point-read families (heads, idempotency, claims) use it; the stream index and
// the log keep the skip list. Read from the OPTIONS file RocksDB writes for the store.
TEST(HashedMemtableTest, TheStoresPointReadFamiliesAreHashed) {
  TempDir dir;
  StoreOptions o;
  o.path = dir.Sub("db");
  {
    auto store = EventStore::Open(o);
    ASSERT_TRUE(store) << store.error().message;
  }
  std::string options_file;
  for (const auto& entry : std::filesystem::directory_iterator(o.path)) {
    const std::string name = entry.path().filename().string();
    if (name.rfind("OPTIONS-", 0) == 0 && name > std::filesystem::path(options_file).filename().string()) {
      options_file = entry.path().string();
    }
  }
  ASSERT_FALSE(options_file.empty());
  std::ifstream in(options_file);
  std::string line, family;
  std::map<std::string, std::string> factory_of;  // family -> memtable factory
  while (std::getline(in, line)) {
    if (line.rfind("[CFOptions \"", 0) == 0) family = line.substr(12, line.find('"', 12) - 12);
    const auto at = line.find("memtable_factory=");
    if (at != std::string::npos && !family.empty()) factory_of[family] = line.substr(at + 17);
  }
  for (const char* hashed : {"heads", "idempotency", "claims"}) {
    EXPECT_NE(factory_of[hashed].find("CaseledgerHashedWholeKey"), std::string::npos) << hashed << ": " << factory_of[hashed];
  }
  for (const char* listed : {"events", "streams"}) {
    EXPECT_NE(factory_of[listed].find("SkipListFactory"), std::string::npos) << listed << ": " << factory_of[listed];
  }
}

}  // namespace
}  // namespace caseledger::eventstore
