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

// The stream index's table, hashed by stream (the family's prefix extractor): a stream read
// as the store reads it (Seek to its first version, Next while the prefix holds, default
// ReadOptions: RocksDB's prefix mode) finds all its entries in order, whether in the
// memtable, in a table file or both, in buckets shared by several streams and in one that
// became a skip list (more than 256 entries); a point read finds an entry; a read in total
// order (total_order_seek, as the standby's seed reads) finds every entry in key order; the
// hook fires; a reopened database replays its WAL into it.
TEST(HashedMemtableTest, AStreamIndexHashedByStreamReadsEachStreamAndTheWholeInOrder) {
  TempDir dir;
  const std::string path = dir.Sub("db");
  auto open = [&] {
    rocksdb::DBOptions o;
    o.create_if_missing = true;
    o.create_missing_column_families = true;
    o.allow_concurrent_memtable_write = false;
    rocksdb::ColumnFamilyOptions index;
    index.prefix_extractor = NewStreamPrefixTransform();
    index.memtable_factory = NewHookedPrefixHashedFactory(8);  // few buckets: streams share them
    auto out = std::make_unique<HashedDb>();
    rocksdb::DB* raw = nullptr;
    rocksdb::Status s = rocksdb::DB::Open(o, path, {{rocksdb::kDefaultColumnFamilyName, {}}, {"index", index}},
                                          &out->handles, &raw);
    EXPECT_TRUE(s.ok()) << s.ToString();
    out->db.reset(raw);
    return out;
  };
  auto key = [](const std::string& stream, uint64_t version) {
    std::string k = stream + '\0';
    for (int shift = 56; shift >= 0; shift -= 8) k.push_back(static_cast<char>(version >> shift));
    return k;
  };
  // 40 streams of 1..12 versions (stream-7 of 300), each with a key seed (version 0),
  // written in random order, the first half flushed to a table file.
  std::vector<std::pair<std::string, uint64_t>> writes;
  for (int s = 0; s < 40; ++s) {
    const int versions = s == 7 ? 300 : 1 + s % 12;
    for (int v = 0; v <= versions; ++v) writes.emplace_back("stream-" + std::to_string(s), v);
  }
  std::shuffle(writes.begin(), writes.end(), std::mt19937(30));
  std::map<std::string, std::string> expected;
  auto read_stream = [](rocksdb::DB& db, rocksdb::ColumnFamilyHandle* family, const std::string& from) {
    std::vector<std::pair<std::string, std::string>> seen;
    const std::string prefix = from.substr(0, from.size() - 8);
    std::unique_ptr<rocksdb::Iterator> it(db.NewIterator(rocksdb::ReadOptions(), family));
    for (it->Seek(from); it->Valid() && it->key().starts_with(prefix); it->Next()) {
      seen.emplace_back(it->key().ToString(), it->value().ToString());
    }
    EXPECT_TRUE(it->status().ok()) << it->status().ToString();
    return seen;
  };
  auto check = [&](rocksdb::DB& db, rocksdb::ColumnFamilyHandle* family) {
    for (int s = 0; s < 40; ++s) {
      const std::string stream = "stream-" + std::to_string(s);
      std::vector<std::pair<std::string, std::string>> want;
      for (auto it = expected.lower_bound(key(stream, 0)); it != expected.end() && it->first.starts_with(stream + '\0'); ++it) {
        want.push_back(*it);
      }
      EXPECT_EQ(read_stream(db, family, key(stream, 0)), want) << stream;
      want.erase(want.begin());
      EXPECT_EQ(read_stream(db, family, key(stream, 1)), want) << stream;
    }
    std::string v;
    ASSERT_TRUE(db.Get(rocksdb::ReadOptions(), family, key("stream-7", 250), &v).ok());
    EXPECT_EQ(v, expected[key("stream-7", 250)]);
    EXPECT_TRUE(db.Get(rocksdb::ReadOptions(), family, key("stream-7", 301), &v).IsNotFound());
    std::vector<std::pair<std::string, std::string>> whole;
    rocksdb::ReadOptions total;
    total.total_order_seek = true;
    std::unique_ptr<rocksdb::Iterator> it(db.NewIterator(total, family));
    for (it->SeekToFirst(); it->Valid(); it->Next()) whole.emplace_back(it->key().ToString(), it->value().ToString());
    const std::vector<std::pair<std::string, std::string>> in_order(expected.begin(), expected.end());
    EXPECT_EQ(whole, in_order);
  };
  {
    auto opened = open();
    ASSERT_TRUE(opened && opened->db);
    rocksdb::DB& db = *opened->db;
    rocksdb::ColumnFamilyHandle* family = opened->handles[1];
    EXPECT_STREQ(db.GetOptions(family).memtable_factory->Name(), "CaseledgerHashedByPrefix");
    for (size_t i = 0; i < writes.size(); ++i) {
      const auto& [stream, version] = writes[i];
      const std::string value = "p" + std::to_string(i);
      ASSERT_TRUE(db.Put(rocksdb::WriteOptions(), family, key(stream, version), value).ok());
      expected[key(stream, version)] = value;
      if (i == writes.size() / 2) {
        ASSERT_TRUE(db.Flush(rocksdb::FlushOptions(), family).ok());
      }
    }
    check(db, family);
    int fired = 0;
    ArmMemtableInsertHook([](void* n) { ++*static_cast<int*>(n); }, &fired);
    rocksdb::WriteBatch batch;
    ASSERT_TRUE(batch.Put(family, key("stream-hooked", 1), "h").ok());
    ASSERT_TRUE(batch.Put(family, key("stream-3", 99), "h").ok());
    ASSERT_TRUE(db.Write(rocksdb::WriteOptions(), &batch).ok());
    DisarmMemtableInsertHook();
    EXPECT_EQ(fired, 1);
    expected[key("stream-hooked", 1)] = expected[key("stream-3", 99)] = "h";
    check(db, family);
  }
  auto reopened = open();  // the WAL's half replayed into the hashed memtable
  ASSERT_TRUE(reopened && reopened->db);
  check(*reopened->db, reopened->handles[1]);
}

// The store's point-read families (heads, idempotency, claims) use the whole-key hash table,
// the stream index the one hashed by stream, the log the skip list. Read from the OPTIONS
// file RocksDB writes for the store.
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
  std::map<std::string, std::string> factory_of;    // family -> memtable factory
  std::map<std::string, std::string> extractor_of;  // family -> prefix extractor
  while (std::getline(in, line)) {
    if (line.rfind("[CFOptions \"", 0) == 0) family = line.substr(12, line.find('"', 12) - 12);
    const auto at = line.find("memtable_factory=");
    if (at != std::string::npos && !family.empty()) factory_of[family] = line.substr(at + 17);
    const auto extractor = line.find_first_not_of(' ');  // not memtable_insert_with_hint_prefix_extractor
    if (extractor != std::string::npos && line.compare(extractor, 17, "prefix_extractor=") == 0 && !family.empty()) {
      extractor_of[family] = line.substr(extractor + 17);
    }
  }
  for (const char* hashed : {"heads", "idempotency", "claims"}) {
    EXPECT_NE(factory_of[hashed].find("CaseledgerHashedWholeKey"), std::string::npos) << hashed << ": " << factory_of[hashed];
  }
  EXPECT_NE(factory_of["streams"].find("CaseledgerHashedByPrefix"), std::string::npos) << factory_of["streams"];
  EXPECT_NE(extractor_of["streams"].find("CaseledgerStreamPrefix"), std::string::npos) << extractor_of["streams"];
  EXPECT_NE(factory_of["events"].find("SkipListFactory"), std::string::npos) << factory_of["events"];
}

}  // namespace
}  // namespace caseledger::eventstore
